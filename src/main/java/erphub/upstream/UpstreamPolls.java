package erphub.upstream;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Date;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.ObservesAsync;
import jakarta.inject.Named;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ServiceStatus;
import org.jboss.logging.Logger;

import erphub.routing.FileLogContext;
import erphub.state.PollLeases;
import erphub.state.PollStateStore;
import erphub.tenant.TenantDirectory;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.vertx.http.HttpServerStart;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The steps around one upstream's LIST (kamelet erphub-upstream-source): which tenants a tick polls, the start
 * of each tenant's listing, and its outcome in the ledger ({@code upstream_poll}), in health and in the metrics.
 */
// Camel finds the methods the routes call (bean/method steps) reflectively, also in the native executable.
@RegisterForReflection
@ApplicationScoped
@Named("upstreamPolls")
public class UpstreamPolls {

    private static final Logger LOG = Logger.getLogger(UpstreamPolls.class);
    public static final String UPSTREAM = "erphubUpstream";
    public static final String TENANT = "erphubTenant";
    public static final String STARTED = "erphubPollStarted";
    /** The quartz trigger's next fire time (a Date), kept from its header: this replica's pairs are leased past it. */
    public static final String NEXT_POLL = "erphubNextPoll";
    /** The least a poll lease outlasts the holder's next poll: a busy holder is late by some seconds. */
    static final Duration LEASE_MARGIN = Duration.ofSeconds(10);
    /** Files claimed by the tenant's listing so far: one counter object, shared by the split's copies. */
    public static final String CLAIMED = "erphubPollClaimed";
    /** The poll's tenants ({@link PollTenants}): the split's copies hand their slots back to it. */
    static final String POLL = "erphubPollTenants";

    private final TenantDirectory tenants;
    private final UpstreamSpecs specs;
    private final UpstreamListing listing;
    private final PollStateStore polls;
    private final PollLeases leases;
    private final MeterRegistry meters;
    private final int listingConcurrency;
    private final ListingThreads listingThreads;
    /** Each upstream's latest poll. */
    private final Map<String, PollTenants> latestPolls = new ConcurrentHashMap<>();
    /** The latest poll outcome per "upstream/tenant", kept in memory so health never queries a database. */
    private final Map<String, LastPoll> lastPolls = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> ticks = new ConcurrentHashMap<>();
    /** erphub.list.duration by "upstream/outcome": looked up once, not on each of thousands of polls a minute. */
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    /** Whether the HTTP server listens: polls start then, not when Camel starts (before it, at boot). */
    private volatile boolean serving;

    /** One (upstream, tenant) poll outcome as health reports it. */
    public record LastPoll(String upstream, String tenant, boolean ok, Instant at, String error) {
    }

    public UpstreamPolls(TenantDirectory tenants, UpstreamSpecs specs, UpstreamListing listing, PollStateStore polls,
            PollLeases leases, MeterRegistry meters, ListingThreads listingThreads) {
        this.tenants = tenants;
        this.specs = specs;
        this.listing = listing;
        this.polls = polls;
        this.leases = leases;
        this.meters = meters;
        this.listingConcurrency = listingThreads.listingConcurrency();
        this.listingThreads = listingThreads;
    }

    /**
     * Polls start once erphub's HTTP server listens: in the embedded default the sandbox's upstreams and token
     * endpoint are on that server, and polls that start with Camel only fill the first seconds with refused calls.
     */
    void serverListens(@ObservesAsync HttpServerStart event) {
        serving = true;
    }

    /** Without an HTTP server (it can be switched off) there is no start event: then polls start with the application. */
    void started(@Observes io.quarkus.runtime.StartupEvent event) {
        if (!org.eclipse.microprofile.config.ConfigProvider.getConfig()
                .getOptionalValue("quarkus.http.host-enabled", Boolean.class).orElse(true)) {
            serving = true;
        }
    }

    public Collection<LastPoll> lastPolls() {
        return lastPolls.values();
    }

    /**
     * The tenants this tick polls: enabled and subscribed now, and not polled by another replica (each pair is listed
     * by the holder of its poll lease, {@link PollLeases}; this replica keeps those it lists until past its next
     * tick). Each tick starts one tenant further along, so the one call a half-open circuit lets through (and the
     * first slot of every tick) goes to each tenant in turn. They are handed out {@code erphub.intake.listing-concurrency}
     * at a time, until the poll stops ({@link PollTenants}).
     */
    public Iterator<String> tenants(Exchange exchange) {
        if (!serving) {
            return Collections.emptyIterator(); // the HTTP server does not listen yet: its sandbox token endpoint would refuse us
        }
        if (!running(exchange).getAsBoolean()) {
            return Collections.emptyIterator(); // a tick while erphub stops (the route waits for its poll in flight)
        }
        String upstream = upstream(exchange);
        List<String> subscribed = new ArrayList<>(tenants.tenantsOf(upstream));
        if (!subscribed.isEmpty()) {
            int tick = ticks.computeIfAbsent(upstream, u -> new AtomicInteger()).getAndIncrement();
            Collections.rotate(subscribed, -Math.floorMod(tick, subscribed.size()));
        }
        List<String> polled = leases.acquire(upstream, subscribed, leaseUntil(exchange.getProperty(NEXT_POLL, Date.class), Instant.now()));
        PollTenants poll = new PollTenants(polled.iterator(), listingConcurrency, listingThreads.nodeSlots(), running(exchange));
        // This upstream's previous poll is over (its route is stateful: one poll at a time): the node slots of any
        // listing whose end was refused go back now.
        PollTenants previous = latestPolls.put(upstream, poll);
        if (previous != null) {
            previous.close();
        }
        exchange.setProperty(POLL, poll);
        return poll;
    }

    /** A tenant's listing ended, however it ended (the split's doFinally): the next tenant may start. */
    public void ended(Exchange exchange) {
        PollTenants poll = exchange.getProperty(POLL, PollTenants.class);
        if (poll != null) {
            poll.release();
        }
    }

    /** While Camel and the poll's route run: once either stops, every step of the route refuses to run. */
    private static BooleanSupplier running(Exchange exchange) {
        CamelContext camel = exchange.getContext();
        String route = exchange.getFromRouteId();
        return () -> camel.isStarted()
                && (route == null || camel.getRouteController().getRouteStatus(route) == ServiceStatus.Started);
    }

    /**
     * Until when this replica keeps the pairs it lists: past its next poll by an interval (at least
     * {@link #LEASE_MARGIN}), so the holder renews them in time and another replica takes them within about one
     * interval once it is gone. Without a next poll (a cron that ends), a minute.
     */
    static Instant leaseUntil(Date nextPoll, Instant now) {
        if (nextPoll == null || !nextPoll.toInstant().isAfter(now)) {
            return now.plus(Duration.ofMinutes(1));
        }
        Duration interval = Duration.between(now, nextPoll.toInstant());
        return nextPoll.toInstant().plus(interval.compareTo(LEASE_MARGIN) > 0 ? interval : LEASE_MARGIN);
    }

    /** The start of one tenant's listing: its first page (with the "since" watermark when the upstream takes one). */
    public void starting(Exchange exchange) {
        String tenant = exchange.getIn().getBody(String.class);
        exchange.setProperty(TENANT, tenant);
        exchange.setProperty(STARTED, Instant.now());
        exchange.setProperty(CLAIMED, new AtomicInteger());
        listing.start(exchange, specs.get(upstream(exchange)), tenant);
    }

    /** Records a tenant's finished listing, with how many files it claimed. */
    public void succeeded(Exchange exchange) {
        String upstream = upstream(exchange);
        String tenant = exchange.getProperty(TENANT, String.class);
        AtomicInteger claimed = exchange.getProperty(CLAIMED, AtomicInteger.class);
        lastPolls.put(upstream + "/" + tenant, new LastPoll(upstream, tenant, true, Instant.now(), null));
        polls.succeeded(upstream, tenant, started(exchange), claimed == null ? 0 : claimed.get());
        time(upstream, "succeeded", exchange);
    }

    /** Records a tenant's failed listing with its reason; the route goes on with the next tenant and the next tick. */
    public void failed(Exchange exchange) {
        String upstream = upstream(exchange);
        String tenant = exchange.getProperty(TENANT, String.class);
        Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        try (FileLogContext log = FileLogContext.of(tenant, upstream)) {
            String reason = reason(cause);
            LastPoll previous = lastPolls.put(upstream + "/" + tenant,
                    new LastPoll(upstream, tenant, false, Instant.now(), reason));
            polls.failed(upstream, tenant, started(exchange), reason);
            time(upstream, "failed", exchange);
            // A failing upstream is polled again and again: say so when it starts or changes, not every tick.
            if (previous == null || previous.ok() || !reason.equals(previous.error())) {
                LOG.warnf("Poll of %s for tenant %s failed: %s", upstream, tenant, reason);
            } else {
                LOG.debugf("Poll of %s for tenant %s still failing: %s", upstream, tenant, reason);
            }
        }
    }

    static String reason(Throwable cause) {
        if (cause == null) {
            return "failed";
        }
        if (cause instanceof CallNotPermittedException) {
            return "circuit open: the upstream failed repeatedly, it is called again after the cool-down";
        }
        Throwable t = cause;
        while (t instanceof org.apache.camel.CamelExecutionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    /** erphub.list.duration{upstream, outcome}: one tenant's whole listing (all pages), a histogram in Prometheus. */
    private void time(String upstream, String outcome, Exchange exchange) {
        timers.computeIfAbsent(upstream + "/" + outcome,
                k -> meters.timer("erphub.list.duration", "upstream", upstream, "outcome", outcome))
                .record(Duration.between(started(exchange), Instant.now()));
    }

    private static String upstream(Exchange exchange) {
        return exchange.getProperty(UPSTREAM, String.class);
    }

    private static Instant started(Exchange exchange) {
        Instant started = exchange.getProperty(STARTED, Instant.class);
        return started == null ? Instant.now() : started;
    }
}
