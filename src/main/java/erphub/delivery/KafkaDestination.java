package erphub.delivery;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Named;

import org.apache.camel.Processor;
import org.apache.camel.component.kafka.KafkaConstants;

import erphub.config.ErphubConfig;
import erphub.tenant.TenantDirectory;

/**
 * One record per delivered file (route {@code erphub-send-kafka}): the file's metadata and archive location, a
 * claim check, never the bytes, keyed by tenant, on the tenant's own topic when its registry entry names one,
 * with the delivery's {@code Idempotency-Key} header.
 */
@ApplicationScoped
public class KafkaDestination implements Destination {

    public static final String NAME = "kafka";
    /** The record header naming the delivery, the same on a resent copy. */
    public static final String IDEMPOTENCY_KEY = "Idempotency-Key";

    private final ErphubConfig.Kafka config;
    private final TenantDirectory tenants;

    public KafkaDestination(ErphubConfig config, TenantDirectory tenants) {
        this.config = config.destinations().kafka();
        this.tenants = tenants;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ErphubConfig.Redelivery settings() {
        return config;
    }

    @Produces
    @Named("kafkaTarget")
    Processor target() {
        return exchange -> {
            Delivery d = exchange.getProperty(FileDelivery.DELIVERY, Delivery.class);
            exchange.getIn().setHeader(KafkaConstants.KEY, d.tenant());
            // Delivery is at least once: a replica that dies between the broker's ack and the ledger's DELIVERED
            // leaves the record to be sent again by the replica that takes the delivery over. The key (the same
            // shape as the ERP's) lets a consumer drop the second copy.
            exchange.getIn().setHeader(IDEMPOTENCY_KEY, d.idempotencyKey());
            tenants.kafkaTopic(d.tenant()).ifPresent(topic -> exchange.getIn().setHeader(KafkaConstants.OVERRIDE_TOPIC, topic));
            exchange.setProperty("erphubDeliveryDetail", "record published"
                    + tenants.kafkaTopic(d.tenant()).map(t -> " on " + t).orElse(""));
        };
    }
}
