package erphub.delivery;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.ProducerTemplate;
import org.jboss.logging.Logger;

import erphub.config.ErphubConfig;
import erphub.state.DeliveryRecord;
import erphub.state.DeliveryState;
import erphub.state.DeliveryLedger;
import erphub.state.DeliveryLedger.DeliveryClaim;
import erphub.state.Fanout;
import erphub.state.LedgerQueries;
import erphub.state.LedgerQueries.DeadFilter;

/**
 * Replay of dead deliveries: one file, one destination of one file, or every dead delivery matching a
 * filter (capped, with a dry run). The ledger moves each back to PENDING at once, with who asked and why
 * in its history; the re-queueing goes through the rate-limited route {@code erphub-delivery-replay}. The
 * bytes come from the archive: a replay never downloads from the upstream again.
 */
@ApplicationScoped
@Named("deliveryReplay")
public class DeliveryReplay {

    private static final Logger LOG = Logger.getLogger(DeliveryReplay.class);
    private static final String QUEUE = "seda:erphub-replay";

    private final DeliveryLedger deliveries;
    private final LedgerQueries queries;
    private final ProducerTemplate producer;
    private final ErphubConfig config;

    public DeliveryReplay(DeliveryLedger deliveries, LedgerQueries queries, ProducerTemplate producer, ErphubConfig config) {
        this.deliveries = deliveries;
        this.queries = queries;
        this.producer = producer;
        this.config = config;
    }

    /** The ledger detail of a replay: who and why. */
    public static String auditDetail(String actor, String comment) {
        return "replayed by " + (actor == null || actor.isBlank() ? "unknown" : actor) + ": " + comment;
    }

    /** What a replay did (or, as a dry run, would do): the deliveries it took. */
    public record ReplayResult(boolean dryRun, List<DeliveryRecord> replayed, boolean capped) {
        public int count() {
            return replayed.size();
        }
    }

    /** Every dead delivery of one file. */
    public ReplayResult replayFile(long fileId, String actor, String comment) {
        return replayFile(fileId, false, actor, comment);
    }

    public ReplayResult replayFile(long fileId, boolean dryRun, String actor, String comment) {
        List<DeliveryRecord> dead = queries.deliveries(fileId).stream()
                .filter(d -> d.state() == DeliveryState.DEAD).toList();
        return replay(dead, dryRun, false, actor, comment);
    }

    /** One destination of one file. */
    public ReplayResult replayDelivery(long fileId, String destination, String actor, String comment) {
        return replayDelivery(fileId, destination, false, actor, comment);
    }

    public ReplayResult replayDelivery(long fileId, String destination, boolean dryRun, String actor, String comment) {
        List<DeliveryRecord> dead = queries.deliveries(fileId).stream()
                .filter(d -> d.state() == DeliveryState.DEAD && d.destination().equals(destination)).toList();
        return replay(dead, dryRun, false, actor, comment);
    }

    /**
     * Every dead delivery matching the filter, oldest first, at most {@code cap} (and never more than
     * {@code erphub.delivery.replay-cap}). A dry run lists them and changes nothing.
     */
    public ReplayResult replayMatching(DeadFilter filter, int cap, boolean dryRun, String actor, String comment) {
        int limit = Math.max(1, Math.min(cap, config.delivery().replayCap()));
        // One more than the limit tells a capped result from one that happens to fill it exactly.
        List<DeliveryRecord> dead = new ArrayList<>(queries.dead(filter, limit + 1));
        boolean capped = dead.size() > limit;
        if (capped) {
            dead = dead.subList(0, limit);
        }
        return replay(dead, dryRun, capped, actor, comment);
    }

    private ReplayResult replay(List<DeliveryRecord> dead, boolean dryRun, boolean capped, String actor, String comment) {
        if (comment == null || comment.isBlank()) {
            throw new IllegalArgumentException("a replay needs a comment saying why (it is kept in the ledger)");
        }
        if (dryRun) {
            return new ReplayResult(true, dead, capped);
        }
        String detail = auditDetail(actor, comment);
        List<DeliveryRecord> replayed = new ArrayList<>();
        for (DeliveryRecord d : dead) {
            Optional<DeliveryClaim> claim = deliveries.replay(d.fileId(), d.destination(), detail);
            if (claim.isPresent()) {
                // The API's way into the pipeline: the rate-limited replay route fans the delivery out again.
                producer.sendBody(QUEUE + "?size=" + config.delivery().queueSize() + "&blockWhenFull=true", new Fanout(queries.find(d.fileId()).orElseThrow(), List.of(claim.get())));
                replayed.add(d);
            }
        }
        LOG.infof("Replay of %d dead deliveries (%s)", replayed.size(), detail);
        return new ReplayResult(false, replayed, capped);
    }
}
