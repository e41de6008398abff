package erphub.delivery;

import java.time.Duration;
import java.util.Optional;

import erphub.routing.RetryAfter;

/** A delivery attempt failed in a way a later attempt may not: retried with backoff (or the destination's Retry-After). */
public class DeliveryFailedException extends RuntimeException implements RetryAfter {

    private final transient Duration retryAfter;

    public DeliveryFailedException(String message, Duration retryAfter, Throwable cause) {
        super(message, cause);
        this.retryAfter = retryAfter;
    }

    @Override
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
