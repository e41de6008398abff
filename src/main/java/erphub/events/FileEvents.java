package erphub.events;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import erphub.archive.Archive;
import erphub.delivery.Delivery;
import erphub.delivery.FileDelivery;
import erphub.pipeline.ClaimedFile;
import erphub.pipeline.FileIntake;
import erphub.registration.RegistrationBatches;
import erphub.state.DeliveryRecord;
import erphub.state.FileRecord;
import erphub.state.FileState;
import erphub.state.LedgerQueries;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The event messages of the events routes (routes/erphub-events.yaml) and the Kafka destination's records, all
 * in one JSON shape, schema {@value #SCHEMA} (documented in the README): {@code file.discovered},
 * {@code file.delivered}, {@code file.partially_delivered}, {@code file.rejected}, {@code file.dead_lettered} and
 * {@code file.available}. Each step makes the message body and its headers (the tenant as the Kafka key, the
 * type) from the ledger; everything else the exchange carried is dropped, so nothing internal leaves with it.
 */
// Camel finds the methods the routes call (bean/method steps) reflectively, also in the native executable.
@RegisterForReflection
@ApplicationScoped
@Named("fileEvents")
public class FileEvents {

    public static final String SCHEMA = "erphub.file-event/1";
    /** Header of an event's type on the in-process bus and on Kafka records. */
    public static final String TYPE_HEADER = "erphubEventType";
    /** Exchange property: the event the body holds, as built, so later steps (the event log) need not parse it back. */
    public static final String EVENT = "erphubEvent";
    /** Exchange property of an end state's event: the file's ledger row's updated_at it reports (one event each). */
    public static final String SETTLED_AT = "erphubFileSettledAt";
    private static final Logger LOG = Logger.getLogger(FileEvents.class);

    private final Archive archive;
    private final LedgerQueries queries;
    private final ObjectMapper json;
    private final MeterRegistry meters;
    private final Map<String, LongAdder> observed = new ConcurrentHashMap<>();

    public FileEvents(Archive archive, LedgerQueries queries, ObjectMapper json, MeterRegistry meters) {
        this.archive = archive;
        this.queries = queries;
        this.json = json;
        this.meters = meters;
    }

    /** file.discovered, from the claimed file in the body. */
    public void discovered(Exchange exchange) {
        ClaimedFile f = exchange.getIn().getBody(ClaimedFile.class);
        Map<String, Object> e = envelope("file.discovered", f.tenant(), f.upstream());
        e.put("fileId", f.fileId());
        e.put("remoteId", f.remoteId());
        e.put("version", f.version());
        e.put("fileName", f.name());
        e.put("sizeBytes", f.size());
        e.put("state", FileState.DISCOVERED.name());
        message(exchange, e);
    }

    /** The file's end state (delivered, partially delivered, rejected or dead-lettered), from the ledger. */
    public void settled(Exchange exchange) {
        long fileId = exchange.getProperty(FileIntake.FILE_ID, Long.class);
        FileRecord file = queries.find(fileId).orElseThrow(() -> new IllegalStateException("no file " + fileId));
        String type = switch (file.state()) {
            case DELIVERED -> "file.delivered";
            case PARTIALLY_DELIVERED -> "file.partially_delivered";
            case REJECTED -> "file.rejected";
            case DEAD_LETTERED -> "file.dead_lettered";
            default -> throw new IllegalArgumentException("file " + file.id() + " is not settled: " + file.state());
        };
        message(exchange, fileEvent(type, file, queries.deliveries(fileId)));
        exchange.setProperty(SETTLED_AT, file.updatedAt());
    }

    /** The Kafka destination's record of the delivery's file: metadata and archive location, not the bytes. */
    public void fileRecord(Exchange exchange) {
        Delivery d = exchange.getProperty(FileDelivery.DELIVERY, Delivery.class);
        message(exchange, fileEvent("file.available", d.file(), List.of()));
    }

    /** A dead delivery as published on erphub.delivery.dead-letter-uri: the file's record, the destination, why. */
    public void deadLetter(Exchange exchange) {
        Delivery d = exchange.getProperty(FileDelivery.DELIVERY, Delivery.class);
        Map<String, Object> e = fileEvent("delivery.dead", d.file(), queries.deliveries(d.file().id()));
        e.put("destination", d.destination());
        e.put("reason", exchange.getProperty("erphubDeadReason", String.class));
        message(exchange, e);
        exchange.getIn().setHeader("erphubDestination", d.destination());
    }

    /** batch.rejected: a registration's window that failed its checks, with every reason. */
    public void batchRejected(Exchange exchange) {
        RegistrationBatches.Rejection r = exchange.getIn().getBody(RegistrationBatches.Rejection.class);
        Map<String, Object> e = envelope("batch.rejected", r.tenant(), r.upstream());
        e.put("registrationId", r.registration().id());
        e.put("registrationName", r.registration().spec().name());
        e.put("windowId", r.windowId());
        e.put("state", "REJECTED");
        e.put("reasons", r.reasons());
        message(exchange, e);
    }

    /** The publish succeeded: erphub.events.published{type}. */
    public void published(Exchange exchange) {
        meters.counter("erphub.events.published", "type", type(exchange)).increment();
    }

    /**
     * Events are notifications, not the record: the ledger is. A failed publish is logged and counted
     * (erphub.events.failed) and does not undo or retry the work it reports.
     */
    public void failed(Exchange exchange) {
        String type = type(exchange);
        meters.counter("erphub.events.failed", "type", type).increment();
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        LOG.warnf("event %s of tenant %s not published: %s", type, exchange.getIn().getHeader(KafkaConstants.KEY),
                cause == null ? "unknown" : cause.getMessage());
    }

    private static String type(Exchange exchange) {
        return exchange.getIn().getHeader(TYPE_HEADER, "file.available", String.class);
    }

    private Map<String, Object> fileEvent(String type, FileRecord file, List<DeliveryRecord> deliveries) {
        Map<String, Object> e = envelope(type, file.key().tenant(), file.key().upstream());
        e.put("fileId", file.id());
        e.put("remoteId", file.key().remoteId());
        e.put("version", file.key().version());
        e.put("fileName", file.fileName());
        e.put("sizeBytes", file.sizeBytes());
        e.put("checksum", file.checksum());
        if (file.checksum() != null) {
            e.put("checksumAlgorithm", "SHA-256");
        }
        e.put("state", file.state().name());
        e.put("reason", file.reason());
        if (file.archiveKey() != null) {
            Map<String, Object> location = new LinkedHashMap<>();
            location.put("key", file.archiveKey());
            location.put("location", archive.location(file.archiveKey()));
            e.put("archive", location);
        }
        if (!deliveries.isEmpty()) {
            List<Map<String, Object>> out = new ArrayList<>();
            for (DeliveryRecord r : deliveries) {
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("destination", r.destination());
                d.put("state", r.state().name());
                d.put("tries", r.tries());
                d.put("lastError", r.lastError());
                out.add(d);
            }
            e.put("deliveries", out);
        }
        return e;
    }

    private static Map<String, Object> envelope(String type, String tenant, String upstream) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("schema", SCHEMA);
        e.put("type", type);
        e.put("id", UUID.randomUUID().toString());
        e.put("time", Instant.now().toString());
        e.put("tenant", tenant);
        e.put("upstream", upstream);
        return e;
    }

    private void message(Exchange exchange, Map<String, Object> event) {
        Message in = exchange.getIn();
        erphub.routing.HttpTargets.resetHeaders(in);
        try {
            in.setBody(json.writeValueAsString(event));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write event " + event.get("type"), e);
        }
        in.setHeader(KafkaConstants.KEY, event.get("tenant"));
        in.setHeader(TYPE_HEADER, event.get("type"));
        exchange.setProperty(EVENT, event);
    }

    /** The in-process bus's consumer: counts what passed by, by type (the embedded default's progress). */
    public void observed(Exchange exchange) {
        observed.computeIfAbsent(type(exchange), t -> new LongAdder()).increment();
        if (LOG.isDebugEnabled()) {
            LOG.debugf("event %s", exchange.getIn().getBody(String.class));
        }
    }

    /** Events and records seen on the in-process bus since start, by type. */
    public Map<String, Long> observedCounts() {
        Map<String, Long> out = new LinkedHashMap<>();
        observed.forEach((type, n) -> out.put(type, n.sum()));
        return out;
    }
}
