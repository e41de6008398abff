package erphub.tenant;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;

import erphub.testing.BesideTheApplication;

/**
 * The tenant-fair queue behind a real Camel SEDA endpoint with concurrent consumers: tenants are served in
 * turn, a tenant never has more in flight than its limit, and a slot comes back when the exchange is done,
 * also when it failed.
 */
@BesideTheApplication
class TenantFairQueueTest {

    /** At most {@code limit} in flight per tenant, counted by the queue's own started/finished calls. */
    static final class PerTenantLimit implements TenantFairQueue.Admission {
        final int limit;
        final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
        final Map<String, AtomicInteger> peak = new ConcurrentHashMap<>();

        PerTenantLimit(int limit) {
            this.limit = limit;
        }

        @Override
        public long waitNanos(String tenant) {
            return inFlight.computeIfAbsent(tenant, t -> new AtomicInteger()).get() < limit ? 0 : Long.MAX_VALUE;
        }

        @Override
        public void started(String tenant) {
            int now = inFlight.computeIfAbsent(tenant, t -> new AtomicInteger()).incrementAndGet();
            peak.computeIfAbsent(tenant, t -> new AtomicInteger()).accumulateAndGet(now, Math::max);
        }

        @Override
        public void finished(String tenant) {
            inFlight.get(tenant).decrementAndGet();
        }
    }

    @Test
    void aSmallTenantIsServedWhileALargeBacklogDrainsWithinItsLimit() throws Exception {
        PerTenantLimit limit = new PerTenantLimit(2);
        TenantFairQueue queue = new TenantFairQueue("test", 10_000, limit);
        List<String> done = new CopyOnWriteArrayList<>();
        try (CamelContext camel = new DefaultCamelContext()) {
            camel.getRegistry().bind("fair", queue);
            camel.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    errorHandler(noErrorHandler());
                    from("seda:work?queue=#fair&concurrentConsumers=4").routeId("work")
                            .process(e -> {
                                Thread.sleep(2);
                                String tenant = e.getIn().getHeader(TenantFairQueue.TENANT_HEADER, String.class);
                                done.add(tenant);
                                if (e.getIn().getBody(Integer.class) % 7 == 0) {
                                    throw new IllegalStateException("a failed exchange gives its slot back too");
                                }
                            });
                }
            });
            camel.start();
            ProducerTemplate producer = camel.createProducerTemplate();
            for (int i = 0; i < 600; i++) {
                producer.sendBodyAndHeader("seda:work?queue=#fair", i, TenantFairQueue.TENANT_HEADER, "large");
            }
            for (int i = 0; i < 20; i++) {
                producer.sendBodyAndHeader("seda:work?queue=#fair", i, TenantFairQueue.TENANT_HEADER, "small");
                producer.sendBodyAndHeader("seda:work?queue=#fair", i, TenantFairQueue.TENANT_HEADER, "other");
            }
            await().atMost(Duration.ofMinutes(1)).until(() -> done.size() == 640);
        }
        int lastSmall = done.lastIndexOf("small");
        long largeBefore = done.subList(0, lastSmall).stream().filter("large"::equals).count();
        assertTrue(largeBefore < 300, "the small tenant finished after " + largeBefore + " of the large one's 600");
        assertEquals(2, limit.peak.get("large").get(), "the large tenant had at most its limit in flight");
        assertTrue(limit.inFlight.values().stream().allMatch(n -> n.get() == 0), "every slot was given back");
        assertEquals(0, queue.size());
    }

    @Test
    void aFullQueueRefusesOrBlocksAndDrainsEverything() throws Exception {
        TenantFairQueue queue = new TenantFairQueue("test", 3, new PerTenantLimit(1));
        try (CamelContext camel = new DefaultCamelContext()) {
            camel.start();
            for (int i = 0; i < 3; i++) {
                assertTrue(queue.offer(new org.apache.camel.support.DefaultExchange(camel)));
            }
            assertEquals(false, queue.offer(new org.apache.camel.support.DefaultExchange(camel)));
            assertEquals(false, queue.offer(new org.apache.camel.support.DefaultExchange(camel), 10,
                    java.util.concurrent.TimeUnit.MILLISECONDS));
            assertEquals(0, queue.remainingCapacity());
            List<Object> drained = new java.util.ArrayList<>();
            assertEquals(3, queue.drainTo(drained));
            assertEquals(3, queue.remainingCapacity());
        }
    }
}
