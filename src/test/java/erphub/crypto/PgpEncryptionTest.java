package erphub.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bouncycastle.openpgp.PGPException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import erphub.testing.BesideTheApplication;
import erphub.testing.PgpTestKeys;
import erphub.testing.PgpTestKeys.Decrypted;
import erphub.testing.PgpTestKeys.TestKey;

/**
 * OpenPGP encryption of archived bytes as a recipient sees it: what erphub encrypts to a public key, the secret key
 * decrypts to the same bytes (integrity-checked), streamed at any size; keys that cannot be used are refused with the
 * reason and without repeating them.
 */
@BesideTheApplication
class PgpEncryptionTest {

    static TestKey recipient;
    static TestKey stranger;

    @BeforeAll
    static void keys() {
        recipient = PgpTestKeys.recipient("acme-sftp@example.com");
        stranger = PgpTestKeys.recipient("someone-else@example.com");
    }

    @Test
    void whatIsEncryptedToThePublicKeyDecryptsWithTheSecretKeyToTheSameBytes() throws Exception {
        byte[] content = new byte[300_000];
        new Random(20).nextBytes(content);
        byte[] marker = "employee_id;period;gross;net\n".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(marker, 0, content, 0, marker.length);
        PgpEncryption pgp = PgpEncryption.forPublicKey(recipient.armoredPublicKey());

        byte[] encrypted = pgp.encrypt(new ByteArrayInputStream(content), "payroll-2026-11.csv").readAllBytes();

        assertFalse(indexOf(encrypted, marker) >= 0, "the plain text is not in the encrypted file");
        Decrypted decrypted = recipient.decrypt(new ByteArrayInputStream(encrypted));
        assertArrayEquals(content, decrypted.content().readAllBytes());
        assertTrue(decrypted.verifiedIntegrity(), "integrity packet (MDC) present and correct");
        assertEquals("payroll-2026-11.csv", decrypted.fileName());
        assertEquals(recipient.encryptionSubkey().getKeyID(), decrypted.data().getKeyID(),
                "encrypted to the encryption subkey, not the signing primary key");
        assertEquals(fingerprint(recipient.encryptionSubkey().getFingerprint()), pgp.fingerprint());
    }

    @Test
    void anEmptyFileReadOneByteAtATimeAndABinaryKeyWorkToo() throws Exception {
        PgpEncryption pgp = PgpEncryption.forPublicKey(recipient.binaryPublicKey());
        for (byte[] content : List.of(new byte[0], "x".getBytes(StandardCharsets.US_ASCII))) {
            ByteArrayOutputStream encrypted = new ByteArrayOutputStream();
            try (InputStream in = pgp.encrypt(new ByteArrayInputStream(content), "empty.csv")) {
                for (int b; (b = in.read()) >= 0;) {
                    encrypted.write(b);
                }
                assertEquals(-1, in.read(), "stays at the end");
            }
            Decrypted decrypted = recipient.decrypt(new ByteArrayInputStream(encrypted.toByteArray()));
            assertArrayEquals(content, decrypted.content().readAllBytes());
            assertTrue(decrypted.verifiedIntegrity());
        }
    }

    @Test
    void anotherKeyCannotDecryptAndATamperedFileFailsItsIntegrityCheck() throws Exception {
        byte[] content = new byte[100_000];
        new Random(3).nextBytes(content);
        byte[] encrypted = PgpEncryption.forPublicKey(recipient.armoredPublicKey())
                .encrypt(new ByteArrayInputStream(content), "f.bin").readAllBytes();
        assertThrows(PGPException.class, () -> stranger.decrypt(new ByteArrayInputStream(encrypted)));

        encrypted[encrypted.length / 2] ^= 0x01;
        boolean detected;
        try {
            Decrypted tampered = recipient.decrypt(new ByteArrayInputStream(encrypted));
            byte[] read = tampered.content().readAllBytes();
            detected = !tampered.verifiedIntegrity() && !java.util.Arrays.equals(content, read);
        } catch (IOException | PGPException | RuntimeException failed) {
            detected = true;
        }
        assertTrue(detected, "a changed byte is detected (integrity packet)");
    }

    /**
     * 64 MiB through encryption and decryption in a JVM with a 32 MiB heap: if either side held the file (or a
     * growing part of it) in memory, that JVM would die of OutOfMemoryError.
     */
    @Test
    void a64MiBStreamGoesThroughA32MiBHeap() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process check = new ProcessBuilder(java.toString(), "-Xmx32m", "-cp", System.getProperty("java.class.path"),
                PgpStreamCheck.class.getName(), "64").redirectErrorStream(true).start();
        String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(check.waitFor(5, TimeUnit.MINUTES), "the check ended");
        assertEquals(0, check.exitValue(), output);
        Matcher result = Pattern.compile("plain=(\\w+) decrypted=(\\w+) bytes=(\\d+) integrity=(\\w+) maxHeapMiB=(\\d+) peakHeapMiB=(\\d+)")
                .matcher(output);
        assertTrue(result.find(), output);
        assertEquals(result.group(1), result.group(2), "decrypted bytes equal the plain bytes");
        assertEquals(64L * 1024 * 1024, Long.parseLong(result.group(3)));
        assertEquals("true", result.group(4));
        assertTrue(Long.parseLong(result.group(5)) <= 32, "the heap was limited: " + output);
        System.out.printf("[PgpEncryptionTest] 64 MiB encrypted and decrypted in a JVM of at most %s MiB heap (peak use %s MiB)%n",
                result.group(5), result.group(6));
    }

    @Test
    void keysThatCannotBeUsedAreRefusedWithTheReasonAndNeverRepeated() {
        TestKey secret = recipient;
        String secretArmor = secret.armoredSecretKey();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PgpEncryption.forPublicKey(secretArmor));
        assertTrue(e.getMessage().startsWith("is a secret (private) key"), e.getMessage());
        secretArmor.lines().filter(l -> l.length() > 20).forEach(line -> assertFalse(e.getMessage().contains(line)));

        assertEquals("is not an OpenPGP public key (it does not parse)", assertThrows(IllegalArgumentException.class,
                () -> PgpEncryption.forPublicKey("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64 at all !!\n"
                        + "-----END PGP PUBLIC KEY BLOCK-----")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> PgpEncryption.forPublicKey("ssh-rsa AAAAB3NzaC1yc2E acme@host"));
        assertEquals("no key (empty)", assertThrows(IllegalArgumentException.class, () -> PgpEncryption.forPublicKey(" \n")).getMessage());

        String signing = PgpTestKeys.signingOnly("signer@example.com").armoredPublicKey();
        assertEquals("has no key usable for encryption (a signing-only key?)",
                assertThrows(IllegalArgumentException.class, () -> PgpEncryption.forPublicKey(signing)).getMessage());

        String expired = PgpTestKeys.withExpiredEncryptionSubkey("old@example.com").armoredPublicKey();
        String message = assertThrows(IllegalArgumentException.class, () -> PgpEncryption.forPublicKey(expired)).getMessage();
        assertTrue(message.matches("has no key usable for encryption: encryption key [0-9A-F]+ expired on \\S+"), message);

        String revoked = PgpTestKeys.withRevokedEncryptionSubkey("gone@example.com").armoredPublicKey();
        message = assertThrows(IllegalArgumentException.class, () -> PgpEncryption.forPublicKey(revoked)).getMessage();
        assertTrue(message.matches("has no key usable for encryption: encryption key [0-9A-F]+ is revoked"), message);

        String two = recipient.armoredPublicKey() + "\n" + stranger.armoredPublicKey();
        assertEquals("holds 2 keys: name exactly one recipient's key",
                assertThrows(IllegalArgumentException.class, () -> PgpEncryption.forPublicKey(two)).getMessage());
    }

    @Test
    void anEncryptedFileIsNamedWithPgpAddedWithinTheFileNameLimit() {
        assertEquals("payroll-2026-11.csv.pgp", PgpEncryption.encryptedName("payroll-2026-11.csv"));
        assertEquals("x".repeat(251) + ".pgp", PgpEncryption.encryptedName("x".repeat(251)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PgpEncryption.encryptedName("x".repeat(252)));
        assertEquals("the encrypted file name would be longer than 255 characters (256)", e.getMessage());
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static String fingerprint(byte[] bytes) {
        return java.util.HexFormat.of().withUpperCase().formatHex(bytes);
    }
}
