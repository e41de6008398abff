package erphub.delivery;

import erphub.routing.FileLogContext;
import erphub.state.DeliveryLedger.DeliveryClaim;
import erphub.state.FileRecord;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * One file version on its way to one destination, as a destination route works on it: the ledger's view of
 * the file plus the claim under which this worker may record the outcome. No bytes: those are read from the
 * archive by the destination's route.
 */
// Read by the routes' simple expressions (${body.x}) reflectively, also in the native executable.
@RegisterForReflection
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

    /** Bean-style accessor for Camel's simple language ({@code ${exchangeProperty.delivery.archiveKey}}). */
    public String getArchiveKey() {
        return file.archiveKey();
    }

    /** tenant:upstream:remoteId:version:destination, the same on every attempt, so a receiver can tell a redelivery. */
    public String idempotencyKey() {
        return String.join(":", tenant(), upstream(), file.key().remoteId(), file.key().version(), destination());
    }

    /** The delivery's identity in the log lines of one step. */
    public FileLogContext log() {
        return FileLogContext.of(tenant(), upstream(), file.id(), file.key().remoteId(), destination(),
                file.traceparent());
    }

    @Override
    public String toString() {
        return destination() + " of " + tenant() + "/" + upstream() + " file " + file.id() + " (" + file.key().remoteId()
                + ")";
    }
}
