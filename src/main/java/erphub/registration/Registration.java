package erphub.registration;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A stored registration: its spec, the secret that signs its webhook deliveries (and, during a rotation's overlap,
 * the previous one), who made it and when. The secrets never leave erphub except once, when made.
 */
public record Registration(String id, RegistrationSpec spec, String secret, String previousSecret,
        Instant previousSecretUntil, String createdBy, Instant createdAt, Instant updatedAt) {

    /** The owning tenant, or null for an admin's registration across tenants. */
    public String ownerTenant() {
        return spec.tenant();
    }

    /** The secrets that sign a delivery made at {@code now}: the current one, and the previous while it overlaps. */
    public List<String> signingSecrets(Instant now) {
        List<String> secrets = new ArrayList<>(2);
        secrets.add(secret);
        if (previousSecret != null && previousSecretUntil != null && now.isBefore(previousSecretUntil)) {
            secrets.add(previousSecret);
        }
        return secrets;
    }

    /** One line of a registration's audit trail. */
    public record AuditEntry(Instant at, String actor, String action, String detail) {
    }
}
