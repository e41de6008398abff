package erphub.api;

import java.util.Optional;

import jakarta.enterprise.context.RequestScoped;
import jakarta.ws.rs.NotFoundException;

import org.eclipse.microprofile.jwt.JsonWebToken;

import io.quarkus.security.ForbiddenException;
import io.quarkus.security.identity.SecurityIdentity;

/**
 * Who is calling, from the verified token: the API's bearer token, or the ID token of an operator signed in to the
 * console (erphub.console.OperatorConsole). Its subject is recorded in the ledger for replays and pushes; it is an
 * admin (role {@value #ADMIN}: every tenant) or tenant-scoped (role {@value #TENANT_ROLE} with a
 * {@value #TENANT_CLAIM} claim: only that tenant). Another tenant's resource is answered as not found.
 */
@RequestScoped
public class Caller {

    public static final String ADMIN = "erphub-admin";
    public static final String TENANT_ROLE = "erphub-tenant";
    public static final String TENANT_CLAIM = "tenant";

    private final SecurityIdentity identity;

    public Caller(SecurityIdentity identity) {
        this.identity = identity;
    }

    public String subject() {
        if (identity.getPrincipal() instanceof JsonWebToken token && token.getSubject() != null) {
            return token.getSubject();
        }
        return identity.getPrincipal().getName();
    }

    public boolean isAdmin() {
        return identity.hasRole(ADMIN);
    }

    /** The name to show for the caller: the token's preferred user name, else its subject. */
    public String displayName() {
        if (identity.getPrincipal() instanceof JsonWebToken token && token.getClaim("preferred_username") != null) {
            return token.getClaim("preferred_username").toString().replace("\"", "");
        }
        return subject();
    }

    /** The caller's own tenant; a tenant-scoped token without one is refused. */
    public Optional<String> ownTenant() {
        if (isAdmin()) {
            return Optional.empty();
        }
        Object claim = identity.getPrincipal() instanceof JsonWebToken token ? token.getClaim(TENANT_CLAIM) : null;
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
