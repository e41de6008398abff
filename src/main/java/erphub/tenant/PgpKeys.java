package erphub.tenant;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;

import erphub.crypto.PgpEncryption;

/**
 * The OpenPGP public keys tenants' SFTP deliveries are encrypted to, by reference, like credentials: the
 * registry's {@code destinations.sftp.pgpPublicKey: acme-pgp} resolves to {@code erphub.credentials.acme-pgp.pgp-public-key}
 * (env {@code ERPHUB_CREDENTIALS_ACME_PGP_PGP_PUBLIC_KEY}) or the file {@code <erphub.credentials.dir>/acme-pgp/pgp-public-key}
 * of a mounted Secret, ASCII-armored. Read when used, so a replaced key is picked up without a restart; a key is
 * parsed again when its text changed or it has expired since (then it is refused, or another valid subkey chosen).
 */
@ApplicationScoped
public class PgpKeys {

    private record Parsed(String text, PgpEncryption encryption) {
    }

    private final CredentialStore credentials;
    private final Map<String, Parsed> parsed = new ConcurrentHashMap<>();

    public PgpKeys(CredentialStore credentials) {
        this.credentials = credentials;
    }

    /**
     * The encryption for a key reference.
     *
     * @throws IllegalArgumentException why the reference is not one usable public key (no key material in it)
     */
    public PgpEncryption resolve(String ref) {
        String text = credentials.value(ref, CredentialStore.PGP_PUBLIC_KEY).orElseThrow(() -> new IllegalArgumentException(
                "does not resolve: set " + CredentialStore.PGP_PUBLIC_KEY + " in " + credentials.describe(ref)));
        Parsed known = parsed.get(ref);
        // Read again once the key has expired: the registry accepted it while it was valid, and encrypting to it
        // after its expiry would send files its owner may no longer be able to read.
        if (known != null && known.text().equals(text) && known.encryption().usableAt(Instant.now())) {
            return known.encryption();
        }
        PgpEncryption encryption = PgpEncryption.forPublicKey(text);
        parsed.put(ref, new Parsed(text, encryption));
        return encryption;
    }

    /** Why the reference is not usable, or empty: what the registry reports at load. */
    public Optional<String> problem(String ref) {
        try {
            resolve(ref);
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** The encryption of a tenant's SFTP deliveries, if its registry entry names a key. */
    public Optional<PgpEncryption> forSftp(TenantSettings tenant) {
        return tenant.sftpPgpPublicKey().map(this::resolve);
    }
}
