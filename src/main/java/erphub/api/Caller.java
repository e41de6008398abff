package erphub.api;

import java.util.Optional;

import jakarta.enterprise.context.RequestScoped;
import jakarta.ws.rs.NotFoundException;

import org.eclipse.microprofile.jwt.JsonWebToken;

import io.quarkus.security.ForbiddenException;

/**
 * Who is calling the API, from the verified bearer token: its subject (recorded in the ledger for replays and
 * pushes), whether it is an admin (role {@value #ADMIN}: every tenant) or tenant-scoped (role {@value #TENANT_ROLE}
 * with a {@value #TENANT_CLAIM} claim: only that tenant). Another tenant's resource is answered as not found.
 */
@RequestScoped
public class Caller {

    public static final String ADMIN = "erphub-admin";
    public static final String TENANT_ROLE = "erphub-tenant";
    public static final String TENANT_CLAIM = "tenant";

    private final JsonWebToken token;

    public Caller(JsonWebToken token) {
        this.token = token;
    }

    public String subject() {
        return token.getSubject() == null ? token.getName() : token.getSubject();
    }

    public boolean isAdmin() {
        return token.getGroups().contains(ADMIN);
    }

    /** The caller's own tenant; a tenant-scoped token without one is refused. */
    public Optional<String> ownTenant() {
        if (isAdmin()) {
            return Optional.empty();
        }
        Object claim = token.getClaim(TENANT_CLAIM);
        String tenant = claim == null ? null : claim.toString().replace("\"", "");
        if (tenant == null || tenant.isBlank()) {
            throw new ForbiddenException("a tenant-scoped token needs a '" + TENANT_CLAIM + "' claim");
        }
        return Optional.of(tenant);
    }

    /** The tenant a query may cover: the requested one (null: all) for an admin, the own one otherwise. */
    public String tenantFilter(String requested) {
        Optional<String> own = ownTenant();
        if (own.isEmpty()) {
            return requested;
        }
        if (requested != null && !requested.equals(own.get())) {
            throw new NotFoundException("tenant " + requested + " not found");
        }
        return own.get();
    }

    /** Throws not-found unless the caller may see this tenant's resource. */
    public void mustSee(String tenant, String what) {
        Optional<String> own = ownTenant();
        if (own.isPresent() && !own.get().equals(tenant)) {
            throw new NotFoundException(what + " not found");
        }
    }
}
