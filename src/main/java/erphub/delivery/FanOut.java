package erphub.delivery;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import erphub.state.DeliveryLedger.DeliveryClaim;
import erphub.state.Fanout;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * FAN-OUT's two questions (route {@code erphub-fan-out} and the destination template): to which destination
 * queues a file's open deliveries go (the recipient list), and which of them a destination's route takes.
 */
// Camel finds the methods the routes call (bean/method steps) reflectively, also in the native executable.
@RegisterForReflection
@ApplicationScoped
@Named("fanOut")
public class FanOut {

    /** The recipient list: the queue of each destination the file has an open delivery for. */
    public List<String> queues(Fanout fanout) {
        return fanout.claims().stream().map(c -> Destinations.queueUri(c.destination())).toList();
    }

    /** The destination's own delivery of the file. */
    public Delivery delivery(Fanout fanout, String destination) {
        DeliveryClaim claim = fanout.claims().stream().filter(c -> c.destination().equals(destination)).findFirst()
                .orElseThrow(() -> new IllegalStateException("file " + fanout.file().id() + " has no open delivery to "
                        + destination));
        return new Delivery(claim, fanout.file());
    }
}
