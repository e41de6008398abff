package erphub.delivery;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.interceptor.Interceptor;

import org.apache.camel.CamelContext;
import org.apache.camel.quarkus.main.events.BeforeStart;

import erphub.config.ErphubConfig;
import erphub.routing.RetryDelay;
import erphub.tenant.TenantQueues;
import erphub.upstream.DestinationNames;

/**
 * The destinations this instance delivers to: every {@link Destination} bean. Before the routes start, each gets
 * what its route from the {@code erphub-destination} template names: its tenant-fair queue, its own redelivery
 * thread pool (a destination whose attempts hang cannot hold up the others' redeliveries) and its
 * {@code onExceptionOccurred} step, which records the failed attempt and sets the next delay.
 */
@ApplicationScoped
public class Destinations implements DestinationNames {

    private final Map<String, Destination> byName = new TreeMap<>();
    private final TenantQueues queues;
    private final FileDelivery deliveries;

    public Destinations(Instance<Destination> all, TenantQueues queues, FileDelivery deliveries) {
        all.forEach(d -> byName.put(d.name(), d));
        this.queues = queues;
        this.deliveries = deliveries;
    }

    void bind(@Observes @Priority(Interceptor.Priority.APPLICATION) BeforeStart event, CamelContext camel) {
        byName.values().forEach(d -> {
            ErphubConfig.Redelivery settings = d.settings();
            queues.bindDeliveryQueue(camel, d.name());
            camel.getRegistry().bind("erphub-redelivery-" + d.name(), camel.getExecutorServiceManager()
                    .newScheduledThreadPool(this, "erphub-redelivery-" + d.name(), Math.max(2, settings.concurrency())));
            RetryDelay delay = new RetryDelay(settings.redeliveryDelay(), settings.maxRedeliveryDelay(), d.retryAfterCap());
            camel.getRegistry().bind("erphub-retry-delay-" + d.name(), new DeliveryRetry(deliveries, delay));
        });
    }

    @Override
    public Set<String> names() {
        return Set.copyOf(byName.keySet());
    }

    public Optional<Destination> get(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The queue a delivery to the destination is handed to. */
    public static String queueUri(String destination) {
        return "seda:erphub-deliver-" + destination + "?queue=#" + TenantQueues.deliveryQueue(destination)
                + "&blockWhenFull=true";
    }
}
