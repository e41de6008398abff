package erphub.delivery;

import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.camel.CamelContext;
import org.apache.camel.quarkus.main.events.BeforeStart;

import erphub.config.ErphubConfig;

/**
 * One redelivery thread pool per destination, bound in Camel's registry as {@code erphub-redelivery-<name>}
 * for the destination routes' {@code executorServiceRef}. Camel's redeliveries otherwise share one pool,
 * and a destination whose attempts hang until a timeout would hold up the redeliveries of the others.
 */
@ApplicationScoped
public class RedeliveryExecutors {

    void bindBeforeRoutesStart(@Observes BeforeStart event, CamelContext camel, ErphubConfig config) {
        ErphubConfig.Destinations d = config.destinations();
        Map.of(ErpApiDestination.NAME, d.erpApi().concurrency(), SftpDestination.NAME, d.sftp().concurrency(),
                KafkaDestination.NAME, d.kafka().concurrency())
                .forEach((name, size) -> camel.getRegistry().bind("erphub-redelivery-" + name,
                        camel.getExecutorServiceManager().newScheduledThreadPool(this, "erphub-redelivery-" + name,
                                Math.max(2, size))));
    }
}
