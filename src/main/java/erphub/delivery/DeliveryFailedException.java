package erphub.delivery;

import java.time.Duration;
import java.util.Optional;

/** A delivery attempt failed in a way a later attempt may not: retried with backoff. */
public class DeliveryFailedException extends RuntimeException {

    private final transient Duration retryAfter;

    public DeliveryFailedException(String message, Duration retryAfter, Throwable cause) {
        super(message, cause);
        this.retryAfter = retryAfter;
    }

    /** How long the destination asked to wait, when it said so. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
