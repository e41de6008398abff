package erphub.delivery;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.jboss.logging.Logger;

import erphub.config.ErphubConfig;
import erphub.pipeline.Endpoints;
import erphub.events.FileEvents;
import erphub.pipeline.ClaimedFile;
import erphub.pipeline.FileIntake;
import erphub.pipeline.FileIntake.Archived;
import erphub.pipeline.FileLogContext;
import erphub.pipeline.FileValidation;
import erphub.pipeline.PermanentUpstreamException;
import erphub.pipeline.UpstreamSpec;
import erphub.pipeline.UpstreamSpecs;
import erphub.state.DeliveryStore;
import erphub.state.DeliveryStore.DeliveryClaim;
import erphub.state.DeliveryStore.Settled;
import erphub.state.FileRecord;
import erphub.state.FileState;
import erphub.state.FileStateStore;
import erphub.state.StaleClaimException;
import erphub.tenant.TenantFairQueue;
import erphub.tenant.TenantQueues;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * VALIDATE and FAN-OUT. After the archive write, the upstream's checks run on the archived bytes and the
 * file gets one PENDING delivery per destination, queued on that destination's own route. Each destination
 * route delivers with its own workers and redelivery policy; this bean records every attempt in the
 * ledger, settles the file when its last delivery settles, and publishes the lifecycle events.
 */
@ApplicationScoped
@Named("fileDelivery")
public class FileDelivery {

    private static final Logger LOG = Logger.getLogger(FileDelivery.class);

    private final Map<String, Destination> destinations = new HashMap<>();
    private final UpstreamSpecs specs;
    private final FileValidation validation;
    private final DeliveryStore deliveries;
    private final FileStateStore files;
    private final FileIntake intake;
    private final FileEvents events;
    private final ProducerTemplate producer;
    private final Endpoints endpoints;
    private final ErphubConfig config;
    private final MeterRegistry meters;

    public FileDelivery(Instance<Destination> all, UpstreamSpecs specs, FileValidation validation,
            DeliveryStore deliveries, FileStateStore files, FileIntake intake, FileEvents events,
            ProducerTemplate producer, ErphubConfig config, MeterRegistry meters, Endpoints endpoints) {
        all.forEach(d -> destinations.put(d.name(), d));
        this.specs = specs;
        this.validation = validation;
        this.deliveries = deliveries;
        this.files = files;
        this.intake = intake;
        this.events = events;
        this.producer = producer;
        this.endpoints = endpoints;
        this.config = config;
        this.meters = meters;
    }

    /**
     * Records ARCHIVED with the validation's verdict and opens the deliveries, then queues them. Runs in the
     * intake route, under its claim and error handler.
     */
    public void validateAndFanOut(ClaimedFile file, Archived archived) {
        try (FileLogContext log = FileLogContext.of(file.tenant(), file.upstream(), file.fileId(), file.remoteId(), "")) {
            UpstreamSpec spec = specs.forUpstream(file.upstream())
                    .orElseThrow(() -> new PermanentUpstreamException("upstream " + file.upstream() + " has no route", 0));
            Optional<String> rejection = validation.check(spec.checks(), file.name(), archived.key());
            List<DeliveryClaim> opened = deliveries.archived(file.fileId(), file.attempt(), archived.key(),
                    "archived as " + archived.key() + ", " + archived.bytes() + " bytes, " + archived.digest(),
                    archived.bytes(), rejection, spec.destinations());
            if (rejection.isPresent()) {
                intake.outcome(file, "rejected");
                files.find(file.fileId()).ifPresent(row -> events.settled(row, List.of()));
                LOG.warnf("%s/%s file %d (%s) archived as %s and REJECTED: %s", file.tenant(), file.upstream(),
                        file.fileId(), file.remoteId(), archived.key(), rejection.get());
                return;
            }
            intake.outcome(file, "archived");
            LOG.infof("%s/%s file %d (%s) archived as %s, %d bytes%s", file.tenant(), file.upstream(), file.fileId(),
                    file.remoteId(), archived.key(), archived.bytes(),
                    opened.isEmpty() ? "" : ", fan-out to " + String.join(", ", spec.destinations()));
            opened.forEach(this::enqueue);
        }
    }

    /** Hands a delivery to its destination's queue, with the file as the ledger has it. */
    public void enqueue(DeliveryClaim claim) {
        FileRecord file = files.find(claim.fileId())
                .orElseThrow(() -> new IllegalStateException("no file " + claim.fileId() + " for " + claim));
        producer.sendBodyAndHeader(endpoints.resolve(queueUri(claim.destination())), new Delivery(claim, file),
                TenantFairQueue.TENANT_HEADER, file.key().tenant());
    }

    /** The destination's queue: tenant-fair, shared by this producer and the destination route's workers. */
    public static String queueUri(String destination) {
        return "seda:erphub-deliver-" + destination + "?queue=#" + TenantQueues.deliveryQueue(destination)
                + "&blockWhenFull=true";
    }

    /** Renews the delivery's lease as a worker starts on it; false when it was taken over (then dropped). */
    public boolean stillOwned(Delivery d) {
        if (deliveries.renewLease(d.claim())) {
            return true;
        }
        LOG.infof("%s: claim %d superseded, dropped", d, d.claim().claim());
        return false;
    }

    /**
     * One attempt. Success settles the delivery (and maybe the file); a refusal makes it DEAD at once; any
     * other failure is recorded as RETRYING and rethrown for the route's redelivery policy.
     */
    public void deliver(Delivery d, Exchange exchange) {
        try (FileLogContext log = FileLogContext.of(d.tenant(), d.upstream(), d.file().id(), d.file().key().remoteId(),
                d.destination())) {
            Destination destination = destinations.get(d.destination());
            Timer.Sample started = Timer.start(meters);
            String detail;
            try {
                if (destination == null) {
                    throw new DeliveryRefusedException("no destination named " + d.destination(), null);
                }
                detail = destination.deliver(d);
            } catch (DeliveryRefusedException e) {
                dead(d, e, true);
                return;
            } catch (Exception e) {
                retrying(d, e, exchange);
                return;
            }
            started.stop(meters.timer("erphub.delivery.duration", "destination", d.destination(), "outcome", "delivered"));
            try {
                Settled settled = deliveries.delivered(d.claim(), detail);
                count(d, "delivered");
                LOG.debugf("%s delivered: %s", d, detail);
                settled.fileState().ifPresent(state -> fileSettled(d, state));
            } catch (StaleClaimException e) {
                LOG.infof("%s: delivered, but the delivery was taken over meanwhile: %s", d, e.getMessage());
            }
        }
    }

    private void retrying(Delivery d, Exception e, Exchange exchange) {
        String error = FileIntake.describe(e);
        try {
            deliveries.retrying(d.claim(), error);
        } catch (StaleClaimException stale) {
            LOG.infof("%s: %s", d, stale.getMessage());
            return;
        }
        count(d, "retrying");
        if (e instanceof DeliveryFailedException failed) {
            failed.retryAfter().ifPresent(after -> exchange.getIn().setHeader(Exchange.REDELIVERY_DELAY, after.toMillis()));
        }
        LOG.infof("%s failed, will retry: %s", d, error);
        throw e instanceof RuntimeException r ? r : new DeliveryFailedException(error, null, e);
    }

    /** Retries exhausted (the route's dead-letter channel): DEAD, replayable from the archive. */
    public void dead(Delivery d, Exception cause) {
        dead(d, cause, false);
    }

    private void dead(Delivery d, Exception cause, boolean attempted) {
        try (FileLogContext log = FileLogContext.of(d.tenant(), d.upstream(), d.file().id(), d.file().key().remoteId(),
                d.destination())) {
            String reason = FileIntake.describe(cause);
            Settled settled;
            try {
                settled = deliveries.dead(d.claim(), reason, attempted);
            } catch (StaleClaimException e) {
                LOG.infof("%s: %s", d, e.getMessage());
                return;
            }
            count(d, "dead");
            LOG.warnf("%s DEAD: %s", d, reason);
            config.delivery().deadLetterUri().filter(uri -> !uri.isBlank()).ifPresent(uri -> publishDeadLetter(uri, d, reason));
            settled.fileState().ifPresent(state -> fileSettled(d, state));
        }
    }

    private void publishDeadLetter(String uri, Delivery d, String reason) {
        Exchange sent = producer.send(endpoints.resolve(uri), e -> {
            e.getIn().setBody(events.fileRecord(d));
            e.getIn().setHeader(org.apache.camel.component.kafka.KafkaConstants.KEY, d.tenant());
            e.getIn().setHeader("erphubDestination", d.destination());
            e.getIn().setHeader("erphubReason", reason);
        });
        if (sent.getException() != null) {
            LOG.warnf("%s: dead letter not published to %s: %s", d, uri, sent.getException().getMessage());
        }
    }

    private void fileSettled(Delivery d, FileState state) {
        intake.outcome(d.tenant(), d.upstream(), state.name().toLowerCase(java.util.Locale.ROOT));
        files.find(d.file().id()).ifPresent(row -> events.settled(row, deliveries.deliveries(row.id())));
        if (state == FileState.DELIVERED) {
            LOG.infof("%s/%s file %d (%s) DELIVERED", d.tenant(), d.upstream(), d.file().id(), d.file().key().remoteId());
        } else {
            LOG.warnf("%s/%s file %d (%s) %s", d.tenant(), d.upstream(), d.file().id(), d.file().key().remoteId(), state);
        }
    }

    /** The sweeper: deliveries whose node went away are taken over and queued here again. */
    public int sweep() {
        List<DeliveryClaim> taken = deliveries.takeOverExpired(config.delivery().sweepBatch());
        if (!taken.isEmpty()) {
            LOG.infof("Took over %d deliveries whose lease had ended", taken.size());
        }
        taken.forEach(this::enqueue);
        return taken.size();
    }

    private void count(Delivery d, String outcome) {
        meters.counter("erphub.deliveries", "tenant", d.tenant(), "destination", d.destination(), "outcome", outcome)
                .increment();
    }
}
