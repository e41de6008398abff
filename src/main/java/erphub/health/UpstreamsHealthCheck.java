package erphub.health;

import java.util.Comparator;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

import erphub.pipeline.UpstreamPoll;
import erphub.token.TokenCache;
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

    private final UpstreamPoll polls;
    private final TokenCache tokens;

    public UpstreamsHealthCheck(UpstreamPoll polls, TokenCache tokens) {
        this.polls = polls;
        this.tokens = tokens;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("erphub-upstreams").up();
        polls.lastPolls().stream()
                .sorted(Comparator.comparing(UpstreamPoll.LastPoll::upstream).thenComparing(UpstreamPoll.LastPoll::tenant))
                .forEach(p -> {
                    response.withData("poll " + p.upstream() + "/" + p.tenant(),
                            p.ok() ? "UP at " + p.at() : "DOWN at " + p.at() + ": " + p.error());
                    if (!p.ok()) {
                        response.down();
                    }
                });
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
