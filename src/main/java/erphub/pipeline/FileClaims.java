package erphub.pipeline;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.camel.spi.IdempotentRepository;
import org.apache.camel.support.service.ServiceSupport;
import org.jboss.logging.Logger;

import io.opentelemetry.api.trace.Span;

import erphub.state.Claim;
import erphub.state.ClaimStore;
import erphub.tenant.TenantDirectory;
import erphub.tracing.FileTraces;
import erphub.upstream.FileDescriptor;
import erphub.upstream.UpstreamPolls;
import erphub.upstream.UpstreamSpec;
import erphub.upstream.UpstreamSpecs;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * CLAIM, as the repository of the upstream route's {@code idempotentConsumer}: the ledger. Adding a listed file's
 * key is claiming its version for this node (an atomic insert; a version another node holds under a live lease,
 * or one already processed, is a duplicate and skipped); the claimed file becomes the message body. When the
 * hand-off fails, removing the key hands the claim back at once so the next poll claims it again.
 */
// Camel finds the methods the routes call (bean/method steps) reflectively, also in the native executable.
@RegisterForReflection
@ApplicationScoped
@Named("fileClaims")
public class FileClaims extends ServiceSupport implements IdempotentRepository {

    private static final Logger LOG = Logger.getLogger(FileClaims.class);
    /** Whether the claim resumed an earlier attempt (no new file.discovered event then). */
    public static final String RESUMED = "erphubClaimResumed";
    public static final String CLAIM = "erphubClaim";
    /** Whether the relay took the claim over for this replica (the relay route drops the record otherwise). */
    public static final String RELAYED = "erphubRelayed";

    private final ClaimStore claims;
    private final TenantDirectory tenants;
    private final UpstreamSpecs specs;
    private final FileTraces traces;

    public FileClaims(ClaimStore claims, TenantDirectory tenants, UpstreamSpecs specs, FileTraces traces) {
        this.claims = claims;
        this.tenants = tenants;
        this.specs = specs;
        this.traces = traces;
    }

    @Override
    public boolean add(Exchange exchange, String key) {
        FileDescriptor file = exchange.getMessage().getBody(FileDescriptor.class);
        if (!tenants.subscribes(file.tenant(), file.upstream())) {
            return false; // the tenant was disabled during this poll's listing: no new claims from now on
        }
        // The file's own trace starts with the listing that found it; a span never ended is never exported.
        Instant claiming = Instant.now();
        Span trace = traces.listed("LIST", file.tenant(), file.upstream(), file.remoteId(), file.name(),
                exchange.getProperty(UpstreamPolls.STARTED, Instant.class), null);
        String traceparent = FileTraces.traceparent(trace);
        Optional<Claim> claim = claims.claim(file.key(), file.name(), file.size(), file.checksum(), traceparent);
        if (claim.isEmpty()) {
            return false;
        }
        AtomicInteger counter = exchange.getProperty(UpstreamPolls.CLAIMED, AtomicInteger.class);
        if (counter != null) {
            counter.incrementAndGet();
        }
        Claim c = claim.get();
        traces.claimed(trace, claiming, file.tenant(), file.upstream(), c.fileId(), c.attempt());
        UpstreamSpec spec = specs.get(file.upstream());
        ClaimedFile claimed = new ClaimedFile(c.fileId(), c.attempt(), file.tenant(), file.upstream(), file.remoteId(),
                file.version(), file.name(), file.size(), file.checksum(), spec.checksumAlgorithm(), file.downloadUrl(),
                tenants.maxFileSize(file.tenant(), spec.maxFileSize()), LocalDate.now(ZoneOffset.UTC).toString(),
                traceparent);
        exchange.setProperty(CLAIM, claimed);
        exchange.setProperty(RESUMED, c.resumed());
        exchange.getMessage().setBody(claimed);
        return true;
    }

    /** The hand-off of a claimed file failed: the claim's lease ends now, and the next poll claims it again. */
    @Override
    public boolean remove(Exchange exchange, String key) {
        ClaimedFile claimed = exchange.getProperty(CLAIM, ClaimedFile.class);
        if (claimed != null) {
            claims.release(claimed.fileId(), claimed.attempt());
            LOG.debugf("claim of %s handed back after a failed hand-off", key);
        }
        return claimed != null;
    }

    /**
     * Renews the claim as work on it starts; false when another worker has taken it over in the meantime (the
     * hand-off waited longer than the lease), and then this copy of the work is dropped.
     */
    public boolean stillClaimed(Exchange exchange) {
        return held(exchange.getProperty(FileIntake.CLAIMED_FILE, ClaimedFile.class));
    }

    /**
     * A file relayed from the Kafka hand-off into this replica's queue: its claim passes to this replica now, as a new
     * attempt. If the replica dies with the file in its queue, the lease ends and the file is resumed (the lister's
     * heartbeat would otherwise keep it alive and stuck); a second copy of the record (Kafka delivers at least once,
     * and again after a rebalance) carries the old attempt and is dropped here, and a worker still on the old attempt
     * is refused by the ledger. Sets {@link #RELAYED}: false when the claim was superseded (the route drops it).
     */
    public void relay(Exchange exchange) {
        ClaimedFile file = exchange.getMessage().getBody(ClaimedFile.class);
        java.util.OptionalInt next = claims.takeOver(file.fileId(), file.attempt());
        exchange.setProperty(RELAYED, next.isPresent());
        if (next.isEmpty()) {
            LOG.infof("%s/%s file %d (%s): hand-off of claim attempt %d superseded or done, dropped", file.tenant(),
                    file.upstream(), file.fileId(), file.remoteId(), file.attempt());
            return;
        }
        exchange.getMessage().setBody(file.withAttempt(next.getAsInt()));
    }

    private boolean held(ClaimedFile file) {
        if (claims.renewLease(file.fileId(), file.attempt())) {
            return true;
        }
        LOG.infof("%s/%s file %d (%s): claim attempt %d superseded, dropped", file.tenant(), file.upstream(),
                file.fileId(), file.remoteId(), file.attempt());
        return false;
    }

    @Override
    public boolean add(String key) {
        throw new IllegalStateException("a claim needs the listed file: the route calls add(exchange, key)");
    }

    @Override
    public boolean contains(String key) {
        return false; // only ever used eagerly: add() answers whether the key is new
    }

    @Override
    public boolean remove(String key) {
        return false;
    }

    @Override
    public boolean confirm(String key) {
        return true;
    }

    @Override
    public void clear() {
        // the ledger is never cleared through the route
    }
}
