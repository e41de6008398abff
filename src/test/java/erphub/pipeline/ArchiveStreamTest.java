package erphub.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

import erphub.testing.BesideTheApplication;

/** The copy the archive step keeps for the spool: the whole file up to its limit, nothing beyond. */
@BesideTheApplication
class ArchiveStreamTest {

    @Test
    void aFileOfExactlyTheLimitIsKeptWholeAndOneByteMoreIsNotKeptAtAll() throws IOException {
        byte[] exact = new byte[4096];
        Arrays.fill(exact, (byte) 'x');
        assertArrayEquals(exact, pass(exact, 4096).whole());
        ArchiveStream.Result over = pass(Arrays.copyOf(exact, 4097), 4096);
        assertNull(over.whole());
        assertEquals(4097, over.bytes(), "still archived, counted and hashed: only not copied");
        assertNull(pass(exact, 0).whole(), "spool off");
        assertArrayEquals(new byte[0], pass(new byte[0], 4096).whole(), "an empty file is an empty copy");
    }

    private static ArchiveStream.Result pass(byte[] content, int keepWhole) throws IOException {
        ArchiveStream stream = new ArchiveStream(new ByteArrayInputStream(content), null, 1 << 20, false, null, keepWhole);
        stream.transferTo(OutputStream.nullOutputStream());
        return stream.result();
    }
}
