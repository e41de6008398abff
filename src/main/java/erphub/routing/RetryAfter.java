package erphub.routing;

import java.time.Duration;
import java.util.Optional;

/** A failure worth retrying whose remote side said how long to wait (an HTTP {@code Retry-After}). */
public interface RetryAfter {

    Optional<Duration> retryAfter();
}
