package erphub.health;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;

import io.smallrye.health.api.Wellness;

/**
 * The tenant registry: DOWN while a changed registry file is rejected (the previous tenants keep running, so
 * readiness is not affected). Only the state is shown here; the tenants and the problems are
 * {@code GET /api/health} ({@link HealthDetails}).
 */
@Wellness
@ApplicationScoped
public class TenantRegistryHealthCheck implements HealthCheck {

    private final HealthDetails details;

    public TenantRegistryHealthCheck(HealthDetails details) {
        this.details = details;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named(HealthDetails.TENANT_REGISTRY).status(details.tenantRegistry().up()).build();
    }
}
