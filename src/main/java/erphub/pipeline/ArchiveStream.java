package erphub.pipeline;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;

/**
 * The bytes of a file on their way into the archive, looked at once as they pass: counted, hashed (SHA-256
 * for the ledger, and the upstream's own algorithm when it declares another), stopped the moment they pass the
 * size limit, the first bytes kept for a CSV header check, and fed to a streaming JSON parser when the
 * upstream wants well-formed JSON. Nothing is read twice, and nothing is held whole in memory but a small file
 * for the spool its destinations read it from ({@code keepWhole}: its bytes while they stay within that size).
 */
final class ArchiveStream extends FilterInputStream {

    static final String SHA_256 = "SHA-256";
    static final int HEAD_BYTES = 64 * 1024;

    /** Thrown from a read once the limit is passed; the archive write fails with it and the file is REJECTED. */
    static final class LimitExceeded extends IOException {
        LimitExceeded(long limit) {
            super("file is over the limit of " + limit + " bytes");
        }
    }

    /** Reading from the source failed (the upstream broke off): not the archive's fault. */
    static final class SourceFailed extends IOException {
        SourceFailed(IOException cause) {
            super("reading the download failed: " + cause.getMessage(), cause);
        }
    }

    /** What the bytes were, computed once when the stream has ended. */
    record Result(long bytes, String sha256, String declaredAlgorithmHex, byte[] head, String jsonProblem, byte[] whole) {
    }

    private final MessageDigest sha256;
    private final MessageDigest declared;
    private final long limit;
    private final boolean keepHead;
    private final JsonCheck json;
    private final int keepWhole;
    private java.io.ByteArrayOutputStream whole;
    private byte[] head = new byte[0];
    private long count;
    private Result result;

    ArchiveStream(InputStream in, String declaredAlgorithm, long limit, boolean keepHead, JsonFactory jsonOrNull,
            int keepWhole) {
        super(in);
        this.keepWhole = keepWhole;
        this.whole = keepWhole > 0 ? new java.io.ByteArrayOutputStream(Math.min(keepWhole, 16 * 1024)) : null;
        this.sha256 = digest(SHA_256);
        this.declared = declaredAlgorithm == null || declaredAlgorithm.equalsIgnoreCase(SHA_256) ? null
                : digest(declaredAlgorithm);
        this.limit = limit;
        this.keepHead = keepHead;
        this.json = jsonOrNull == null ? null : new JsonCheck(jsonOrNull);
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalArgumentException("unknown checksum algorithm " + algorithm, e);
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n <= 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
        int n;
        try {
            n = super.read(buf, off, len);
        } catch (IOException e) {
            throw new SourceFailed(e);
        }
        if (n > 0) {
            sha256.update(buf, off, n);
            if (declared != null) {
                declared.update(buf, off, n);
            }
            if (keepHead && head.length < HEAD_BYTES) {
                int keep = (int) Math.min(n, HEAD_BYTES - head.length);
                int at = head.length;
                head = Arrays.copyOf(head, at + keep);
                System.arraycopy(buf, off, head, at, keep);
            }
            if (json != null) {
                json.feed(buf, off, n);
            }
            count += n;
            if (whole != null) {
                if (count > keepWhole) {
                    whole = null; // too large for the spool: streamed only
                } else {
                    whole.write(buf, off, n);
                }
            }
            if (count > limit) {
                throw new LimitExceeded(limit);
            }
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        // Every byte must pass the digest: skipping is reading.
        return read(new byte[(int) Math.min(n, 8192)], 0, (int) Math.min(n, 8192));
    }

    long count() {
        return count;
    }

    /** The result, computed once: a digest can be finished only once, so it is never asked twice. */
    Result result() {
        if (result == null) {
            HexFormat hex = HexFormat.of();
            result = new Result(count, hex.formatHex(sha256.digest()), declared == null ? null : hex.formatHex(declared.digest()),
                    head, json == null ? null : json.finish(), whole == null ? null : whole.toByteArray());
            whole = null;
        }
        return result;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    /** Jackson's non-blocking parser fed with the bytes as they pass: well-formed, exactly one value. */
    private static final class JsonCheck {
        private final JsonParser parser;
        private String problem;
        private int depth;
        private int values;

        JsonCheck(JsonFactory factory) {
            try {
                this.parser = factory.createNonBlockingByteArrayParser();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        void feed(byte[] buf, int off, int len) {
            if (problem != null) {
                return;
            }
            try {
                ((ByteArrayFeeder) parser.getNonBlockingInputFeeder()).feedInput(buf, off, off + len);
                drain();
            } catch (IOException e) {
                problem = describe(e);
            }
        }

        String finish() {
            if (problem == null) {
                try {
                    ((ByteArrayFeeder) parser.getNonBlockingInputFeeder()).endOfInput();
                    drain();
                    if (values == 0) {
                        problem = "not JSON: the file is empty";
                    } else if (depth != 0) {
                        problem = "not JSON: the file ends inside a value";
                    }
                } catch (IOException e) {
                    problem = describe(e);
                }
            }
            return problem;
        }

        private void drain() throws IOException {
            JsonToken token;
            while ((token = parser.nextToken()) != null && token != JsonToken.NOT_AVAILABLE) {
                if (depth == 0 && values == 1) {
                    problem = "not JSON: more than one value at line " + parser.currentLocation().getLineNr();
                    return;
                }
                if (token.isStructStart()) {
                    depth++;
                } else if (token.isStructEnd()) {
                    depth--;
                }
                if (depth == 0) {
                    values++;
                }
            }
        }

        private static String describe(IOException e) {
            if (e instanceof JsonParseException p) {
                return "not JSON: " + p.getOriginalMessage() + " at line " + p.getLocation().getLineNr() + ", column "
                        + p.getLocation().getColumnNr();
            }
            return "not JSON: " + e.getMessage();
        }
    }
}
