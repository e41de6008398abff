package erphub.pipeline;

import java.time.Duration;
import java.util.Optional;

/** A failure worth retrying later: timeouts, connection loss, 5xx, 429. May carry the upstream's Retry-After. */
public class TransientUpstreamException extends RuntimeException {

    private final transient Duration retryAfter;

    public TransientUpstreamException(String message, Duration retryAfter, Throwable cause) {
        super(message, cause);
        this.retryAfter = retryAfter;
    }

    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
