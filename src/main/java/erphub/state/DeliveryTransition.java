package erphub.state;

import java.time.Instant;

/** One step of a delivery, as recorded in the ledger. */
public record DeliveryTransition(long id, long fileId, String destination, Instant occurredAt, String node,
        DeliveryState from, DeliveryState to, int tries, String detail) {
}
