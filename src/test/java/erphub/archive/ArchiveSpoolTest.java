package erphub.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.apache.camel.Exchange;
import org.apache.camel.component.aws2.s3.AWS2S3Constants;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import erphub.delivery.Delivery;
import erphub.pipeline.ArchiveSteps;
import erphub.pipeline.Archived;
import erphub.state.DeliveryLedger.DeliveryClaim;
import erphub.state.Fanout;
import erphub.state.FileKey;
import erphub.state.FileRecord;
import erphub.state.FileState;
import erphub.testing.BesideTheApplication;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The spool's bounds: what it keeps, what it refuses, how much memory it may hold, and when a file leaves it. */
@BesideTheApplication
class ArchiveSpoolTest {

    private final DefaultCamelContext camel = new DefaultCamelContext();

    @Test
    void aDeliveryReadsTheBytesKeptForItsFileAndTheArchiveOnceTheFileSettled() throws Exception {
        ArchiveSpool spool = new ArchiveSpool(1 << 20, 1 << 16, Duration.ofMinutes(5), new SimpleMeterRegistry());
        byte[] bytes = "tenant-a,invoice,4711\n".getBytes();
        spool.keep(stored(1, bytes, true));
        assertArrayEquals(bytes, read(spool, key(1)));
        assertArrayEquals(bytes, read(spool, key(1)), "a second destination or a retry reads the same bytes");
        assertNull(read(spool, key(2)), "another file's key is not this file's bytes");

        Exchange settled = new DefaultExchange(camel);
        settled.setProperty("delivery", new Delivery(new DeliveryClaim(1, "erp-api", 1), record(1)));
        spool.release(settled);
        assertNull(read(spool, key(1)), "after the file settled, a replay reads the archive");
    }

    @Test
    void filesWithoutDeliveriesAndFilesNotCopiedAreNotKept() throws Exception {
        ArchiveSpool spool = new ArchiveSpool(1 << 20, 1 << 16, Duration.ofMinutes(5), new SimpleMeterRegistry());
        spool.keep(stored(1, new byte[10], false));
        spool.keep(stored(2, null, true));
        assertNull(read(spool, key(1)));
        assertNull(read(spool, key(2)));
        assertNull(read(spool, null), "no key, no spool");
    }

    @Test
    void theSpoolNeverHoldsMoreThanItsBytesHowEverManyFilesPassAndOffMeansOff() throws Exception {
        long maxBytes = 64 * 1024;
        ArchiveSpool spool = new ArchiveSpool(maxBytes, 16 * 1024, Duration.ofMinutes(5), new SimpleMeterRegistry());
        assertEquals(16 * 1024, spool.largestFile());
        for (int i = 1; i <= 500; i++) {
            spool.keep(stored(i, new byte[10 * 1024], true));
        }
        long held = spool.heldBytes();
        assertTrue(held <= maxBytes && held > maxBytes / 2, "held " + held + " of " + maxBytes);

        ArchiveSpool off = new ArchiveSpool(0, 16 * 1024, Duration.ofMinutes(5), new SimpleMeterRegistry());
        assertEquals(0, off.largestFile());
        off.keep(stored(1, new byte[10], true));
        assertNull(read(off, key(1)));
        // A file size over the memory bound is capped by it, and a huge setting by one byte array's worth.
        assertEquals(1000, new ArchiveSpool(1000, 1L << 40, Duration.ofMinutes(5), new SimpleMeterRegistry()).largestFile());
        assertEquals(ArchiveSpool.LARGEST_POSSIBLE, new ArchiveSpool(1L << 40, 1L << 40, Duration.ofMinutes(5),
                new SimpleMeterRegistry()).largestFile());
    }

    @Test
    void aTtlThatIsNotPositiveIsRefusedWithTheSettingsName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ArchiveSpool(1 << 20, 1 << 16, Duration.ofSeconds(-1), new SimpleMeterRegistry()));
        assertTrue(e.getMessage().contains("erphub.archive.spool.ttl"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new ArchiveSpool(1 << 20, 1 << 16, Duration.ZERO, new SimpleMeterRegistry()));
    }

    private static String key(long id) {
        return "acme/payroll-exports/2026/12/07/" + id;
    }

    private static FileRecord record(long id) {
        return new FileRecord(id, new FileKey("acme", "payroll-exports", "r-" + id, "1"), "a.csv", 3L, null,
                FileState.VALIDATED, 1, "n", null, key(id), null, Instant.now(), Instant.now(), null);
    }

    private Exchange stored(long id, byte[] whole, boolean withDeliveries) {
        Exchange x = new DefaultExchange(camel);
        x.setProperty(ArchiveSteps.ARCHIVED, new Archived(key(id), whole == null ? 10 : whole.length, "00", "", null,
                null, whole));
        x.getIn().setBody(new Fanout(record(id), withDeliveries ? List.of(new DeliveryClaim(id, "erp-api", 1)) : List.of()));
        return x;
    }

    private byte[] read(ArchiveSpool spool, String key) throws Exception {
        Exchange x = new DefaultExchange(camel);
        x.getIn().setBody("the delivery");
        x.getIn().setHeader(AWS2S3Constants.KEY, key);
        spool.read().process(x);
        InputStream in = x.getIn().getBody(InputStream.class);
        return in == null ? null : in.readAllBytes();
    }
}
