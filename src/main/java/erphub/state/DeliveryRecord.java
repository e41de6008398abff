package erphub.state;

import java.time.Instant;

/** One delivery of a file version to one destination, as the ledger holds it. */
public record DeliveryRecord(
        long fileId,
        String destination,
        DeliveryState state,
        int claim,
        int tries,
        String claimedBy,
        Instant leaseUntil,
        String lastError,
        Instant createdAt,
        Instant updatedAt) {
}
