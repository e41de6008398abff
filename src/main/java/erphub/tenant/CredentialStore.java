package erphub.tenant;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.Config;

import erphub.config.ErphubConfig;

/**
 * Resolves the credential references of the tenant registry: {@code erphub.credentials.<ref>.<field>} from
 * configuration (an environment variable {@code ERPHUB_CREDENTIALS_<REF>_<FIELD>}), else the file
 * {@code <erphub.credentials.dir>/<ref>/<field>} of a mounted Kubernetes Secret, read when used so a
 * rotated secret is picked up. Values are never logged; {@link Credential#toString()} hides them.
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

    private final Config config;
    private final Optional<Path> dir;

    public CredentialStore(Config config, ErphubConfig erphub) {
        this.config = config;
        this.dir = erphub.credentials().dir();
    }

    /** An OAuth2 client: both its id and its secret, or nothing. */
    public Optional<Credential> client(String ref) {
        Optional<String> id = value(ref, CLIENT_ID);
        Optional<String> secret = value(ref, CLIENT_SECRET);
        return id.isPresent() && secret.isPresent() ? Optional.of(new Credential(id.get(), secret.get())) : Optional.empty();
    }

    public Optional<String> value(String ref, String field) {
        Optional<String> configured = config.getOptionalValue("erphub.credentials." + ref + "." + field, String.class)
                .filter(v -> !v.isBlank());
        if (configured.isPresent() || dir.isEmpty()) {
            return configured;
        }
        Path file = dir.get().resolve(ref).resolve(field);
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
