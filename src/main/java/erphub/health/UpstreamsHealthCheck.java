package erphub.health;

import java.util.Comparator;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

import erphub.upstream.UpstreamPolls;
import erphub.token.TokenCache;
import erphub.upstream.UpstreamBreakers;
import erphub.upstream.UpstreamSpecs;
import io.smallrye.health.api.Wellness;

/**
 * Upstreams as health reports them: each tenant's last poll and each token endpoint's last answer,
 * from memory (health never calls a remote system). A wellness check, shown in {@code /q/health} and
 * {@code /q/health/well} but not in readiness: one dead upstream must not take every instance out of the
 * load balancer.
 */
@Wellness
@ApplicationScoped
public class UpstreamsHealthCheck implements HealthCheck {

    private final UpstreamPolls polls;
    private final TokenCache tokens;
    private final UpstreamSpecs specs;
    private final UpstreamBreakers breakers;

    public UpstreamsHealthCheck(UpstreamPolls polls, TokenCache tokens, UpstreamSpecs specs, UpstreamBreakers breakers) {
        this.polls = polls;
        this.tokens = tokens;
        this.specs = specs;
        this.breakers = breakers;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("erphub-upstreams").up();
        polls.lastPolls().stream()
                .sorted(Comparator.comparing(UpstreamPolls.LastPoll::upstream).thenComparing(UpstreamPolls.LastPoll::tenant))
                .forEach(p -> {
                    response.withData("poll " + p.upstream() + "/" + p.tenant(),
                            p.ok() ? "UP at " + p.at() : "DOWN at " + p.at() + ": " + p.error());
                    if (!p.ok()) {
                        response.down();
                    }
                });
        specs.all().forEach(spec -> breakers.state(spec.upstreamId()).ifPresent(state -> {
            response.withData("circuit " + spec.upstreamId(), state);
            if (!state.equals("CLOSED")) {
                response.down();
            }
        }));
        tokens.endpointStatus().forEach(t -> {
            response.withData("token endpoint " + t.tokenUrl(),
                    t.up() ? "UP at " + t.at() : "DOWN at " + t.at() + ": " + t.lastError());
            if (!t.up()) {
                response.down();
            }
        });
        return response.build();
    }
}
