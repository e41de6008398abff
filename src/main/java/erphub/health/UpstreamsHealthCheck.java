package erphub.health;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;

import io.smallrye.health.api.Wellness;

/**
 * Upstreams as health reports them: DOWN while any tenant's last poll or any token endpoint's last answer failed,
 * from memory (health never calls a remote system). A wellness check, shown in {@code /q/health} and
 * {@code /q/health/well} but not in readiness: one dead upstream must not take every instance out of the load
 * balancer. Only the state is shown there; which poll and why is {@code GET /api/health} ({@link HealthDetails}).
 */
@Wellness
@ApplicationScoped
public class UpstreamsHealthCheck implements HealthCheck {

    private final HealthDetails details;

    public UpstreamsHealthCheck(HealthDetails details) {
        this.details = details;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named(HealthDetails.UPSTREAMS).status(details.upstreams().up()).build();
    }
}
