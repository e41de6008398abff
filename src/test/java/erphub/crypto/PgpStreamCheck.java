package erphub.crypto;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.security.MessageDigest;
import java.util.HexFormat;

import erphub.testing.PgpTestKeys;
import erphub.testing.PgpTestKeys.Decrypted;
import erphub.testing.PgpTestKeys.TestKey;

/**
 * Encrypts and decrypts a generated stream of the given size in MiB, in a JVM of its own (PgpEncryptionTest starts
 * it with a heap much smaller than the stream), and prints the digests of what went in and what came out.
 */
public final class PgpStreamCheck {

    public static void main(String[] args) throws Exception {
        long size = Long.parseLong(args[0]) * 1024 * 1024;
        TestKey key = PgpTestKeys.recipient("stream-check@example.com");
        Generated plain = new Generated(size);
        MessageDigest out = MessageDigest.getInstance("SHA-256");
        long count = 0;
        Decrypted decrypted;
        try (InputStream encrypted = PgpEncryption.forPublicKey(key.armoredPublicKey()).encrypt(plain, "large.bin")) {
            decrypted = key.decrypt(encrypted);
            byte[] buffer = new byte[32 * 1024];
            for (int n; (n = decrypted.content().read(buffer)) >= 0;) {
                out.update(buffer, 0, n);
                count += n;
            }
        }
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        System.out.println("plain=" + HexFormat.of().formatHex(plain.digest.digest())
                + " decrypted=" + HexFormat.of().formatHex(out.digest()) + " bytes=" + count
                + " integrity=" + decrypted.verifiedIntegrity() + " maxHeapMiB=" + Runtime.getRuntime().maxMemory() / (1 << 20)
                + " peakHeapMiB=" + peak / (1 << 20));
    }

    /** Pseudo-random bytes made as they are read (xorshift), digested on the way. */
    static final class Generated extends InputStream {
        final MessageDigest digest;
        long remaining;
        long state = 0x9E3779B97F4A7C15L;

        Generated(long size) throws Exception {
            this.remaining = size;
            this.digest = MessageDigest.getInstance("SHA-256");
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (remaining == 0) {
                return -1;
            }
            int n = (int) Math.min(len, remaining);
            for (int i = 0; i < n; i++) {
                if ((i & 7) == 0) {
                    state ^= state << 13;
                    state ^= state >>> 7;
                    state ^= state << 17;
                }
                b[off + i] = (byte) (state >>> ((i & 7) * 8));
            }
            digest.update(b, off, n);
            remaining -= n;
            return n;
        }
    }
}
