package erphub.delivery;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.jboss.logging.Logger;

import erphub.routing.Failures;

import erphub.config.ErphubConfig;
import erphub.state.DeliveryLedger;
import erphub.state.DeliveryLedger.DeliveryClaim;
import erphub.state.DeliveryLedger.Settled;
import erphub.state.Fanout;
import erphub.state.FileState;
import erphub.state.LedgerQueries;
import erphub.state.StaleClaimException;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The ledger steps of the destination routes (routes/erphub-delivery.yaml): a worker's claim on its delivery,
 * every attempt's outcome (DELIVERED, RETRYING, DEAD), the file settling with its last delivery, and the sweep
 * that takes over deliveries whose node went away.
 */
// Camel finds the methods the routes call (bean/method steps) reflectively, also in the native executable.
@RegisterForReflection
@ApplicationScoped
@Named("fileDelivery")
public class FileDelivery {

    private static final Logger LOG = Logger.getLogger(FileDelivery.class);
    /** The delivery a destination route works on. */
    public static final String DELIVERY = "delivery";
    /** The file's end state, when this step settled it (events are published for it). */
    public static final String FILE_SETTLED = "erphubFileSettled";
    /** Whether the dead route recorded the delivery as DEAD (false: it was taken over meanwhile). */
    public static final String DEAD = "erphubDead";

    private final DeliveryLedger deliveries;
    private final LedgerQueries queries;
    private final ErphubConfig config;
    private final MeterRegistry meters;

    public FileDelivery(DeliveryLedger deliveries, LedgerQueries queries, ErphubConfig config, MeterRegistry meters) {
        this.deliveries = deliveries;
        this.queries = queries;
        this.config = config;
        this.meters = meters;
    }

    /** Renews the delivery's lease as a worker starts on it; false when it was taken over (then dropped). */
    public boolean stillOwned(Exchange exchange) {
        Delivery d = delivery(exchange);
        exchange.setProperty("erphubFileId", d.file().id());
        exchange.setProperty("erphubDeliveryStarted", System.nanoTime());
        if (deliveries.renewLease(d.claim())) {
            return true;
        }
        LOG.infof("%s: claim %d superseded, dropped", d, d.claim().claim());
        return false;
    }

    /** The attempt succeeded: DELIVERED, and the file settled if this was its last open delivery. */
    public void delivered(Exchange exchange) {
        Delivery d = delivery(exchange);
        try (var log = d.log()) {
            String detail = exchange.getProperty("erphubDeliveryDetail", "delivered", String.class);
            Long started = exchange.getProperty("erphubDeliveryStarted", Long.class);
            if (started != null) {
                meters.timer("erphub.delivery.duration", "destination", d.destination(), "outcome", "delivered")
                        .record(System.nanoTime() - started, java.util.concurrent.TimeUnit.NANOSECONDS);
            }
            Settled settled = deliveries.delivered(d.claim(), detail);
            count(d, "delivered");
            LOG.debugf("%s delivered: %s", d, detail);
            settled.fileState().ifPresent(state -> fileSettled(exchange, d, state));
        }
    }

    /** A failed attempt that will be retried: RETRYING with the error (called by the route's onExceptionOccurred step). */
    void retrying(Exchange exchange, Exception cause) {
        Delivery d = delivery(exchange);
        if (d == null) {
            return;
        }
        try (var log = d.log()) {
            String error = Failures.describe(cause);
            try {
                deliveries.retrying(d.claim(), error);
            } catch (StaleClaimException stale) {
                LOG.infof("%s: %s", d, stale.getMessage());
                return;
            }
            count(d, "retrying");
            LOG.infof("%s failed, will retry: %s", d, error);
        }
    }

    /**
     * DEAD, replayable from the archive: refused by the destination (this attempt counts), or retries exhausted
     * (the last attempt is already counted as RETRYING).
     */
    public void dead(Exchange exchange) {
        Delivery d = delivery(exchange);
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        boolean refused = cause instanceof DeliveryRefusedException;
        try (var log = d.log()) {
            String reason = Failures.describe(cause);
            Settled settled;
            try {
                settled = deliveries.dead(d.claim(), reason, refused);
            } catch (StaleClaimException e) {
                LOG.infof("%s: %s", d, e.getMessage());
                exchange.setProperty(DEAD, false);
                return;
            }
            exchange.setProperty(DEAD, true);
            exchange.setProperty("erphubDeadReason", reason);
            count(d, "dead");
            LOG.warnf("%s DEAD: %s", d, reason);
            settled.fileState().ifPresent(state -> fileSettled(exchange, d, state));
        }
    }

    /** Error handler step: the delivery was taken over or replayed meanwhile; this worker's result does not count. */
    public void superseded(Exchange exchange) {
        Delivery d = delivery(exchange);
        LOG.infof("%s: %s", d, Failures.describe(exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class)));
    }

    private void fileSettled(Exchange exchange, Delivery d, FileState state) {
        exchange.setProperty(FILE_SETTLED, state.name());
        meters.counter("erphub.files", "tenant", d.tenant(), "upstream", d.upstream(), "outcome",
                state.name().toLowerCase(Locale.ROOT)).increment();
        if (state == FileState.DELIVERED) {
            LOG.debugf("%s/%s file %d (%s) DELIVERED", d.tenant(), d.upstream(), d.file().id(), d.file().key().remoteId());
        } else {
            LOG.warnf("%s/%s file %d (%s) %s", d.tenant(), d.upstream(), d.file().id(), d.file().key().remoteId(), state);
        }
    }

    /** The sweeper: deliveries whose node went away are taken over, one fan-out per delivery, to be queued again. */
    public List<Fanout> sweep() {
        List<DeliveryClaim> taken = deliveries.takeOverExpired(config.delivery().sweepBatch());
        if (!taken.isEmpty()) {
            LOG.infof("Took over %d deliveries whose lease had ended", taken.size());
        }
        List<Fanout> out = new ArrayList<>(taken.size());
        for (DeliveryClaim claim : taken) {
            queries.find(claim.fileId()).ifPresent(file -> out.add(new Fanout(file, List.of(claim))));
        }
        return out;
    }

    private static Delivery delivery(Exchange exchange) {
        return exchange.getProperty(DELIVERY, Delivery.class);
    }

    private void count(Delivery d, String outcome) {
        meters.counter("erphub.deliveries", "tenant", d.tenant(), "destination", d.destination(), "outcome", outcome)
                .increment();
    }

}
