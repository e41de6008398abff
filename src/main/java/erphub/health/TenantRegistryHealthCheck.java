package erphub.health;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

import erphub.tenant.TenantRegistry;
import erphub.tenant.TenantSettings;
import io.smallrye.health.api.Wellness;

/**
 * The tenant registry in force, and a changed registry file that was rejected (DOWN until the file is fixed;
 * the previous tenants keep running, so readiness is not affected).
 */
@Wellness
@ApplicationScoped
public class TenantRegistryHealthCheck implements HealthCheck {

    private final TenantRegistry registry;

    public TenantRegistryHealthCheck(TenantRegistry registry) {
        this.registry = registry;
    }

    @Override
    public HealthCheckResponse call() {
        TenantRegistry.Snapshot current = registry.current();
        HealthCheckResponseBuilder response = HealthCheckResponse.named("erphub-tenant-registry").up()
                .withData("tenants", current.tenants().size())
                .withData("enabled", current.tenants().values().stream().filter(TenantSettings::enabled).count())
                .withData("applied", current.loadedAt().toString());
        registry.rejection().ifPresent(r -> {
            response.down().withData("rejected", r.at() + ": " + r.problems().size() + " problems, the tenants above stay")
                    .withData("problems", String.join("; ", r.problems().subList(0, Math.min(20, r.problems().size()))));
        });
        return response.build();
    }
}
