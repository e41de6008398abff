package erphub.upstream;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Semaphore;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;

import org.apache.camel.CamelContext;
import org.apache.camel.quarkus.main.events.BeforeStart;

import erphub.config.ErphubConfig;

/**
 * The threads the polls list their tenants on ({@code erphub-listing-threads}, the executor of the tenant split in
 * kamelet erphub-upstream-source): one pool for all upstreams, a thread per tenant in flight, idle threads end after
 * a minute. The pool does not bound anything: each poll's tenant iterator ({@link PollTenants}) hands out a tenant
 * only while fewer than {@code erphub.intake.listing-concurrency} of its own tenants and fewer than
 * {@code erphub.intake.node-listing-concurrency} on this node ({@link #nodeSlots()}) are in flight.
 *
 * <p>Why not a bounded pool: Camel's parallel split submits its own next step to the same pool, so with a pool of N
 * threads and a caller-runs policy the steps nest on one thread's stack (and a split of 5,000 parts over a pool of 2
 * lost its completion and hung, tried with Camel 4.14); a blocking policy deadlocks once the splits' own steps hold
 * every thread.
 */
@ApplicationScoped
public class ListingThreads {

    public static final String REGISTRY_NAME = "erphub-listing-threads";

    private final int listingConcurrency;
    private final Semaphore nodeSlots;

    public ListingThreads(ErphubConfig config) {
        this.listingConcurrency = atLeastOne("erphub.intake.listing-concurrency", config.intake().listingConcurrency());
        // Fair: polls waiting for a slot get them in turn, so one upstream's 200 tenants do not starve the others.
        this.nodeSlots = new Semaphore(
                atLeastOne("erphub.intake.node-listing-concurrency", config.intake().nodeListingConcurrency()), true);
    }

    /** A setting that must be 1 or more: anything less stops the start, naming it. */
    static int atLeastOne(String setting, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(setting + " must be 1 or more, was " + value);
        }
        return value;
    }

    void bind(@Observes @Priority(Interceptor.Priority.APPLICATION) BeforeStart event, CamelContext camel) {
        camel.getRegistry().bind(REGISTRY_NAME, ExecutorService.class,
                camel.getExecutorServiceManager().newCachedThreadPool(ListingThreads.class, REGISTRY_NAME));
    }

    /** Tenants one poll lists at once. */
    int listingConcurrency() {
        return listingConcurrency;
    }

    /** The node's listing slots, shared by every poll. */
    Semaphore nodeSlots() {
        return nodeSlots;
    }
}
