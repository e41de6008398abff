package erphub.tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import erphub.crypto.PgpEncryption;
import erphub.testing.BesideTheApplication;
import erphub.testing.PgpTestKeys;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;

/**
 * A tenant's OpenPGP key as deliveries meet it, after the registry accepted it: a key that expires later is
 * refused from then on (never encrypted to because it was valid once), and a key replaced in the mounted Secret
 * by a revoked one is refused once the Secret's freshness is over.
 */
@BesideTheApplication
class PgpKeysTest {

    @TempDir
    Path dir;

    @Test
    void aKeyThatExpiresAfterTheRegistryAcceptedItIsRefusedFromThenOn() throws Exception {
        PgpTestKeys.TestKey key = PgpTestKeys.expiringIn("expiring <sftp@expiring.example>", Duration.ofSeconds(2));
        PgpKeys keys = new PgpKeys(store(Map.of("erphub.credentials.expiring-pgp.pgp-public-key",
                key.armoredPublicKey()), Duration.ofHours(1)));
        assertEquals(Optional.empty(), keys.problem("expiring-pgp"), "valid when the registry loads");
        PgpEncryption first = keys.resolve("expiring-pgp");
        assertEquals(first, keys.resolve("expiring-pgp"), "parsed once while it is valid");

        Instant expiry = Instant.now().plusSeconds(3);
        while (Instant.now().isBefore(expiry)) {
            Thread.sleep(100);
        }
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> keys.resolve("expiring-pgp"));
        assertTrue(refused.getMessage().contains("expired"), refused.getMessage());
        assertTrue(keys.problem("expiring-pgp").orElseThrow().contains("expired"));
    }

    @Test
    void aKeyReplacedByARevokedOneInTheMountedSecretIsRefusedOnceItIsRead() throws Exception {
        PgpTestKeys.TestKey good = PgpTestKeys.recipient("acme <sftp@acme.example>");
        secret("acme-pgp", good.armoredPublicKey());
        PgpKeys keys = new PgpKeys(store(Map.of(), Duration.ofMillis(200)));
        assertEquals(HexFormat.of().withUpperCase().formatHex(good.encryptionSubkey().getFingerprint()),
                keys.resolve("acme-pgp").fingerprint());

        secret("acme-pgp", PgpTestKeys.withRevokedEncryptionSubkey("acme <sftp@acme.example>").armoredPublicKey());
        Thread.sleep(400);
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> keys.resolve("acme-pgp"));
        assertTrue(refused.getMessage().contains("revoked"), refused.getMessage());
    }

    private CredentialStore store(Map<String, String> config, Duration freshness) {
        return new CredentialStore(new SmallRyeConfigBuilder()
                .withSources(new PropertiesConfigSource(config, "test", 500)).build(), Optional.of(dir), freshness);
    }

    private void secret(String ref, String value) throws Exception {
        Files.createDirectories(dir.resolve(ref));
        Files.writeString(dir.resolve(ref).resolve(CredentialStore.PGP_PUBLIC_KEY), value);
    }
}
