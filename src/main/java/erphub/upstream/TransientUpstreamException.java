package erphub.upstream;

import java.time.Duration;
import java.util.Optional;

import erphub.routing.RetryAfter;

/** A failure worth retrying later: timeouts, connection loss, 5xx, 429. May carry the upstream's Retry-After. */
public class TransientUpstreamException extends RuntimeException implements RetryAfter {

    private final transient Duration retryAfter;

    public TransientUpstreamException(String message, Duration retryAfter, Throwable cause) {
        super(message, cause);
        this.retryAfter = retryAfter;
    }

    @Override
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
