package erphub.upstream;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;

import org.apache.camel.CamelContext;
import org.apache.camel.quarkus.main.events.BeforeStart;
import org.jboss.logging.Logger;

import erphub.config.ErphubConfig;
import erphub.routing.RetryDelay;
import erphub.archive.ArchiveFailedException;
import erphub.state.StaleClaimException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.SlidingWindowType;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * One circuit breaker per upstream (Resilience4j), shared by its LIST route and its DOWNLOAD route (the
 * {@code circuitBreaker} EIP of both kamelets names {@code erphub-breaker-<upstream>}). After
 * {@code erphub.circuit-breaker.failure-threshold} consecutive transient failures (timeouts, refused
 * connections, 408, 429, 5xx, an unreachable token endpoint) its calls are refused for
 * {@code erphub.circuit-breaker.cool-down}; then one probe call decides. A down upstream so costs one call per
 * cool-down, not one per file and retry, and other upstreams go on. A file whose download the open circuit refused is
 * redelivered after the cool-down (the intake's retry delay): no call is made for it meanwhile. A 4xx or a rejected file is an answer, so
 * it counts as a success; a failing archive or a superseded claim is not the upstream's doing and is ignored.
 */
@ApplicationScoped
public class UpstreamBreakers {

    private static final Logger LOG = Logger.getLogger(UpstreamBreakers.class);
    /** Prometheus value of each state: erphub_upstream_breaker_state{upstream}. */
    private static final Map<CircuitBreaker.State, Integer> GAUGE = Map.of(CircuitBreaker.State.CLOSED, 0,
            CircuitBreaker.State.HALF_OPEN, 1, CircuitBreaker.State.OPEN, 2, CircuitBreaker.State.FORCED_OPEN, 2,
            CircuitBreaker.State.DISABLED, 0, CircuitBreaker.State.METRICS_ONLY, 0);

    private final UpstreamSpecs specs;
    private final ErphubConfig config;
    private final MeterRegistry meters;
    private final CircuitBreakerConfig breakerConfig;
    private final Map<String, CircuitBreaker> breakers = new ConcurrentHashMap<>();

    public UpstreamBreakers(UpstreamSpecs specs, ErphubConfig config, MeterRegistry meters) {
        this.specs = specs;
        this.config = config;
        this.meters = meters;
        int failures = config.circuitBreaker().failureThreshold();
        this.breakerConfig = CircuitBreakerConfig.custom()
                .slidingWindowType(SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(failures)
                .minimumNumberOfCalls(failures)
                .failureRateThreshold(100)
                .waitDurationInOpenState(config.circuitBreaker().coolDown())
                .permittedNumberOfCallsInHalfOpenState(1)
                .automaticTransitionFromOpenToHalfOpenEnabled(false)
                .recordException(UpstreamBreakers::isUpstreamFailure)
                .ignoreException(t -> t instanceof ArchiveFailedException || t instanceof StaleClaimException)
                .build();
    }

    /**
     * The breaker beans the kamelets name, bound before their routes are created; then each upstream's download
     * route, created once here rather than by the first files racing through the intake route's toD (two intake
     * workers creating one kamelet route at the same time replace each other's route).
     */
    void bind(@Observes @Priority(Interceptor.Priority.APPLICATION) BeforeStart event, CamelContext camel) {
        // The intake's retry delay: a download refused by an open circuit waits at least the cool-down, so the
        // next try is the probe (or comes after it) instead of spending the file's redeliveries for nothing.
        ErphubConfig.Intake intake = config.intake();
        Duration coolDown = config.circuitBreaker().coolDown();
        camel.getRegistry().bind("erphub-retry-delay-intake", new RetryDelay(intake.redeliveryDelay(),
                intake.maxRedeliveryDelay(), intake.retryAfterCap(),
                failure -> failure instanceof CallNotPermittedException ? coolDown : null));
        specs.all().forEach(spec -> {
            camel.getRegistry().bind(beanName(spec.upstreamId()), breaker(spec.upstreamId()));
            camel.getEndpoint(downloadEndpoint(spec.upstreamId()));
        });
    }

    /** The endpoint of the upstream's download route, as the intake route's toD names it. */
    public static String downloadEndpoint(String upstreamId) {
        return "kamelet:erphub-upstream-download-action/download-" + upstreamId + "?upstreamId=" + upstreamId;
    }

    public static String beanName(String upstreamId) {
        return "erphub-breaker-" + upstreamId;
    }

    CircuitBreaker breaker(String upstreamId) {
        return breakers.computeIfAbsent(upstreamId, id -> {
            CircuitBreaker breaker = CircuitBreaker.of(id, breakerConfig);
            breaker.getEventPublisher().onStateTransition(e -> {
                CircuitBreaker.StateTransition t = e.getStateTransition();
                if (t.getToState() == CircuitBreaker.State.OPEN) {
                    LOG.warnf("Upstream %s: circuit OPEN after %s; calls refused for %s, then one probe", id,
                            t.getFromState() == CircuitBreaker.State.HALF_OPEN ? "a failed probe"
                                    : breakerConfig.getMinimumNumberOfCalls() + " failures in a row",
                            config.circuitBreaker().coolDown());
                } else if (t.getToState() == CircuitBreaker.State.CLOSED) {
                    LOG.infof("Upstream %s: circuit CLOSED, the probe call succeeded", id);
                } else {
                    LOG.debugf("Upstream %s: circuit %s", id, t);
                }
            });
            Gauge.builder("erphub.upstream.breaker.state", breaker, b -> GAUGE.getOrDefault(b.getState(), 0))
                    .description("Circuit breaker of an upstream: 0 closed, 1 half-open, 2 open").tag("upstream", id)
                    .register(meters);
            return breaker;
        });
    }

    /** CLOSED, OPEN or HALF_OPEN; empty for an upstream this instance does not declare. */
    public Optional<String> state(String upstreamId) {
        return Optional.ofNullable(breakers.get(upstreamId)).map(b -> b.getState().name());
    }

    /** Timeouts, refused connections, 408/429/5xx and token failures: the upstream (or its token server) is not well. */
    static boolean isUpstreamFailure(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof TransientUpstreamException) {
                return true;
            }
            if (c instanceof ArchiveFailedException || c instanceof PermanentUpstreamException) {
                return false;
            }
        }
        // What Camel HTTP throws itself: the connection could not be made or broke (refused, reset, timed out).
        return t instanceof IOException;
    }
}
