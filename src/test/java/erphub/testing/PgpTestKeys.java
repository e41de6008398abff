package erphub.testing;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.Iterator;
import java.util.List;

import org.bouncycastle.bcpg.ArmoredOutputStream;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.PublicKeyAlgorithmTags;
import org.bouncycastle.bcpg.sig.KeyFlags;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.generators.RSAKeyPairGenerator;
import org.bouncycastle.crypto.params.RSAKeyGenerationParameters;
import org.bouncycastle.crypto.params.RSAKeyParameters;
import org.bouncycastle.crypto.params.RSAPrivateCrtKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.openpgp.PGPEncryptedDataList;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPKeyPair;
import org.bouncycastle.openpgp.PGPKeyRingGenerator;
import org.bouncycastle.openpgp.PGPLiteralData;
import org.bouncycastle.openpgp.PGPPrivateKey;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPPublicKeyEncryptedData;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSecretKey;
import org.bouncycastle.openpgp.PGPSecretKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureGenerator;
import org.bouncycastle.openpgp.PGPSignatureSubpacketGenerator;
import org.bouncycastle.openpgp.PGPUtil;
import org.bouncycastle.openpgp.bc.BcPGPObjectFactory;
import org.bouncycastle.openpgp.operator.PGPDigestCalculator;
import org.bouncycastle.openpgp.operator.bc.BcKeyFingerprintCalculator;
import org.bouncycastle.openpgp.operator.bc.BcPBESecretKeyDecryptorBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentSignerBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPDigestCalculatorProvider;
import org.bouncycastle.openpgp.operator.bc.BcPGPKeyPair;
import org.bouncycastle.openpgp.operator.bc.BcPublicKeyDataDecryptorFactory;

/**
 * OpenPGP keys made for tests (RSA 2048, the usual shape: a certifying/signing primary key and an encryption
 * subkey), and the recipient's side: streamed decryption with the secret key, the way gpg reads a .pgp file.
 */
public final class PgpTestKeys {

    private static final SecureRandom RANDOM = new SecureRandom();

    /** A generated key: the public key as a recipient publishes it, and the secret key that decrypts. */
    public record TestKey(PGPPublicKeyRing publicRing, PGPSecretKeyRing secretRing) {

        public String armoredPublicKey() {
            return armored(publicRing::encode);
        }

        public String armoredSecretKey() {
            return armored(secretRing::encode);
        }

        public byte[] binaryPublicKey() {
            try {
                return publicRing.getEncoded();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        public PGPPublicKey encryptionSubkey() {
            Iterator<PGPPublicKey> keys = publicRing.getPublicKeys();
            keys.next();
            return keys.next();
        }

        /**
         * Decrypts an OpenPGP message as it is read: the literal data's stream, checked against the integrity
         * packet (MDC) when the end is reached.
         */
        public Decrypted decrypt(InputStream encrypted) throws IOException, PGPException {
            BcPGPObjectFactory outer = new BcPGPObjectFactory(PGPUtil.getDecoderStream(encrypted));
            Object first = outer.nextObject();
            PGPEncryptedDataList list = (PGPEncryptedDataList) (first instanceof PGPEncryptedDataList l ? l : outer.nextObject());
            PGPPublicKeyEncryptedData data = (PGPPublicKeyEncryptedData) list.get(0);
            PGPSecretKey secret = secretRing.getSecretKey(data.getKeyIdentifier());
            if (secret == null) {
                throw new PGPException("not encrypted to this key");
            }
            PGPPrivateKey privateKey = secret.extractPrivateKey(new BcPBESecretKeyDecryptorBuilder(
                    new BcPGPDigestCalculatorProvider()).build(new char[0]));
            InputStream clear = data.getDataStream(new BcPublicKeyDataDecryptorFactory(privateKey));
            PGPLiteralData literal = (PGPLiteralData) new BcPGPObjectFactory(clear).nextObject();
            return new Decrypted(literal.getFileName(), literal.getInputStream(), data);
        }
    }

    /** The decrypted content, streamed; {@link #verifiedIntegrity()} once it has been read to the end. */
    public record Decrypted(String fileName, InputStream content, PGPPublicKeyEncryptedData data) {
        public boolean verifiedIntegrity() throws PGPException, IOException {
            return data.isIntegrityProtected() && data.verify();
        }
    }

    private interface Encoder {
        void encode(java.io.OutputStream out) throws IOException;
    }

    private PgpTestKeys() {
    }

    /** A usual key: primary key for certifying and signing, subkey for encryption; no expiry. */
    public static TestKey recipient(String userId) {
        return generate(userId, Duration.ZERO, null, true);
    }

    /**
     * One recipient key per user id for the whole test JVM, whichever class loader asks: a Quarkus test's profile
     * (which puts the public key in the configuration) and the test itself (which decrypts) may be loaded twice.
     */
    public static TestKey shared(String userId) {
        String secret = (String) System.getProperties().computeIfAbsent("test-only.shared-pgp-key." + userId,
                k -> recipient(userId).armoredSecretKey());
        try {
            PGPSecretKeyRing ring = new PGPSecretKeyRing(PGPUtil.getDecoderStream(
                    new ByteArrayInputStream(secret.getBytes(StandardCharsets.US_ASCII))),
                    new BcKeyFingerprintCalculator());
            List<PGPPublicKey> publicKeys = new ArrayList<>();
            ring.getPublicKeys().forEachRemaining(publicKeys::add);
            return new TestKey(new PGPPublicKeyRing(publicKeys), ring);
        } catch (IOException | PGPException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A key with an encryption subkey that expired: created two days ago, valid for one. */
    public static TestKey withExpiredEncryptionSubkey(String userId) {
        return generate(userId, Duration.ofDays(2), Duration.ofDays(1), true);
    }

    /**
     * A key whose only encryption subkey is valid now and expires after about {@code validity} (whole seconds) from
     * when this returns: its creation time is taken once the RSA keys exist, which takes seconds on a busy machine.
     */
    public static TestKey expiringIn(String userId, Duration validity) {
        return generate(userId, Duration.ZERO, validity, true);
    }

    /** A primary key that may only certify and sign, and no subkey. */
    public static TestKey signingOnly(String userId) {
        return generate(userId, Duration.ZERO, null, false);
    }

    /** A usual key whose encryption subkey was revoked by its owner. */
    public static TestKey withRevokedEncryptionSubkey(String userId) {
        TestKey key = recipient(userId);
        try {
            PGPSecretKey primarySecret = key.secretRing().getSecretKey();
            PGPPrivateKey primary = primarySecret.extractPrivateKey(new BcPBESecretKeyDecryptorBuilder(
                    new BcPGPDigestCalculatorProvider()).build(new char[0]));
            PGPSignatureGenerator revocation = new PGPSignatureGenerator(new BcPGPContentSignerBuilder(
                    PublicKeyAlgorithmTags.RSA_GENERAL, HashAlgorithmTags.SHA256), primarySecret.getPublicKey());
            revocation.init(PGPSignature.SUBKEY_REVOCATION, primary);
            PGPSignature signature = revocation.generateCertification(primarySecret.getPublicKey(), key.encryptionSubkey());
            PGPPublicKey revoked = PGPPublicKey.addCertification(key.encryptionSubkey(), signature);
            return new TestKey(PGPPublicKeyRing.insertPublicKey(key.publicRing(), revoked), key.secretRing());
        } catch (PGPException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The pairs of {@value #RSA_PAIRS}, a different one for each call in this JVM until they run out. */
    private static final String RSA_PAIRS = "/pgp/rsa-2048-test-pairs.txt";
    private static final String HANDED_OUT = "test-only.pgp-rsa-pairs-handed-out";

    /** The file's pairs, read once per class loader, when the first key is made. */
    private static final class Pairs {
        static final List<String> ENCODED = read();

        private static List<String> read() {
            try (InputStream in = PgpTestKeys.class.getResourceAsStream(RSA_PAIRS)) {
                return in == null ? List.of() : new String(in.readAllBytes(), StandardCharsets.US_ASCII).lines()
                        .filter(line -> !line.isBlank() && !line.startsWith("#")).toList();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + RSA_PAIRS, e);
            }
        }
    }

    /**
     * An RSA 2048 key pair no other key of this JVM has: the next of the file's pairs, then freshly generated ones.
     * Generating one is pure BigInteger work, seconds of CPU on the test JVMs' client compiler; the suite needs a few
     * dozen. The count is kept in a system property, where every class loader of the JVM sees the same one (a Quarkus
     * test's profile and the test itself may load this class twice), so no two keys share a pair.
     */
    static AsymmetricCipherKeyPair rsaPair() {
        int index;
        // A string, as everything in the system properties must be (Narayana's build step, for one, fails on other values).
        synchronized (System.getProperties()) {
            index = Integer.parseInt(System.getProperty(HANDED_OUT, "0"));
            System.setProperty(HANDED_OUT, String.valueOf(index + 1));
        }
        if (index < Pairs.ENCODED.size()) {
            try {
                RSAPrivateCrtKeyParameters secret = (RSAPrivateCrtKeyParameters) PrivateKeyFactory.createKey(
                        Base64.getDecoder().decode(Pairs.ENCODED.get(index)));
                return new AsymmetricCipherKeyPair(
                        new RSAKeyParameters(false, secret.getModulus(), secret.getPublicExponent()), secret);
            } catch (IOException e) {
                throw new UncheckedIOException("pair " + index + " of " + RSA_PAIRS + " is not a PKCS#8 RSA key", e);
            }
        }
        RSAKeyPairGenerator rsa = new RSAKeyPairGenerator();
        rsa.init(new RSAKeyGenerationParameters(BigInteger.valueOf(0x10001), RANDOM, 2048, 80));
        return rsa.generateKeyPair();
    }

    /** A key created {@code age} before now, where now is once its RSA key pairs were taken. */
    private static TestKey generate(String userId, Duration age, Duration subkeyValidity, boolean encryptionSubkey) {
        try {
            AsymmetricCipherKeyPair primaryPair = rsaPair();
            AsymmetricCipherKeyPair subPair = encryptionSubkey ? rsaPair() : null;
            Date when = Date.from(Instant.now().minus(age));
            PGPKeyPair primary = new BcPGPKeyPair(PublicKeyAlgorithmTags.RSA_GENERAL, primaryPair, when);
            PGPSignatureSubpacketGenerator primaryFlags = new PGPSignatureSubpacketGenerator();
            primaryFlags.setKeyFlags(false, KeyFlags.CERTIFY_OTHER | KeyFlags.SIGN_DATA);
            PGPDigestCalculator sha1 = new BcPGPDigestCalculatorProvider().get(HashAlgorithmTags.SHA1);
            PGPKeyRingGenerator ring = new PGPKeyRingGenerator(PGPSignature.POSITIVE_CERTIFICATION, primary, userId, sha1,
                    primaryFlags.generate(), null,
                    new BcPGPContentSignerBuilder(PublicKeyAlgorithmTags.RSA_GENERAL, HashAlgorithmTags.SHA256), null);
            if (encryptionSubkey) {
                PGPKeyPair sub = new BcPGPKeyPair(PublicKeyAlgorithmTags.RSA_GENERAL, subPair, when);
                PGPSignatureSubpacketGenerator subFlags = new PGPSignatureSubpacketGenerator();
                subFlags.setKeyFlags(false, KeyFlags.ENCRYPT_COMMS | KeyFlags.ENCRYPT_STORAGE);
                if (subkeyValidity != null) {
                    subFlags.setKeyExpirationTime(false, subkeyValidity.toSeconds());
                }
                ring.addSubKey(sub, subFlags.generate(), null);
            }
            return new TestKey(ring.generatePublicKeyRing(), ring.generateSecretKeyRing());
        } catch (PGPException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String armored(Encoder encoder) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ArmoredOutputStream armor = new ArmoredOutputStream(bytes)) {
            encoder.encode(armor);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toString(StandardCharsets.US_ASCII);
    }
}
