package erphub.state;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.camel.quarkus.main.events.AfterStop;
import org.jboss.logging.Logger;

/**
 * On a graceful stop, hands this process's unfinished claims back at once instead of letting them sit
 * until their leases end (10 minutes by default): the in-process hand-off that held them is gone.
 */
@ApplicationScoped
public class ClaimRelease {

    private static final Logger LOG = Logger.getLogger(ClaimRelease.class);

    private final ClaimStore store;
    private final DeliveryLedger deliveries;

    public ClaimRelease(ClaimStore store, DeliveryLedger deliveries) {
        this.store = store;
        this.deliveries = deliveries;
    }

    void afterCamelStopped(@Observes AfterStop event) {
        try {
            int released = store.releaseLeasesHeldByThisNode();
            int queued = deliveries.releaseLeasesHeldByThisNode();
            if (released + queued > 0) {
                LOG.infof("Released %d unfinished claims and %d queued deliveries for other nodes or the next start",
                        released, queued);
            }
        } catch (StateStoreException e) {
            LOG.warnf("Claims not released at shutdown (they expire with their leases): %s", e.getMessage());
        }
    }
}
