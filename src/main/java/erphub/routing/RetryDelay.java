package erphub.routing;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.processor.errorhandler.RedeliveryPolicy;

/**
 * Sets the delay before a route's next redelivery (its error handler's {@code onExceptionOccurredRef}): the
 * larger of the route's own exponential backoff with jitter and the remote side's {@code Retry-After}, capped.
 * A server's hint can lengthen a wait, never shorten the backoff, and the backoff keeps growing from its own
 * previous value whatever the hints were.
 *
 * <p>Camel's error handler takes the {@link Exchange#REDELIVERY_DELAY} header instead of its policy when the
 * header is set, and then grows the next delay from the header's value: setting the header to the hint alone
 * (as erphub once did) made six 503s with {@code Retry-After: 1} dead-letter a file after five seconds.
 */
public final class RetryDelay implements Processor {

    /**
     * The backoff of the last redelivery of this exchange, the base of the next. Like Camel's own redelivery headers it
     * travels with the exchange: each destination's route removes both before its first try (erphub-delivery.yaml).
     */
    static final String LAST_BACKOFF = "erphubLastBackoff";

    private final RedeliveryPolicy backoff;
    private final Duration retryAfterCap;
    private final Function<Throwable, Duration> otherHints;

    /** The same backoff as the route's redelivery policy: first delay, doubling, jitter, longest delay. */
    public RetryDelay(long redeliveryDelay, long maxRedeliveryDelay, Duration retryAfterCap) {
        this(redeliveryDelay, maxRedeliveryDelay, retryAfterCap, failure -> null);
    }

    /** As above, with hints of the failure's own (e.g. how long a circuit breaker stays open). */
    public RetryDelay(long redeliveryDelay, long maxRedeliveryDelay, Duration retryAfterCap,
            Function<Throwable, Duration> otherHints) {
        this.otherHints = otherHints;
        this.backoff = new RedeliveryPolicy()
                .redeliveryDelay(redeliveryDelay)
                .maximumRedeliveryDelay(maxRedeliveryDelay)
                .useExponentialBackOff()
                .backOffMultiplier(2)
                .useCollisionAvoidance();
        this.retryAfterCap = retryAfterCap;
    }

    @Override
    public void process(Exchange exchange) {
        int redelivery = exchange.getIn().getHeader(Exchange.REDELIVERY_COUNTER, 1, Integer.class);
        long previous = exchange.getProperty(LAST_BACKOFF, 0L, Long.class);
        long delay = backoff.calculateRedeliveryDelay(previous, redelivery);
        exchange.setProperty(LAST_BACKOFF, delay);
        long hint = retryAfter(exchange.getException()).or(() -> other(exchange.getException()))
                .map(d -> Math.min(d.toMillis(), retryAfterCap.toMillis())).orElse(0L);
        exchange.getIn().setHeader(Exchange.REDELIVERY_DELAY, Math.max(delay, hint));
    }

    private Optional<Duration> other(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            Duration hint = otherHints.apply(t);
            if (hint != null) {
                return Optional.of(hint);
            }
        }
        return Optional.empty();
    }

    /** The first Retry-After in the exception's cause chain. */
    public static Optional<Duration> retryAfter(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RetryAfter hinted && hinted.retryAfter().isPresent()) {
                return hinted.retryAfter();
            }
        }
        return Optional.empty();
    }
}
