package erphub.state;

import java.time.Instant;

/** One row of the ledger: a file version and where it stands (and its trace, when tracing is on). */
public record FileRecord(
        long id,
        FileKey key,
        String fileName,
        Long sizeBytes,
        String checksum,
        FileState state,
        int attempt,
        String claimedBy,
        Instant leaseUntil,
        String archiveKey,
        String reason,
        Instant createdAt,
        Instant updatedAt,
        String traceparent) {
}
