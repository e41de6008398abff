package erphub.tenant;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;

import erphub.testing.BesideTheApplication;

/**
 * Credentials as a mounted Kubernetes Secret has them: kept for a short while (every poll asks for one), a rotated
 * file used once that while is over, a file that appears used at once, and a configured value before any file.
 */
@BesideTheApplication
class CredentialStoreTest {

    @TempDir
    Path dir;

    private CredentialStore store(Duration freshness, Map<String, String> config) {
        return new CredentialStore(new SmallRyeConfigBuilder()
                .withSources(new PropertiesConfigSource(config, "test", 500)).build(), Optional.of(dir), freshness);
    }

    private void secret(String ref, String field, String value) throws Exception {
        Files.createDirectories(dir.resolve(ref));
        Files.writeString(dir.resolve(ref).resolve(field), value + "\n");
    }

    @Test
    void aRotatedSecretIsUsedOnceTheFreshnessIsOver() throws Exception {
        CredentialStore store = store(Duration.ofMillis(300), Map.of());
        secret("acme", CredentialStore.CLIENT_ID, "acme-erp");
        secret("acme", CredentialStore.CLIENT_SECRET, "first");
        assertEquals("first", store.client("acme").orElseThrow().clientSecret());

        secret("acme", CredentialStore.CLIENT_SECRET, "second");
        assertEquals("first", store.client("acme").orElseThrow().clientSecret(), "kept within the freshness");
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> store.client("acme").orElseThrow().clientSecret().equals("second"));
    }

    @Test
    void aSecretMountedLaterIsUsedAtOnce() throws Exception {
        CredentialStore store = store(Duration.ofHours(1), Map.of());
        assertFalse(store.client("late").isPresent());
        secret("late", CredentialStore.CLIENT_ID, "late-erp");
        secret("late", CredentialStore.CLIENT_SECRET, "s3cret");
        assertEquals("late-erp", store.client("late").orElseThrow().clientId());
    }

    @Test
    void configurationComesBeforeTheFileAndBlankIsAbsent() throws Exception {
        CredentialStore store = store(Duration.ofHours(1), Map.of(
                "erphub.credentials.acme.client-id", "from-config",
                "erphub.credentials.acme.client-secret", " "));
        secret("acme", CredentialStore.CLIENT_ID, "from-file");
        secret("acme", CredentialStore.CLIENT_SECRET, "file-secret");
        CredentialStore.Credential credential = store.client("acme").orElseThrow();
        assertEquals("from-config", credential.clientId());
        assertEquals("file-secret", credential.clientSecret(), "a blank configured value falls back to the file");
        assertTrue(credential.toString().contains("***") && !credential.toString().contains("file-secret"));
    }
}
