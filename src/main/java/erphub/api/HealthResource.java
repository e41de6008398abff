package erphub.api;

import java.util.List;

import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import erphub.api.Views.HealthCheckView;
import erphub.health.HealthDetails;

/**
 * The wellness checks with their details (each poll's error, token endpoints, the registry's problems): for
 * operators only. {@code /q/health/well} shows the same checks with their states and nothing else.
 */
@Path("/api/health")
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed(Caller.ADMIN)
@Tag(name = "operations")
public class HealthResource {

    private final HealthDetails details;

    public HealthResource(HealthDetails details) {
        this.details = details;
    }

    @GET
    @Operation(summary = "Wellness checks with their details: each tenant's last poll, token endpoints, the registry")
    public List<HealthCheckView> checks() {
        return details.all().stream().map(c -> new HealthCheckView(c.name(), c.up() ? "UP" : "DOWN", c.data())).toList();
    }
}
