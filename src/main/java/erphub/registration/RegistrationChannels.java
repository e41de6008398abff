package erphub.registration;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import erphub.config.ErphubConfig;
import erphub.delivery.SftpDestination;
import erphub.registration.RegistrationBatches.BatchClaim;
import erphub.routing.HttpTargets;
import erphub.tenant.TenantDirectory;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The steps of routes/erphub-registrations.yaml around each channel's Camel endpoint: the batch's manifest (schema
 * {@value #SCHEMA}, the same for every channel), then per channel its addressing: a webhook's signature headers
 * ({@link WebhookSignature}) and URL, checked again now; an SFTP manifest file's server, login and path (the
 * tenant's, as the SFTP destination has them); a Kafka record's topic and key. Also what a registration's channel
 * must satisfy to be saved.
 */
// Camel finds the methods the routes call (bean/method steps) reflectively, also in the native executable.
@RegisterForReflection
@ApplicationScoped
@Named("registrationChannels")
public class RegistrationChannels {

    public static final String SCHEMA = "erphub.batch/1";
    /** Exchange property: the channel type of the batch's registration (its route is erphub-registrations-send-<type>). */
    static final String CHANNEL = "erphubChannel";
    static final String REGISTRATION = "erphubRegistration";
    static final String GONE = "erphubRegistrationGone";
    /** Exchange property: the files an SFTP batch carries beside its manifest ({@link FileCopy}). */
    static final String FILE_COPIES = "erphubBatchFiles";
    /**
     * Exchange property of one carried file while it is read and uploaded. Named as a delivery's is: the archive read
     * (route erphub-archive-read) takes the key from its {@code archiveKey}.
     */
    static final String ARCHIVED_FILE = "delivery";
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    private final RegistrationStore registrations;
    private final RegistrationBatches batches;
    private final WebhookTargets targets;
    private final SftpDestination sftp;
    private final TenantDirectory tenants;
    private final ErphubConfig config;
    private final ObjectMapper json;

    public RegistrationChannels(RegistrationStore registrations, RegistrationBatches batches, WebhookTargets targets,
            SftpDestination sftp, TenantDirectory tenants, ErphubConfig config, ObjectMapper json) {
        this.registrations = registrations;
        this.batches = batches;
        this.targets = targets;
        this.sftp = sftp;
        this.tenants = tenants;
        this.config = config;
        this.json = json;
    }

    /** What a channel needs beyond its shape, or an IllegalArgumentException saying what is wrong. */
    public void check(RegistrationSpec spec) {
        switch (spec.channel().type()) {
            case "webhook" -> targets.check(spec.channel().url());
            case "kafka" -> {
                if (!config.destinations().kafka().uri().startsWith("kafka:")) {
                    throw new IllegalArgumentException("channel.type: this erphub has no Kafka (erphub.destinations.kafka.uri)");
                }
                String prefix = topicPrefix(spec.tenant());
                if (!spec.channel().topic().startsWith(prefix) || spec.channel().topic().length() == prefix.length()) {
                    throw new IllegalArgumentException("channel.topic: must start with '" + prefix + "'");
                }
            }
            default -> {
                // sftp: the folder's shape is all (RegistrationSpec); the server is the tenant's.
            }
        }
    }

    /** Topics a registration may write to start with this: the operator's prefix, and the tenant's id for a tenant's. */
    public String topicPrefix(String tenant) {
        String prefix = config.registrations().kafkaTopicPrefix();
        return tenant == null ? prefix : prefix + tenant + ".";
    }

    /**
     * The batch's manifest as the body, its channel type in {@value #CHANNEL}; property {@value #GONE} when the
     * registration was deleted meanwhile (its batches went with it).
     */
    public void manifest(Exchange exchange) throws JsonProcessingException {
        BatchClaim b = exchange.getProperty(RegistrationBatches.BATCH, BatchClaim.class);
        Optional<Registration> found = registrations.find(b.registrationId());
        if (found.isEmpty()) {
            exchange.setProperty(GONE, true);
            return;
        }
        Registration r = found.get();
        ObjectNode manifest = json.createObjectNode();
        manifest.put("schema", SCHEMA);
        manifest.put("type", "batch");
        manifest.put("id", b.id());
        manifest.put("registrationId", r.id());
        manifest.put("registrationName", r.spec().name());
        manifest.put("tenant", b.tenant());
        manifest.put("upstream", b.upstream());
        manifest.put("windowId", b.windowId());
        if (b.fileType() != null) {
            manifest.put("fileType", b.fileType());
        }
        manifest.put("attempt", b.tries() + 1);
        manifest.put("sentAt", Instant.now().toString());
        ArrayNode events = manifest.putArray("events");
        List<FileCopy> copies = new ArrayList<>();
        for (String payload : batches.payloads(b.id())) {
            ObjectNode event = (ObjectNode) json.readTree(payload);
            if (event.hasNonNull("fileId")) {
                event.putObject("links").put("file", "/api/files/" + event.get("fileId").asLong());
                if (r.spec().channel().withFiles() && event.path("archive").hasNonNull("key")
                        && event.hasNonNull("fileName")) {
                    // Beside the manifest, in a folder of the batch: <file id>-<name>, so two versions never collide.
                    String path = "batch-" + b.id() + "/" + event.get("fileId").asLong() + "-"
                            + event.get("fileName").asText();
                    event.put("path", path);
                    copies.add(new FileCopy(event.path("archive").get("key").asText(), path));
                }
            }
            events.add(event);
        }
        exchange.setProperty(FILE_COPIES, copies);
        manifest.put("count", events.size());
        Message in = exchange.getIn();
        HttpTargets.resetHeaders(in);
        in.setBody(json.writeValueAsBytes(manifest));
        exchange.setProperty(REGISTRATION, r);
        exchange.setProperty(CHANNEL, r.spec().channel().type());
    }

    /** A webhook call: the URL (checked again: its name may point elsewhere now) and the signature headers. */
    public void webhook(Exchange exchange) {
        BatchClaim b = exchange.getProperty(RegistrationBatches.BATCH, BatchClaim.class);
        Registration r = exchange.getProperty(REGISTRATION, Registration.class);
        byte[] body = exchange.getIn().getBody(byte[].class);
        Message in = exchange.getIn();
        HttpTargets.target(exchange, "POST", targets.check(r.spec().channel().url()).toString());
        Instant now = Instant.now();
        List<String> secrets = r.signingSecrets(now);
        in.setHeader("webhook-id", b.id());
        in.setHeader("webhook-timestamp", Long.toString(now.getEpochSecond()));
        in.setHeader("webhook-signature", WebhookSignature.header(secrets, b.id(), now.getEpochSecond(), body));
        in.setHeader(Exchange.CONTENT_TYPE, "application/json");
        in.setHeader("User-Agent", "erphub-webhooks");
    }

    /** 2xx took the batch; anything else fails this try, with the status and the receiver's Retry-After. */
    public void webhookAnswered(Exchange exchange) {
        int status = HttpTargets.status(exchange);
        HttpTargets.discardBody(exchange);
        if (status < 200 || status >= 300) {
            exchange.setProperty("erphubRetryAfter", HttpTargets.retryAfter(exchange.getIn().getHeader("Retry-After")));
            throw new BatchTryFailedException("HTTP " + status + " from the webhook");
        }
    }

    /**
     * An SFTP manifest: {@code batch-<time>-<batch id>.json} in the registration's folder under the batch tenant's
     * SFTP folder, on the tenant's server, as the SFTP destination addresses it (temp name, rename, host key).
     */
    public void sftp(Exchange exchange) {
        BatchClaim b = exchange.getProperty(RegistrationBatches.BATCH, BatchClaim.class);
        sftp.target(exchange, b.tenant(), folder(exchange) + "/batch-" + STAMP.format(Instant.now()) + "-" + b.id()
                + ".json");
    }

    /**
     * One file an SFTP batch carries: its archive key (read as a delivery reads it, route erphub-archive-read) and its
     * path under the registration's folder, as the manifest names it.
     */
    public record FileCopy(String archiveKey, String path) {
    }

    /** The files an SFTP batch with includeFiles carries (none otherwise), in manifest order. */
    public List<FileCopy> fileCopies(Exchange exchange) {
        List<?> copies = exchange.getProperty(FILE_COPIES, List.class);
        List<FileCopy> out = new ArrayList<>();
        if (copies != null) {
            copies.forEach(c -> out.add((FileCopy) c));
        }
        return out;
    }

    /** One file of an SFTP batch: its path under the registration's folder on the tenant's server. */
    public void sftpFile(Exchange exchange) {
        BatchClaim b = exchange.getProperty(RegistrationBatches.BATCH, BatchClaim.class);
        FileCopy copy = exchange.getProperty(ARCHIVED_FILE, FileCopy.class);
        sftp.target(exchange, b.tenant(), folder(exchange) + "/" + copy.path());
    }

    private String folder(Exchange exchange) {
        BatchClaim b = exchange.getProperty(RegistrationBatches.BATCH, BatchClaim.class);
        Registration r = exchange.getProperty(REGISTRATION, Registration.class);
        String folder = r.spec().channel().folder() == null ? config.registrations().sftpFolder() : r.spec().channel().folder();
        return tenants.sftpFolder(b.tenant()) + "/" + folder;
    }

    /** A Kafka record on the registration's topic, keyed by tenant. */
    public void kafka(Exchange exchange) {
        BatchClaim b = exchange.getProperty(RegistrationBatches.BATCH, BatchClaim.class);
        Registration r = exchange.getProperty(REGISTRATION, Registration.class);
        exchange.getIn().setHeader(KafkaConstants.KEY, b.tenant());
        exchange.getIn().setHeader(KafkaConstants.OVERRIDE_TOPIC, r.spec().channel().topic());
        exchange.getIn().setHeader("erphubBatchId", b.id());
    }

    /** A try that ended in an answer other than success; the batch is tried again later. */
    public static final class BatchTryFailedException extends RuntimeException {
        public BatchTryFailedException(String message) {
            super(message, null, false, false);
        }
    }
}
