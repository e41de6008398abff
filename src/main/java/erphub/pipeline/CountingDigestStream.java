package erphub.pipeline;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Passes a download through while counting its bytes and computing its checksum, and stops it the
 * moment it grows past the limit: a file over the size limit never reaches the archive whole.
 */
final class CountingDigestStream extends FilterInputStream {

    private final MessageDigest digest;
    private final long limit;
    private long count;

    CountingDigestStream(InputStream in, String algorithm, long limit) {
        super(in);
        try {
            this.digest = MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalArgumentException("unknown checksum algorithm " + algorithm, e);
        }
        this.limit = limit;
    }

    /** Thrown from a read once the limit is passed; the archive write fails with it. */
    static final class LimitExceeded extends IOException {
        LimitExceeded(long limit) {
            super("file is larger than the limit of " + limit + " bytes");
        }
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
            digest.update((byte) b);
            add(1);
        }
        return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
        int n = super.read(buf, off, len);
        if (n > 0) {
            digest.update(buf, off, n);
            add(n);
        }
        return n;
    }

    private void add(long n) throws LimitExceeded {
        count += n;
        if (count > limit) {
            throw new LimitExceeded(limit);
        }
    }

    long count() {
        return count;
    }

    String hex() {
        return HexFormat.of().formatHex(digest.digest());
    }

    @Override
    public boolean markSupported() {
        return false;
    }
}
