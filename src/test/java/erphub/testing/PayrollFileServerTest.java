package erphub.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import erphub.testing.PayrollFileServer.GeneratedFile;

/**
 * {@link PayrollFileServer#mismatch} is how PipelineIT checks its 384 MiB arrived whole: it must find a changed, a
 * missing and an extra byte, not only agree.
 */
@BesideTheApplication
class PayrollFileServerTest {

    @Test
    void aGeneratedFileMatchesItsCopyAndNotOneWithAByteChangedMissingOrAdded() throws Exception {
        long size = 3 * (1 << 20) + 12345;
        GeneratedFile f = new GeneratedFile("t", "mismatch-1", "mismatch-1.bin", size, null);
        byte[] bytes;
        try (InputStream in = PayrollFileServer.content(f.id(), size)) {
            bytes = in.readAllBytes();
        }
        Path dir = TestServers.scratchDir("mismatch-");
        Path copy = Files.write(dir.resolve("copy"), bytes);
        assertEquals(-1, PayrollFileServer.mismatch(f, copy));

        long at = 2 * (1 << 20) + 7;
        bytes[(int) at] ^= 1;
        assertEquals(at, PayrollFileServer.mismatch(f, Files.write(dir.resolve("changed"), bytes)));
        bytes[(int) at] ^= 1;

        assertEquals(size - 1, PayrollFileServer.mismatch(f,
                Files.write(dir.resolve("short"), java.util.Arrays.copyOf(bytes, bytes.length - 1))));
        assertEquals(size, PayrollFileServer.mismatch(f,
                Files.write(dir.resolve("long"), java.util.Arrays.copyOf(bytes, bytes.length + 1))));
        assertEquals(1 << 20, PayrollFileServer.mismatch(f,
                Files.write(dir.resolve("a-mebibyte"), java.util.Arrays.copyOf(bytes, 1 << 20))));
    }
}
