package erphub.registration;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.camel.Message;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import erphub.registration.RegistrationBatches.BatchClaim;
import erphub.routing.HttpTargets;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The two ends of a webhook delivery around Camel HTTP's call (routes/erphub-registrations.yaml): the request (the
 * batch's manifest, schema {@value #SCHEMA}, signed as {@link WebhookSignature} says, to a URL checked again now)
 * and the answer (2xx delivered; 408, 429 and 5xx retried with Retry-After; other statuses retried too, since a
 * consumer's endpoint may be mid-deployment, until the batch's tries are spent).
 */
// Camel finds the methods the routes call (bean/method steps) reflectively, also in the native executable.
@RegisterForReflection
@ApplicationScoped
@Named("webhookDelivery")
public class WebhookDelivery {

    public static final String SCHEMA = "erphub.batch/1";
    static final String GONE = "erphubRegistrationGone";

    private final RegistrationStore registrations;
    private final RegistrationBatches batches;
    private final WebhookTargets targets;
    private final ObjectMapper json;

    public WebhookDelivery(RegistrationStore registrations, RegistrationBatches batches, WebhookTargets targets,
            ObjectMapper json) {
        this.registrations = registrations;
        this.batches = batches;
        this.targets = targets;
        this.json = json;
    }

    /**
     * The manifest as the body, the signature headers, the URL; property {@value #GONE} when the registration was
     * deleted meanwhile.
     */
    public void request(Exchange exchange) throws JsonProcessingException {
        BatchClaim b = exchange.getProperty(RegistrationBatches.BATCH, BatchClaim.class);
        Optional<Registration> found = registrations.find(b.registrationId());
        if (found.isEmpty()) {
            exchange.setProperty(GONE, true);
            return;
        }
        Registration r = found.get();
        Instant now = Instant.now();
        ObjectNode manifest = json.createObjectNode();
        manifest.put("schema", SCHEMA);
        manifest.put("type", "batch");
        manifest.put("id", b.id());
        manifest.put("registrationId", r.id());
        manifest.put("registrationName", r.spec().name());
        manifest.put("tenant", b.tenant());
        manifest.put("upstream", b.upstream());
        manifest.put("attempt", b.tries() + 1);
        manifest.put("sentAt", now.toString());
        ArrayNode events = manifest.putArray("events");
        for (String payload : batches.payloads(b.id())) {
            ObjectNode event = (ObjectNode) json.readTree(payload);
            if (event.hasNonNull("fileId")) {
                event.putObject("links").put("file", "/api/files/" + event.get("fileId").asLong());
            }
            events.add(event);
        }
        manifest.put("count", events.size());
        byte[] body = json.writeValueAsBytes(manifest);
        Message in = exchange.getIn();
        HttpTargets.resetHeaders(in);
        HttpTargets.target(exchange, "POST", targets.check(r.spec().channel().url()).toString());
        long timestamp = now.getEpochSecond();
        List<String> secrets = r.signingSecrets(now);
        in.setHeader("webhook-id", b.id());
        in.setHeader("webhook-timestamp", Long.toString(timestamp));
        in.setHeader("webhook-signature", WebhookSignature.header(secrets, b.id(), timestamp, body));
        in.setHeader(Exchange.CONTENT_TYPE, "application/json");
        in.setHeader("User-Agent", "erphub-webhooks");
        in.setBody(body);
    }

    /** Delivered on 2xx; otherwise the try failed, with the status and the receiver's Retry-After. */
    public void response(Exchange exchange) {
        int status = HttpTargets.status(exchange);
        HttpTargets.discardBody(exchange);
        if (status >= 200 && status < 300) {
            batches.delivered(exchange);
            return;
        }
        exchange.setProperty("erphubBatchError", "HTTP " + status + " from the webhook");
        exchange.setProperty("erphubRetryAfter", HttpTargets.retryAfter(exchange.getIn().getHeader("Retry-After")));
        batches.failed(exchange);
    }

    /** Not yet an HTTP answer: the URL is refused now, or the call failed (connection, timeout). */
    public void callFailed(Exchange exchange) {
        batches.failed(exchange);
    }
}
