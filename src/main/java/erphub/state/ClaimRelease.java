package erphub.state;

import java.time.Duration;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.camel.quarkus.main.events.AfterStop;
import org.apache.camel.quarkus.main.events.BeforeStart;
import org.jboss.logging.Logger;

import erphub.config.ErphubConfig;

/**
 * Claims across a process's life. Before the routes start, the claims and queued deliveries that earlier runs of
 * this node id still hold (a `kill -9`, an OOM kill, a lost pod restarted under its name) are taken back at once:
 * their work died with that process, and the next poll and the delivery sweeper pick them up in seconds instead of
 * after the lease. The same goes for the (upstream, tenant) pairs it polled ({@link PollLeases}). On a graceful stop,
 * this process's own unfinished claims, queued deliveries and polls are handed back the same way.
 */
@ApplicationScoped
public class ClaimRelease {

    private static final Logger LOG = Logger.getLogger(ClaimRelease.class);

    private final ClaimStore store;
    private final DeliveryLedger deliveries;
    private final PollLeases polls;
    private final ErphubConfig config;

    public ClaimRelease(ClaimStore store, DeliveryLedger deliveries, PollLeases polls, ErphubConfig config) {
        this.store = store;
        this.deliveries = deliveries;
        this.polls = polls;
        this.config = config;
    }

    void beforeCamelStarts(@Observes BeforeStart event) {
        checkHeartbeat(config.state().claimLease(), Duration.ofMillis(config.state().claimHeartbeat()));
        int claims = store.releaseEarlierRunsOfThisNode();
        int queued = deliveries.releaseEarlierRunsOfThisNode();
        int pairs = polls.releaseEarlierRunsOfThisNode();
        if (claims + queued + pairs > 0) {
            LOG.infof("Took back %d claims, %d deliveries and %d polls that an earlier run of node %s left unfinished",
                    claims, queued, pairs, config.nodeId());
        }
    }

    void afterCamelStopped(@Observes AfterStop event) {
        try {
            int released = store.releaseLeasesHeldByThisNode();
            int queued = deliveries.releaseLeasesHeldByThisNode();
            int pairs = polls.releaseHeldByThisNode();
            if (released + queued + pairs > 0) {
                LOG.infof("Released %d unfinished claims, %d queued deliveries and %d polls for other nodes or the next"
                        + " start", released, queued, pairs);
            }
        } catch (StateStoreException e) {
            LOG.warnf("Claims not released at shutdown (they expire with their leases): %s", e.getMessage());
        }
    }

    /**
     * A lease the heartbeat cannot keep would let other nodes take over live work all the time: at most a third of
     * the lease, so one late or failed renewal does not lose it.
     */
    static void checkHeartbeat(Duration lease, Duration heartbeat) {
        if (heartbeat.isZero() || heartbeat.isNegative() || heartbeat.multipliedBy(3).compareTo(lease) > 0) {
            throw new IllegalStateException("erphub.state.claim-heartbeat (" + heartbeat.toMillis()
                    + " ms) must be positive and at most a third of erphub.state.claim-lease (" + lease
                    + "), or live claims would expire between two renewals");
        }
    }
}
