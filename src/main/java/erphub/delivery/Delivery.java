package erphub.delivery;

import erphub.state.DeliveryStore.DeliveryClaim;
import erphub.state.FileRecord;

/**
 * One file version on its way to one destination, as queued for the destination's workers: the ledger's
 * view of the file plus the claim under which this worker may record the outcome. No bytes: those are
 * read from the archive by the destination.
 */
public record Delivery(DeliveryClaim claim, FileRecord file) {

    public String destination() {
        return claim.destination();
    }

    public String tenant() {
        return file.key().tenant();
    }

    public String upstream() {
        return file.key().upstream();
    }

    /** tenant:upstream:fileId:version:destination, the same on every attempt, so a receiver can tell a redelivery. */
    public String idempotencyKey() {
        return String.join(":", tenant(), upstream(), file.key().remoteId(), file.key().version(), destination());
    }

    @Override
    public String toString() {
        return destination() + " of " + tenant() + "/" + upstream() + " file " + file.id() + " (" + file.key().remoteId()
                + ")";
    }
}
