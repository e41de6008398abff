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
 * claim check, never the bytes, keyed by tenant, on the tenant's own topic when its registry entry names one.
 */
@ApplicationScoped
public class KafkaDestination implements Destination {

    public static final String NAME = "kafka";

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
            tenants.kafkaTopic(d.tenant()).ifPresent(topic -> exchange.getIn().setHeader(KafkaConstants.OVERRIDE_TOPIC, topic));
            exchange.setProperty("erphubDeliveryDetail", "record published"
                    + tenants.kafkaTopic(d.tenant()).map(t -> " on " + t).orElse(""));
        };
    }
}
