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
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import erphub.config.ErphubConfig;
import erphub.pipeline.Endpoints;
import erphub.delivery.Delivery;
import erphub.pipeline.Archive;
import erphub.pipeline.ClaimedFile;
import erphub.state.DeliveryRecord;
import erphub.state.FileRecord;
import erphub.state.FileState;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Lifecycle events of files ({@code file.discovered}, {@code file.delivered}, {@code file.partially_delivered},
 * {@code file.rejected}, {@code file.dead_lettered}) and the per-file records of the Kafka destination
 * ({@code file.available}), all in one JSON shape, schema {@value #SCHEMA} (documented in the README).
 * Keyed by tenant. Events go to {@code erphub.events.uri}: Kafka in prod, the in-process bus here.
 */
@ApplicationScoped
@Named("fileEvents")
public class FileEvents {

    public static final String SCHEMA = "erphub.file-event/1";
    /** Header of an event's type on the in-process bus and on Kafka records. */
    public static final String TYPE_HEADER = "erphubEventType";
    private static final Logger LOG = Logger.getLogger(FileEvents.class);

    private final ProducerTemplate producer;
    private final Endpoints endpoints;
    private final Archive archive;
    private final ObjectMapper json;
    private final MeterRegistry meters;
    private final String uri;
    private final Map<String, LongAdder> observed = new ConcurrentHashMap<>();

    public FileEvents(ProducerTemplate producer, Archive archive, ObjectMapper json, MeterRegistry meters,
            ErphubConfig config, Endpoints endpoints) {
        this.producer = producer;
        this.endpoints = endpoints;
        this.archive = archive;
        this.json = json;
        this.meters = meters;
        this.uri = config.events().uri();
    }

    public void discovered(ClaimedFile f) {
        Map<String, Object> e = envelope("file.discovered", f.tenant(), f.upstream());
        e.put("fileId", f.fileId());
        e.put("remoteId", f.remoteId());
        e.put("version", f.version());
        e.put("fileName", f.name());
        e.put("sizeBytes", f.size());
        e.put("checksum", f.checksum());
        e.put("state", FileState.DISCOVERED.name());
        publish(e);
    }

    /** The file reached an end state: delivered, partially delivered, rejected or dead-lettered. */
    public void settled(FileRecord file, List<DeliveryRecord> deliveries) {
        String type = switch (file.state()) {
            case DELIVERED -> "file.delivered";
            case PARTIALLY_DELIVERED -> "file.partially_delivered";
            case REJECTED -> "file.rejected";
            case DEAD_LETTERED -> "file.dead_lettered";
            default -> throw new IllegalArgumentException("file " + file.id() + " is not settled: " + file.state());
        };
        publish(fileEvent(type, file, deliveries));
    }

    /** The Kafka destination's record of a delivered file: metadata and archive location, not the bytes. */
    public String fileRecord(Delivery d) {
        return write(fileEvent("file.available", d.file(), List.of()));
    }

    private Map<String, Object> fileEvent(String type, FileRecord file, List<DeliveryRecord> deliveries) {
        Map<String, Object> e = envelope(type, file.key().tenant(), file.key().upstream());
        e.put("fileId", file.id());
        e.put("remoteId", file.key().remoteId());
        e.put("version", file.key().version());
        e.put("fileName", file.fileName());
        e.put("sizeBytes", file.sizeBytes());
        e.put("checksum", file.checksum());
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

    /**
     * Events are notifications, not the record: the ledger is. A failed publish is logged and counted
     * (erphub.events.failed) and does not undo or retry the work it reports.
     */
    private void publish(Map<String, Object> event) {
        String type = (String) event.get("type");
        String body = write(event);
        Exchange sent = producer.send(endpoints.resolve(uri), x -> {
            x.getIn().setBody(body);
            x.getIn().setHeader(KafkaConstants.KEY, event.get("tenant"));
            x.getIn().setHeader(TYPE_HEADER, type);
        });
        if (sent.getException() != null) {
            meters.counter("erphub.events.failed", "type", type).increment();
            LOG.warnf("event %s of %s/%s file %s not published: %s", type, event.get("tenant"), event.get("upstream"),
                    event.get("fileId"), sent.getException().getMessage());
        } else {
            meters.counter("erphub.events.published", "type", type).increment();
        }
    }

    private String write(Map<String, Object> event) {
        try {
            return json.writeValueAsString(event);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write event " + event.get("type"), e);
        }
    }

    /** The in-process bus's consumer: counts what passed by, by type (the embedded default's progress). */
    public void observed(Exchange exchange) {
        String type = exchange.getIn().getHeader(TYPE_HEADER, "file.available", String.class);
        observed.computeIfAbsent(type, t -> new LongAdder()).increment();
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
