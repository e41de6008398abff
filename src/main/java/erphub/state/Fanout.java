package erphub.state;

import java.util.List;

import erphub.state.DeliveryLedger.DeliveryClaim;
import io.quarkus.runtime.annotations.RegisterForReflection;

/** A file and the deliveries of it this node holds open: what the FAN-OUT hands to the destinations' queues. */
// Read by the routes' simple expressions (${body.x}) reflectively, also in the native executable.
@RegisterForReflection
public record Fanout(FileRecord file, List<DeliveryClaim> claims) {

    /** Bean-style accessor for Camel's simple language ({@code ${body.tenant}}). */
    public String getTenant() {
        return file.key().tenant();
    }
}
