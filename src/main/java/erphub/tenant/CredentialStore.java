package erphub.tenant;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.Config;

import erphub.config.ErphubConfig;

/**
 * Resolves the credential references of the tenant registry: {@code erphub.credentials.<ref>.<field>} from
 * configuration (an environment variable {@code ERPHUB_CREDENTIALS_<REF>_<FIELD>}), else the file
 * {@code <erphub.credentials.dir>/<ref>/<field>} of a mounted Kubernetes Secret, read again when its last read is
 * older than {@link #FILE_FRESHNESS} so a rotated secret is picked up. Every poll and delivery asks for its
 * credential, so configuration lookups are kept too (configuration does not change while erphub runs). Values are
 * never logged; {@link Credential#toString()} hides them.
 */
@ApplicationScoped
public class CredentialStore {

    public static final String CLIENT_ID = "client-id";
    public static final String CLIENT_SECRET = "client-secret";
    public static final String PASSWORD = "password";
    public static final String PRIVATE_KEY_FILE = "private-key-file";
    public static final String PRIVATE_KEY_PASSPHRASE = "private-key-passphrase";
    /** An ASCII-armored OpenPGP public key that a tenant's SFTP deliveries are encrypted to. */
    public static final String PGP_PUBLIC_KEY = "pgp-public-key";

    /** How long a value read from a Secret's file is reused; the kubelet itself takes up to a minute to update one. */
    static final Duration FILE_FRESHNESS = Duration.ofSeconds(10);

    private final Config config;
    private final Optional<Path> dir;
    private final Map<String, Optional<String>> configured = new ConcurrentHashMap<>();
    private final Map<Path, FileRead> files = new ConcurrentHashMap<>();
    private final long fileFreshness;

    /** A file's value and when it was read (System.nanoTime). */
    private record FileRead(Optional<String> value, long at) {
        @Override
        public String toString() {
            return "FileRead[***]";
        }
    }

    @Inject
    public CredentialStore(Config config, ErphubConfig erphub) {
        this(config, erphub.credentials().dir(), FILE_FRESHNESS);
    }

    CredentialStore(Config config, Optional<Path> dir, Duration fileFreshness) {
        this.config = config;
        this.dir = dir;
        this.fileFreshness = fileFreshness.toNanos();
    }

    /** An OAuth2 client: both its id and its secret, or nothing. */
    public Optional<Credential> client(String ref) {
        Optional<String> id = value(ref, CLIENT_ID);
        Optional<String> secret = value(ref, CLIENT_SECRET);
        return id.isPresent() && secret.isPresent() ? Optional.of(new Credential(id.get(), secret.get())) : Optional.empty();
    }

    public Optional<String> value(String ref, String field) {
        String key = "erphub.credentials." + ref + "." + field;
        Optional<String> value = configured.computeIfAbsent(key,
                k -> config.getOptionalValue(k, String.class).filter(v -> !v.isBlank()));
        if (value.isPresent() || dir.isEmpty()) {
            return value;
        }
        Path file = dir.get().resolve(ref).resolve(field);
        FileRead read = files.get(file);
        long now = System.nanoTime();
        if (read == null || now - read.at() > fileFreshness) {
            read = new FileRead(read(file), now);
            // A missing file is not kept: the secret that is mounted next is used at once.
            if (read.value().isPresent()) {
                files.put(file, read);
            } else {
                files.remove(file);
            }
        }
        return read.value();
    }

    private static Optional<String> read(Path file) {
        try {
            return Files.isRegularFile(file) ? Optional.of(Files.readString(file, StandardCharsets.UTF_8).strip())
                    .filter(v -> !v.isEmpty()) : Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read credential file " + file, e);
        }
    }

    /** Where a reference is looked up, for error messages. */
    public String describe(String ref) {
        return "erphub.credentials." + ref + ".* (ERPHUB_CREDENTIALS_" + ref.toUpperCase().replace('-', '_') + "_*)"
                + dir.map(d -> " or " + d.resolve(ref) + "/").orElse("");
    }

    public record Credential(String clientId, String clientSecret) {
        @Override
        public String toString() {
            return "Credential[clientId=" + clientId + ", clientSecret=***]";
        }
    }
}
