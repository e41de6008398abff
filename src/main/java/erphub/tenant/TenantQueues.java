package erphub.tenant;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToIntFunction;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.camel.CamelContext;
import org.apache.camel.quarkus.main.events.BeforeStart;

import erphub.config.ErphubConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The tenant-fair queues of the in-process hand-offs, bound into Camel's registry before the routes start:
 * {@value #INTAKE} (downloads: at most the tenant's {@code maxConcurrentDownloads} in flight) and
 * {@code erphub-deliver-<destination>-queue} (deliveries: at most the tenant's {@code maxDeliveriesPerSecond}
 * started per second, over all destinations together). Limits are read from the registry in force each time.
 */
@ApplicationScoped
public class TenantQueues {

    public static final String INTAKE = "erphub-intake-queue";

    private final TenantDirectory tenants;
    private final ErphubConfig config;
    private final MeterRegistry meters;
    private final Map<String, AtomicInteger> downloads = new ConcurrentHashMap<>();
    private final Map<String, Bucket> deliveryRates = new ConcurrentHashMap<>();
    private final Rate deliveryRate = new Rate();

    public TenantQueues(TenantDirectory tenants, ErphubConfig config, MeterRegistry meters) {
        this.tenants = tenants;
        this.config = config;
        this.meters = meters;
    }

    public static String deliveryQueue(String destination) {
        return "erphub-deliver-" + destination + "-queue";
    }

    void bind(@Observes BeforeStart event, CamelContext context) {
        bind(context, INTAKE, new TenantFairQueue(INTAKE, config.intake().queueSize(), new Concurrency()));
    }

    /**
     * Binds the tenant-fair queue of one destination's route ({@code seda:...?queue=#erphub-deliver-<name>-queue}):
     * tenants in turn, each within its maxDeliveriesPerSecond over all destinations together.
     */
    public void bindDeliveryQueue(CamelContext context, String destination) {
        String name = deliveryQueue(destination);
        bind(context, name, new TenantFairQueue(name, config.delivery().queueSize(), deliveryRate));
    }

    private void bind(CamelContext context, String name, TenantFairQueue queue) {
        context.getRegistry().bind(name, queue);
        Gauge.builder("erphub.queue.size", queue, TenantFairQueue::size).tag("queue", name)
                .description("Exchanges waiting in an in-process hand-off").register(meters);
    }

    private int limit(String tenant, ToIntFunction<TenantSettings.Limits> which, int fallback) {
        return tenants.limits(tenant).map(which::applyAsInt).orElse(fallback);
    }

    /** At most the tenant's maxConcurrentDownloads files of the tenant between take and done. */
    private final class Concurrency implements TenantFairQueue.Admission {
        @Override
        public long waitNanos(String tenant) {
            int max = limit(tenant, TenantSettings.Limits::maxConcurrentDownloads,
                    config.tenants().defaults().maxConcurrentDownloads());
            return downloads.computeIfAbsent(tenant, t -> new AtomicInteger()).get() < max ? 0 : Long.MAX_VALUE;
        }

        @Override
        public void started(String tenant) {
            downloads.computeIfAbsent(tenant, t -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public void finished(String tenant) {
            downloads.get(tenant).decrementAndGet();
        }
    }

    /** A token bucket per tenant: maxDeliveriesPerSecond, with a burst of one second's worth. */
    private final class Rate implements TenantFairQueue.Admission {
        @Override
        public long waitNanos(String tenant) {
            return bucket(tenant).waitNanos(System.nanoTime());
        }

        @Override
        public void started(String tenant) {
            bucket(tenant).take(System.nanoTime());
        }

        @Override
        public void finished(String tenant) {
            // a rate, not a concurrency: nothing to give back
        }

        private Bucket bucket(String tenant) {
            int perSecond = limit(tenant, TenantSettings.Limits::maxDeliveriesPerSecond,
                    config.tenants().defaults().maxDeliveriesPerSecond());
            return deliveryRates.compute(tenant, (t, b) -> b == null || b.perSecond != perSecond ? new Bucket(perSecond) : b);
        }
    }

    private static final class Bucket {
        final int perSecond;
        private double tokens;
        private long at = System.nanoTime();

        Bucket(int perSecond) {
            this.perSecond = perSecond;
            this.tokens = perSecond;
        }

        synchronized long waitNanos(long now) {
            refill(now);
            return tokens >= 1 ? 0 : (long) Math.ceil((1 - tokens) * 1e9 / perSecond);
        }

        synchronized void take(long now) {
            refill(now);
            tokens -= 1;
        }

        private void refill(long now) {
            tokens = Math.min(perSecond, tokens + (now - at) * perSecond / 1e9);
            at = now;
        }
    }
}
