package erphub.state;

import java.util.List;

import erphub.state.DeliveryLedger.DeliveryClaim;

/** A file and the deliveries of it this node holds open: what the FAN-OUT hands to the destinations' queues. */
public record Fanout(FileRecord file, List<DeliveryClaim> claims) {

    /** Bean-style accessor for Camel's simple language ({@code ${body.tenant}}). */
    public String getTenant() {
        return file.key().tenant();
    }
}
