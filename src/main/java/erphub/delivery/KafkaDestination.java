package erphub.delivery;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;

import erphub.config.ErphubConfig;
import erphub.pipeline.Endpoints;
import erphub.events.FileEvents;
import erphub.tenant.TenantDirectory;

/**
 * One record per delivered file on a topic (the tenant's own, or the shared one), keyed by tenant: the
 * file's metadata and its archive location, a claim check, never the bytes. The producer is idempotent
 * ({@code camel.component.kafka.enable-idempotence}).
 */
@ApplicationScoped
public class KafkaDestination implements Destination {

    public static final String NAME = "kafka";

    private final ProducerTemplate producer;
    private final Endpoints endpoints;
    private final FileEvents events;
    private final TenantDirectory tenants;
    private final String uri;

    public KafkaDestination(ProducerTemplate producer, FileEvents events, TenantDirectory tenants, ErphubConfig config, Endpoints endpoints) {
        this.producer = producer;
        this.endpoints = endpoints;
        this.events = events;
        this.tenants = tenants;
        this.uri = config.destinations().kafka().uri();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String deliver(Delivery d) {
        String record = events.fileRecord(d);
        Exchange sent = producer.send(endpoints.resolve(uri), e -> {
            e.getIn().setBody(record);
            e.getIn().setHeader(KafkaConstants.KEY, d.tenant());
            tenants.kafkaTopic(d.tenant()).ifPresent(topic -> e.getIn().setHeader(KafkaConstants.OVERRIDE_TOPIC, topic));
        });
        if (sent.getException() != null) {
            throw new DeliveryFailedException("publishing the file record failed: " + sent.getException().getMessage(),
                    null, sent.getException());
        }
        return "record published" + tenants.kafkaTopic(d.tenant()).map(t -> " on " + t).orElse("");
    }
}
