package erphub.state;

import java.time.Instant;

/** The latest poll of one upstream for one tenant. */
public record PollRecord(String upstream, String tenant, Instant lastStartedAt, Instant lastSuccessAt,
        Instant lastErrorAt, String lastError, int consecutiveFailures, int lastClaimed, String node,
        Instant watermark) {
}
