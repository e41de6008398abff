package erphub.delivery;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.interceptor.Interceptor;

import org.apache.camel.CamelContext;
import org.apache.camel.LoggingLevel;
import org.apache.camel.Processor;
import org.apache.camel.model.errorhandler.DeadLetterChannelDefinition;
import org.apache.camel.quarkus.main.events.BeforeStart;

import erphub.config.ErphubConfig;
import erphub.routing.RetryDelay;
import erphub.tenant.TenantQueues;
import erphub.upstream.DestinationNames;

/**
 * The destinations this instance delivers to: every {@link Destination} bean. Before the routes start, each gets
 * what its route from the {@code erphub-destination} template names: its tenant-fair queue and its dead letter
 * channel ({@code erphub-dead-letters-<name>}), built here from the destination's settings: exponential backoff
 * with jitter, its own redelivery thread pool (a destination whose attempts hang cannot hold up the others'
 * redeliveries) and an {@code onExceptionOccurred} step that records the failed attempt and sets the next delay.
 *
 * <p>The channel is a bean the route names ({@code errorHandlerRef}) rather than an {@code errorHandler} block in
 * the template: Hawtio 4.2 draws no diagram for a route whose dump starts with an {@code errorHandler} element (it
 * links that element to a node that does not exist, and its layout fails).
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
            ScheduledExecutorService redeliveries = camel.getExecutorServiceManager()
                    .newScheduledThreadPool(this, "erphub-redelivery-" + d.name(), Math.max(2, settings.concurrency()));
            RetryDelay delay = new RetryDelay(settings.redeliveryDelay(), settings.maxRedeliveryDelay(), d.retryAfterCap());
            camel.getRegistry().bind("erphub-dead-letters-" + d.name(),
                    deadLetters(settings, redeliveries, new DeliveryRetry(deliveries, delay)));
        });
    }

    /** A delivery that failed is retried with backoff, then, its redeliveries spent, DEAD (and replayable). */
    static DeadLetterChannelDefinition deadLetters(ErphubConfig.Redelivery settings, ScheduledExecutorService pool,
            Processor onFailure) {
        DeadLetterChannelDefinition channel = new DeadLetterChannelDefinition("direct:erphub-delivery-dead");
        channel.setUseOriginalMessage("true");
        channel.setExecutorServiceBean(pool);
        channel.setOnExceptionOccurredProcessor(onFailure);
        channel.maximumRedeliveries(settings.maxRedeliveries())
                .redeliveryDelay(settings.redeliveryDelay())
                .maximumRedeliveryDelay(settings.maxRedeliveryDelay())
                .useExponentialBackOff()
                .backOffMultiplier(2)
                .useCollisionAvoidance()
                .retryAttemptedLogLevel(LoggingLevel.DEBUG)
                .retriesExhaustedLogLevel(LoggingLevel.WARN)
                .logStackTrace(false);
        channel.getRedeliveryPolicy().setAsyncDelayedRedelivery("true");
        return channel;
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
