package erphub.crypto;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;
import org.bouncycastle.bcpg.sig.KeyFlags;
import org.bouncycastle.openpgp.PGPEncryptedDataGenerator;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPLiteralData;
import org.bouncycastle.openpgp.PGPLiteralDataGenerator;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSecretKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureSubpacketVector;
import org.bouncycastle.openpgp.PGPUtil;
import org.bouncycastle.openpgp.bc.BcPGPObjectFactory;
import org.bouncycastle.openpgp.operator.bc.BcPGPDataEncryptorBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPublicKeyKeyEncryptionMethodGenerator;

import erphub.pipeline.FileNames;

/**
 * OpenPGP encryption of archived bytes for one recipient's public key (a tenant's, named in the registry by
 * reference as {@code destinations.sftp.pgpPublicKey}). The result is what {@code gpg --decrypt} reads: a
 * public-key encrypted session key, AES-256 with an integrity packet (MDC), uncompressed binary literal data
 * (SSH compresses on the wire where wanted). Encryption is a pull-through stream: each read encrypts the next
 * chunk of the source, so memory stays at a few buffers whatever the file's size, and no thread is involved.
 * The encrypted file is named {@link #encryptedName(String) name.pgp}.
 */
public final class PgpEncryption {

    public static final String SUFFIX = ".pgp";

    /** Bytes read from the source per step; the encryptor's packet buffer is {@link #PACKET_BUFFER}. */
    private static final int CHUNK = 16 * 1024;
    /** Partial-length packets of this size (a power of two, as OpenPGP requires), so no length is needed up front. */
    private static final int PACKET_BUFFER = 1 << 16;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final PGPPublicKey key;
    private final String fingerprint;
    /** When the key stops being usable (its own or its primary key's expiry), if ever. */
    private final Optional<Instant> expires;

    private PgpEncryption(PGPPublicKey key, Optional<Instant> expires) {
        this.key = key;
        this.fingerprint = HexFormat.of().withUpperCase().formatHex(key.getFingerprint());
        this.expires = expires;
    }

    /** Whether files may still be encrypted to this key at that time (it has not expired by then). */
    public boolean usableAt(Instant when) {
        return expires.map(when::isBefore).orElse(true);
    }

    /**
     * Reads one OpenPGP public key (ASCII-armored or binary) and picks its key for encryption: a subkey or
     * primary key that may encrypt, is neither revoked nor expired, the newest of them.
     *
     * @throws IllegalArgumentException with the reason, never with key material, when the text is not one
     *         usable public key (also when it is a secret key: those never belong in erphub's configuration)
     */
    public static PgpEncryption forPublicKey(String key) {
        if (key == null || key.isBlank()) {
            throw new IllegalArgumentException("no key (empty)");
        }
        // A decoder reads the first armored block only: a second key after it would go unnoticed.
        int blocks = key.split("-----BEGIN PGP ", -1).length - 1;
        if (blocks > 1) {
            throw new IllegalArgumentException("holds " + blocks + " keys: name exactly one recipient's key");
        }
        return forPublicKey(key.strip().getBytes(StandardCharsets.UTF_8));
    }

    /** As {@link #forPublicKey(String)}, for a binary or armored key file's bytes. */
    public static PgpEncryption forPublicKey(byte[] key) {
        List<Object> found = new ArrayList<>();
        try (InputStream in = PGPUtil.getDecoderStream(new ByteArrayInputStream(key))) {
            BcPGPObjectFactory objects = new BcPGPObjectFactory(in);
            for (Object o = objects.nextObject(); o != null; o = objects.nextObject()) {
                found.add(o);
            }
        } catch (IOException | RuntimeException e) {
            // Parser messages may quote what they could not read; the input is never repeated.
            throw new IllegalArgumentException("is not an OpenPGP public key (it does not parse)");
        }
        List<PGPPublicKeyRing> rings = new ArrayList<>();
        for (Object o : found) {
            if (o instanceof PGPSecretKeyRing) {
                throw new IllegalArgumentException("is a secret (private) key: give the recipient's public key only,"
                        + " and keep the secret key out of erphub's configuration");
            }
            if (!(o instanceof PGPPublicKeyRing ring)) {
                throw new IllegalArgumentException("is not an OpenPGP public key (found " + o.getClass().getSimpleName() + ")");
            }
            rings.add(ring);
        }
        if (rings.isEmpty()) {
            throw new IllegalArgumentException("is not an OpenPGP public key (no key found)");
        }
        if (rings.size() > 1) {
            throw new IllegalArgumentException("holds " + rings.size() + " keys: name exactly one recipient's key");
        }
        PGPPublicKeyRing ring = rings.get(0);
        PGPPublicKey chosen = encryptionKey(ring);
        Optional<Instant> expires = Stream.of(expiry(ring.getPublicKey()), expiry(chosen)).flatMap(Optional::stream)
                .min(Instant::compareTo);
        return new PgpEncryption(chosen, expires);
    }

    private static PGPPublicKey encryptionKey(PGPPublicKeyRing ring) {
        PGPPublicKey primary = ring.getPublicKey();
        if (primary.hasRevocation()) {
            throw new IllegalArgumentException("is revoked (key " + hex(primary.getFingerprint()) + ")");
        }
        if (expired(primary)) {
            throw new IllegalArgumentException("expired on " + expiry(primary).orElseThrow() + " (key "
                    + hex(primary.getFingerprint()) + ")");
        }
        PGPPublicKey best = null;
        List<String> unusable = new ArrayList<>();
        for (Iterator<PGPPublicKey> keys = ring.getPublicKeys(); keys.hasNext();) {
            PGPPublicKey candidate = keys.next();
            String id = Long.toHexString(candidate.getKeyID()).toUpperCase();
            if (!candidate.isEncryptionKey() || !flagsAllowEncryption(candidate, primary)) {
                continue;
            }
            if (candidate.hasRevocation()) {
                unusable.add("encryption key " + id + " is revoked");
            } else if (expired(candidate)) {
                unusable.add("encryption key " + id + " expired on " + expiry(candidate).orElseThrow());
            } else if (best == null || candidate.getCreationTime().after(best.getCreationTime())) {
                best = candidate;
            }
        }
        if (best == null) {
            throw new IllegalArgumentException("has no key usable for encryption"
                    + (unusable.isEmpty() ? " (a signing-only key?)" : ": " + String.join(", ", unusable)));
        }
        return best;
    }

    /** Key flags, where the key's self-signatures state them, must allow encrypting; keys without flags may. */
    private static boolean flagsAllowEncryption(PGPPublicKey key, PGPPublicKey primary) {
        Integer flags = null;
        Iterator<PGPSignature> signatures = key == primary ? key.getSignatures()
                : key.getSignaturesOfType(PGPSignature.SUBKEY_BINDING);
        while (signatures.hasNext()) {
            PGPSignature signature = signatures.next();
            if (signature.getKeyID() != primary.getKeyID()) {
                continue;
            }
            PGPSignatureSubpacketVector hashed = signature.getHashedSubPackets();
            if (hashed != null && hashed.getKeyFlags() != 0) {
                flags = (flags == null ? 0 : flags) | hashed.getKeyFlags();
            }
        }
        return flags == null || (flags & (KeyFlags.ENCRYPT_COMMS | KeyFlags.ENCRYPT_STORAGE)) != 0;
    }

    private static Optional<Instant> expiry(PGPPublicKey key) {
        long valid = key.getValidSeconds();
        return valid <= 0 ? Optional.empty() : Optional.of(key.getCreationTime().toInstant().plusSeconds(valid));
    }

    private static boolean expired(PGPPublicKey key) {
        return expiry(key).map(e -> !e.isAfter(Instant.now())).orElse(false);
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().withUpperCase().formatHex(bytes);
    }

    /** The fingerprint of the key files are encrypted to (for logs and the ledger; not a secret). */
    public String fingerprint() {
        return fingerprint;
    }

    /** When the encryption key expires, if it does. */
    public Optional<Instant> expiresAt() {
        return expiry(key);
    }

    /**
     * The encrypted stream of {@code plain}, produced as it is read. Closing it closes {@code plain}.
     *
     * @param fileName kept inside the encrypted data (the literal packet), as gpg does; omitted if longer than
     *        OpenPGP allows
     */
    public InputStream encrypt(InputStream plain, String fileName) {
        Objects.requireNonNull(plain, "plain");
        try {
            return new EncryptingInputStream(plain, key, fileName);
        } catch (IOException | PGPException e) {
            throw new IllegalStateException("cannot start OpenPGP encryption: " + e.getMessage(), e);
        }
    }

    /**
     * The name an encrypted file is delivered under: {@code payroll.csv} becomes {@code payroll.csv.pgp}.
     *
     * @throws IllegalArgumentException if the result would be longer than a file name may be
     */
    public static String encryptedName(String name) {
        String encrypted = name + SUFFIX;
        if (encrypted.length() > FileNames.MAX_LENGTH) {
            throw new IllegalArgumentException("the encrypted file name would be longer than " + FileNames.MAX_LENGTH
                    + " characters (" + encrypted.length() + ")");
        }
        return encrypted;
    }

    @Override
    public String toString() {
        return "PgpEncryption[" + fingerprint + "]";
    }

    /**
     * Pulls a chunk from the source through the literal-data and encrypted-data generators into a small buffer
     * whenever the reader has consumed the previous output; at the source's end it closes the generators, which
     * writes the last partial packet and the integrity packet.
     */
    private static final class EncryptingInputStream extends InputStream {

        private final InputStream source;
        private final Output output = new Output();
        private final OutputStream encrypted;
        private final OutputStream literal;
        private final byte[] chunk = new byte[CHUNK];
        private int position;
        private boolean finished;

        EncryptingInputStream(InputStream source, PGPPublicKey key, String fileName) throws IOException, PGPException {
            this.source = source;
            PGPEncryptedDataGenerator encryptor = new PGPEncryptedDataGenerator(
                    new BcPGPDataEncryptorBuilder(SymmetricKeyAlgorithmTags.AES_256).setWithIntegrityPacket(true)
                            .setSecureRandom(RANDOM));
            encryptor.addMethod(new BcPublicKeyKeyEncryptionMethodGenerator(key).setSecureRandom(RANDOM));
            this.encrypted = encryptor.open(output, new byte[PACKET_BUFFER]);
            String name = fileName == null || fileName.getBytes(StandardCharsets.UTF_8).length > 255 ? "" : fileName;
            this.literal = new PGPLiteralDataGenerator().open(encrypted, PGPLiteralData.BINARY, name, new Date(),
                    new byte[PACKET_BUFFER]);
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            while (position == output.size()) {
                if (finished) {
                    return -1;
                }
                output.reset();
                position = 0;
                int n = source.read(chunk);
                if (n < 0) {
                    literal.close();
                    encrypted.close();
                    finished = true;
                } else if (n > 0) {
                    literal.write(chunk, 0, n);
                }
            }
            int n = Math.min(len, output.size() - position);
            System.arraycopy(output.bytes(), position, b, off, n);
            position += n;
            return n;
        }

        @Override
        public int available() {
            return output.size() - position;
        }

        @Override
        public void close() throws IOException {
            source.close();
        }
    }

    /** The encryptor's output between two reads: at most one packet buffer plus one chunk. */
    private static final class Output extends ByteArrayOutputStream {
        Output() {
            super(PACKET_BUFFER + CHUNK + 1024);
        }

        byte[] bytes() {
            return buf;
        }

        @Override
        public void close() {
            // The generators close their target when they finish; this buffer is read after that.
        }
    }
}
