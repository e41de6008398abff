package erphub.state;

import java.time.Instant;

/** One lifecycle step of a file version, as recorded in the ledger. */
public record Transition(long id, long fileId, Instant occurredAt, String node, FileState from, FileState to,
        int attempt, String detail) {
}
