package erphub.archive;

import java.io.ByteArrayInputStream;
import java.time.Duration;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.component.aws2.s3.AWS2S3Constants;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Scheduler;

import io.quarkus.runtime.annotations.RegisterForReflection;

import erphub.config.ErphubConfig;
import erphub.delivery.Delivery;
import erphub.pipeline.Archived;
import erphub.state.Fanout;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Small files this node has just archived, kept in memory for their destinations: each destination (and each retry)
 * reads the bytes from here instead of reading the archive back (an S3 GET per destination, each one signed, sent
 * and answered, for bytes that just went the other way). The archive stays the record and the source of everything
 * else: a file too large for the spool ({@code erphub.archive.spool.max-file-size}), one evicted to make room
 * ({@code max-bytes}, least recently used first) or kept too long ({@code ttl}), a delivery taken over by another
 * node, a replay, a download through the API. A file's bytes leave the spool when the file settles.
 * <p>
 * Only bytes that reached the archive and passed the checks get here (route {@code erphub-store}, after the ledger's
 * VALIDATED), so a delivery reads from the spool exactly what it would have read from the archive.
 */
@ApplicationScoped
@Named("archiveSpool")
@RegisterForReflection
public class ArchiveSpool {

    /** Files larger than this are never spooled (at most 64 MiB: one byte array each). */
    static final long LARGEST_POSSIBLE = 64L << 20;

    private final Cache<String, byte[]> spool;
    private final int largestFile;
    private final Counter fromSpool;
    private final Counter fromArchive;

    @Inject
    public ArchiveSpool(ErphubConfig config, MeterRegistry meters) {
        this(config.archive().spool().maxBytes().asLongValue(), config.archive().spool().maxFileSize().asLongValue(),
                config.archive().spool().ttl(), meters);
    }

    ArchiveSpool(long maxBytes, long maxFileSize, Duration ttl, MeterRegistry meters) {
        if (maxBytes > 0 && (ttl.isNegative() || ttl.isZero())) {
            throw new IllegalArgumentException("erphub.archive.spool.ttl must be positive, not " + ttl
                    + " (erphub.archive.spool.max-bytes=0 turns the spool off)");
        }
        this.largestFile = maxBytes <= 0 ? 0 : (int) Math.max(0, Math.min(Math.min(maxFileSize, maxBytes), LARGEST_POSSIBLE));
        this.spool = largestFile == 0 ? null
                : Caffeine.newBuilder()
                        .maximumWeight(maxBytes)
                        .<String, byte[]>weigher((key, bytes) -> bytes.length + key.length() + 64)
                        .expireAfterWrite(ttl)
                        // Expired files leave even when nothing else happens (an idle node gives the memory back).
                        .scheduler(Scheduler.systemScheduler())
                        .build();
        String description = "Reads of archived bytes (deliveries, replays, downloads): from this node's spool of small"
                + " files just archived, or from the archive";
        this.fromSpool = Counter.builder("erphub.archive.reads").tag("source", "spool").description(description)
                .register(meters);
        this.fromArchive = Counter.builder("erphub.archive.reads").tag("source", "archive").description(description)
                .register(meters);
    }

    /**
     * The largest file worth keeping a copy of while it is archived (0: none). A file whose list entry or response
     * announces more is not copied at all.
     */
    public int largestFile() {
        return largestFile;
    }

    /** Route {@code erphub-store}: the file goes to its destinations; a small one's bytes are kept for them. */
    public void keep(Exchange exchange) {
        Fanout fanout = exchange.getIn().getBody(Fanout.class);
        Archived archived = exchange.getProperty(erphub.pipeline.ArchiveSteps.ARCHIVED, Archived.class);
        if (spool != null && fanout != null && archived != null && archived.whole() != null
                && !fanout.claims().isEmpty()) {
            spool.put(archived.key(), archived.whole());
        }
    }

    /**
     * Route {@code erphub-archive-read}: the body becomes the spooled bytes of the archive key in the header
     * {@code CamelAwsS3Key}, or null when this node has not spooled them (the route then reads the archive).
     */
    @Produces
    @Named("archiveSpoolRead")
    Processor read() {
        return exchange -> {
            String key = exchange.getIn().getHeader(AWS2S3Constants.KEY, String.class);
            byte[] bytes = spool == null || key == null ? null : spool.getIfPresent(key);
            if (bytes == null) {
                fromArchive.increment();
                exchange.getIn().setBody(null);
            } else {
                fromSpool.increment();
                exchange.getIn().setBody(new ByteArrayInputStream(bytes));
            }
        };
    }

    /** A delivery settled its file (delivered everywhere, or dead somewhere): no destination reads it from here again. */
    public void release(Exchange exchange) {
        Delivery delivery = exchange.getProperty("delivery", Delivery.class);
        if (spool != null && delivery != null) {
            spool.invalidate(delivery.getArchiveKey());
        }
    }

    /** The bytes held now, after pending evictions (tests). */
    long heldBytes() {
        if (spool == null) {
            return 0;
        }
        spool.cleanUp();
        return spool.policy().eviction().orElseThrow().weightedSize().orElseThrow();
    }
}
