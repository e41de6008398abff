package erphub.registration;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.jboss.logging.Logger;


import erphub.config.ErphubConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The batch half of registrations, each step one stage of routes/erphub-registrations.yaml: an event that matches
 * a registration is stored (registration_event, by erphub.events.EventLog) before anything else happens to it; a timer closes the
 * (registration, tenant, upstream) groups that are due (quiet for the debounce, maxWait after their first event,
 * or maxBatch events) into batches, each event in exactly one, in one transaction; batches are claimed under a
 * lease, oldest first and one at a time per registration, so a failing consumer holds up only its own; a failed
 * try waits (doubling, or the receiver's Retry-After) in the database, not on a thread, and a batch whose tries
 * are spent is DEAD until replayed. A crash loses nothing: unclaimed events and unsent batches are rows.
 */
// Camel finds the methods the routes call (bean/method steps) reflectively, also in the native executable.
@RegisterForReflection
@ApplicationScoped
@Named("registrationBatches")
public class RegistrationBatches {

    /** Exchange property: the batch being sent. */
    public static final String BATCH = "erphubBatch";
    private static final Logger LOG = Logger.getLogger(RegistrationBatches.class);

    private final RegistrationStore registrations;
    private final ErphubConfig config;
    private final MeterRegistry meters;
    /** Claims of this run of this node: a restarted node does not mistake an earlier run's claims for its own. */
    private final String owner;

    /** A batch claimed for sending: its claim is good until {@code leaseUntil}. */
    public record BatchClaim(String id, String registrationId, String tenant, String upstream, int events, int tries,
            String windowId, String fileType) {
    }

    /** A batch as the API shows it. */
    public record BatchRecord(String id, String registrationId, String tenant, String upstream, String windowId,
            String fileType, int events, String state, int tries, Instant nextAttemptAt, String lastError,
            Instant createdAt, Instant updatedAt) {
    }

    public RegistrationBatches(RegistrationStore registrations, ErphubConfig config,
            MeterRegistry meters) {
        this.registrations = registrations;
        this.config = config;
        this.meters = meters;
        this.owner = config.nodeId() + "#" + UUID.randomUUID().toString().substring(0, 8);
    }

    /**
     * Stores the event (schema erphub.file-event/1, read as {@code event}, written as {@code body}) once for each
     * registration it matches, in the caller's transaction; returns how many it matched.
     */
    public int recordIn(Connection c, Map<?, ?> event, String body, Instant now) throws SQLException {
        List<Registration> active = registrations.active();
        if (active.isEmpty() || !String.valueOf(event.get("type")).startsWith("file.")) {
            return 0;
        }
        String tenant = (String) event.get("tenant");
        String upstream = (String) event.get("upstream");
        String type = (String) event.get("type");
        String fileName = (String) event.get("fileName");
        List<Registration> matched = active.stream()
                .filter(r -> r.spec().matches(tenant, upstream, type, fileName)).toList();
        if (matched.isEmpty()) {
            return 0;
        }
        Object fileId = event.get("fileId");
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO registration_event (registration_id, event_id,"
                + " tenant, upstream, event_type, file_id, file_name, payload, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (Registration r : matched) {
                ps.setString(1, r.id());
                ps.setString(2, (String) event.get("id"));
                ps.setString(3, tenant);
                ps.setString(4, upstream);
                ps.setString(5, type);
                if (fileId instanceof Number n) {
                    ps.setLong(6, n.longValue());
                } else {
                    ps.setNull(6, java.sql.Types.BIGINT);
                }
                ps.setString(7, fileName == null || fileName.length() <= 1024 ? fileName : fileName.substring(0, 1024));
                ps.setString(8, body);
                ps.setTimestamp(9, Timestamp.from(now));
                ps.addBatch();
            }
            ps.executeBatch();
        }
        meters.counter("erphub.registrations.events").increment(matched.size());
        return matched.size();
    }

    /** Closes every group that is due into a batch; returns the windows that failed their checks (REJECTED). */
    public List<Rejection> closeDue() {
        Instant now = RegistrationStore.now();
        record Group(String registrationId, String tenant, String upstream, Instant first, Instant last, long count) {
        }
        List<Group> groups = registrations.inTransaction(c -> {
            List<Group> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT registration_id, tenant, upstream, MIN(received_at),"
                    + " MAX(received_at), COUNT(*) FROM registration_event WHERE batch_id IS NULL"
                    + " GROUP BY registration_id, tenant, upstream");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Group(rs.getString(1), rs.getString(2), rs.getString(3), rs.getTimestamp(4).toInstant(),
                            rs.getTimestamp(5).toInstant(), rs.getLong(6)));
                }
            }
            return out;
        });
        List<Rejection> rejections = new ArrayList<>();
        for (Group g : groups) {
            Optional<Registration> r = registrations.active().stream().filter(a -> a.id().equals(g.registrationId()))
                    .findFirst().or(() -> registrations.find(g.registrationId()));
            if (r.isEmpty()) {
                continue;
            }
            RegistrationSpec.Batching b = r.get().spec().batching();
            boolean due = g.count() >= b.maxBatch() || !g.last().plus(b.debounce()).isAfter(now)
                    || !g.first().plus(b.maxWait()).isAfter(now);
            if (due) {
                close(r.get(), g.tenant(), g.upstream(), b.maxBatch(), now, rejections);
            }
        }
        return rejections;
    }

    /**
     * One window's batch, in one transaction: a single batch, or (for a registration with file types) one part per
     * type present, created in dependency order so each registration's one-at-a-time, oldest-first sending delivers
     * prerequisites first. A window that fails the registration's checks is REJECTED with every reason.
     */
    private boolean close(Registration r, String tenant, String upstream, int maxBatch, Instant now,
            List<Rejection> rejections) {
        String windowId = UUID.randomUUID().toString();
        FileTypes types = r.spec().types();
        List<String> rejected = new ArrayList<>();
        boolean closed = registrations.inTransaction(c -> {
            Map<String, List<Long>> byType = new java.util.LinkedHashMap<>();
            int selected = 0;
            try (PreparedStatement ps = c.prepareStatement("SELECT id, file_name FROM registration_event"
                    + " WHERE registration_id = ? AND tenant = ? AND upstream = ? AND batch_id IS NULL"
                    + " ORDER BY id FETCH FIRST ? ROWS ONLY")) {
                ps.setString(1, r.id());
                ps.setString(2, tenant);
                ps.setString(3, upstream);
                ps.setInt(4, maxBatch);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        // Files of no declared type come first, waiting for nothing.
                        String type = types.isEmpty() ? "" : types.typeOf(rs.getString(2)).orElse("");
                        byType.computeIfAbsent(type, t -> new ArrayList<>()).add(rs.getLong(1));
                        selected++;
                    }
                }
            }
            if (selected == 0) {
                return false;
            }
            Set<String> present = new java.util.HashSet<>(byType.keySet());
            present.remove("");
            r.spec().checks().requiredTypes().stream().filter(t -> !present.contains(t))
                    .forEach(t -> rejected.add("no file of required type " + t));
            List<String> order = new ArrayList<>();
            if (byType.containsKey("")) {
                order.add("");
            }
            order.addAll(types.ordered(present));
            int taken = 0;
            for (String type : order) {
                List<Long> ids = byType.get(type);
                String batchId = UUID.randomUUID().toString();
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO registration_batch (id, registration_id,"
                        + " tenant, upstream, window_id, file_type, prerequisites, events, state, tries, next_attempt_at,"
                        + " last_error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)")) {
                    ps.setString(1, batchId);
                    ps.setString(2, r.id());
                    ps.setString(3, tenant);
                    ps.setString(4, upstream);
                    ps.setString(5, windowId);
                    ps.setString(6, type.isEmpty() ? null : type);
                    Set<String> prerequisites = type.isEmpty() ? Set.of() : types.prerequisitesOf(type, present);
                    ps.setString(7, prerequisites.isEmpty() ? null : "," + String.join(",", prerequisites) + ",");
                    ps.setInt(8, ids.size());
                    ps.setString(9, rejected.isEmpty() ? "PENDING" : "REJECTED");
                    ps.setTimestamp(10, Timestamp.from(now));
                    ps.setString(11, rejected.isEmpty() ? null : String.join("; ", rejected));
                    ps.setTimestamp(12, Timestamp.from(now));
                    ps.setTimestamp(13, Timestamp.from(now));
                    ps.executeUpdate();
                }
                // Another node closing the same group at the same moment takes none of these rows twice: each UPDATE
                // only takes events no batch has yet.
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE registration_event SET batch_id = ? WHERE id = ? AND batch_id IS NULL")) {
                    for (Long id : ids) {
                        ps.setString(1, batchId);
                        ps.setLong(2, id);
                        ps.addBatch();
                    }
                    for (int n : ps.executeBatch()) {
                        taken += Math.max(n, 0);
                    }
                }
            }
            if (taken != selected) {
                // Another node closed (some of) this window first: it is theirs; this node looks again next time.
                c.rollback();
                return false;
            }
            meters.counter("erphub.registrations.batches.closed").increment();
            return true;
        });
        if (closed && !rejected.isEmpty()) {
            meters.counter("erphub.registrations.batches", "state", "REJECTED").increment();
            LOG.warnf("window %s of registration %s (tenant %s, upstream %s) REJECTED: %s", windowId, r.id(), tenant,
                    upstream, String.join("; ", rejected));
            rejections.add(new Rejection(windowId, r, tenant, upstream, List.copyOf(rejected)));
        }
        return closed;
    }

    /** A window that failed its registration's checks, for the events (batch.rejected). */
    public record Rejection(String windowId, Registration registration, String tenant, String upstream,
            List<String> reasons) {
    }

    /**
     * Claims the batches due now: per registration only its oldest open batch (so batches arrive in order, and a
     * failing consumer's retries hold up nobody else's), at most erphub.registrations.concurrency at once.
     */
    public List<BatchClaim> claimDue() {
        Instant now = RegistrationStore.now();
        Instant leaseUntil = now.plus(config.registrations().lease());
        return registrations.inTransaction(c -> {
            List<BatchClaim> candidates = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT b.id, b.registration_id, b.tenant, b.upstream,"
                    + " b.events, b.tries, b.window_id, b.file_type FROM registration_batch b WHERE b.state = 'PENDING' AND b.next_attempt_at <= ?"
                    + " AND (b.lease_until IS NULL OR b.lease_until < ?) AND NOT EXISTS (SELECT 1 FROM registration_batch o"
                    + " WHERE o.registration_id = b.registration_id AND o.state = 'PENDING' AND o.seq < b.seq)"
                    + " ORDER BY b.next_attempt_at, b.seq FETCH FIRST ? ROWS ONLY")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setTimestamp(2, Timestamp.from(now));
                ps.setInt(3, config.registrations().concurrency());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        candidates.add(new BatchClaim(rs.getString(1), rs.getString(2), rs.getString(3),
                                rs.getString(4), rs.getInt(5), rs.getInt(6), rs.getString(7), rs.getString(8)));
                    }
                }
            }
            List<BatchClaim> claimed = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("UPDATE registration_batch SET claimed_by = ?, lease_until = ?"
                    + " WHERE id = ? AND state = 'PENDING' AND (lease_until IS NULL OR lease_until < ?)")) {
                for (BatchClaim b : candidates) {
                    ps.setString(1, owner);
                    ps.setTimestamp(2, Timestamp.from(leaseUntil));
                    ps.setString(3, b.id());
                    ps.setTimestamp(4, Timestamp.from(now));
                    if (ps.executeUpdate() == 1) {
                        claimed.add(b);
                    }
                }
            }
            return claimed;
        });
    }

    /** The payloads of a batch's events, in the order they happened. */
    public List<String> payloads(String batchId) {
        return registrations.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT payload FROM registration_event WHERE batch_id = ? ORDER BY id")) {
                ps.setString(1, batchId);
                List<String> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getString(1));
                    }
                }
                return out;
            }
        });
    }

    /** The receiver took the batch. A claim taken over meanwhile (lease ended) leaves the row to its new holder. */
    public void delivered(Exchange exchange) {
        BatchClaim b = exchange.getProperty(BATCH, BatchClaim.class);
        int n = settle(b, "DELIVERED", null, null);
        if (n == 1) {
            meters.counter("erphub.registrations.batches", "state", "DELIVERED").increment();
        }
    }

    /**
     * A try failed (the exception caught says how): PENDING again after the backoff (or the
     * receiver's Retry-After, if longer, within the maximum), or DEAD when its tries are spent.
     */
    public void failed(Exchange exchange) {
        BatchClaim b = exchange.getProperty(BATCH, BatchClaim.class);
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        String error = cause == null ? "unknown failure"
                : cause instanceof RegistrationChannels.BatchTryFailedException ? cause.getMessage()
                : erphub.routing.Failures.describe(cause);
        int tries = b.tries() + 1;
        // Refused in a way a retry cannot fix (an SFTP host key that is not the known one, a URL no longer allowed).
        boolean refused = cause instanceof erphub.delivery.DeliveryRefusedException
                || cause instanceof IllegalArgumentException;
        boolean dead = tries >= config.registrations().maxTries() || refused;
        Duration wait = backoff(tries, exchange.getProperty("erphubRetryAfter", Duration.class));
        int n = settle(b, dead ? "DEAD" : "PENDING", error, dead ? null : RegistrationStore.now().plus(wait));
        if (n == 1) {
            meters.counter("erphub.registrations.batches", "state", dead ? "DEAD" : "RETRYING").increment();
            LOG.warnf("batch %s of registration %s (tenant %s): try %d failed%s: %s", b.id(), b.registrationId(),
                    b.tenant(), tries, dead ? ", DEAD" : ", next in " + wait.toMillis() + " ms", error);
        }
    }

    Duration backoff(int tries, Duration retryAfter) {
        Duration max = config.registrations().maxRetryDelay();
        long base = config.registrations().retryDelay().toMillis() << Math.min(tries - 1, 20);
        long jittered = (long) (Math.min(base, max.toMillis()) * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble()));
        Duration wait = Duration.ofMillis(Math.min(jittered, max.toMillis()));
        if (retryAfter != null && retryAfter.compareTo(wait) > 0) {
            wait = retryAfter.compareTo(max) > 0 ? max : retryAfter;
        }
        return wait;
    }

    private int settle(BatchClaim b, String state, String error, Instant next) {
        Instant now = RegistrationStore.now();
        return registrations.inTransaction(c -> {
            int n;
            try (PreparedStatement ps = c.prepareStatement("UPDATE registration_batch SET state = ?, tries = tries + 1,"
                    + " last_error = ?, next_attempt_at = COALESCE(?, next_attempt_at), claimed_by = NULL,"
                    + " lease_until = NULL, updated_at = ? WHERE id = ? AND claimed_by = ? AND state = 'PENDING'")) {
                ps.setString(1, state);
                ps.setString(2, error == null || error.length() <= 2000 ? error : error.substring(0, 2000));
                ps.setTimestamp(3, next == null ? null : Timestamp.from(next));
                ps.setTimestamp(4, Timestamp.from(now));
                ps.setString(5, b.id());
                ps.setString(6, owner);
                n = ps.executeUpdate();
            }
            if (n == 1 && "DEAD".equals(state) && b.fileType() != null) {
                // Its dependants in the window wait (HELD) until it is replayed, in the same transaction, so none is
                // claimed in between.
                try (PreparedStatement ps = c.prepareStatement("UPDATE registration_batch SET state = 'HELD',"
                        + " last_error = ?, updated_at = ? WHERE window_id = ? AND state = 'PENDING'"
                        + " AND prerequisites LIKE ?")) {
                    ps.setString(1, "held: prerequisite " + b.fileType() + " (batch " + b.id() + ") is DEAD");
                    ps.setTimestamp(2, Timestamp.from(now));
                    ps.setString(3, b.windowId());
                    ps.setString(4, "%," + b.fileType() + ",%");
                    int held = ps.executeUpdate();
                    if (held > 0) {
                        meters.counter("erphub.registrations.batches", "state", "HELD").increment(held);
                    }
                }
            }
            return n;
        });
    }

    /** A registration's batches, newest first, optionally of one state. */
    public List<BatchRecord> batches(String registrationId, String state, int limit) {
        return registrations.inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT id, registration_id, tenant, upstream, window_id,"
                    + " file_type, events, state, tries, next_attempt_at, last_error, created_at, updated_at"
                    + " FROM registration_batch"
                    + " WHERE registration_id = ?" + (state == null ? "" : " AND state = ?")
                    + " ORDER BY seq DESC FETCH FIRST ? ROWS ONLY")) {
                int i = 1;
                ps.setString(i++, registrationId);
                if (state != null) {
                    ps.setString(i++, state);
                }
                ps.setInt(i, limit);
                List<BatchRecord> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new BatchRecord(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                                rs.getString(5), rs.getString(6), rs.getInt(7), rs.getString(8), rs.getInt(9),
                                rs.getTimestamp(10).toInstant(), rs.getString(11), rs.getTimestamp(12).toInstant(),
                                rs.getTimestamp(13).toInstant()));
                    }
                }
                return out;
            }
        });
    }

    /**
     * DEAD batches of the registration back to PENDING with fresh tries, and the parts they held released (HELD to
     * PENDING) in each window left without a DEAD part; they go out after it, in order. Returns how many were DEAD.
     */
    public int replayDead(String registrationId, String batchId) {
        Instant now = RegistrationStore.now();
        return registrations.inTransaction(c -> {
            int n;
            try (PreparedStatement ps = c.prepareStatement("UPDATE registration_batch SET state = 'PENDING', tries = 0,"
                    + " next_attempt_at = ?, updated_at = ? WHERE registration_id = ? AND state = 'DEAD'"
                    + (batchId == null ? "" : " AND id = ?"))) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setTimestamp(2, Timestamp.from(now));
                ps.setString(3, registrationId);
                if (batchId != null) {
                    ps.setString(4, batchId);
                }
                n = ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE registration_batch SET state = 'PENDING',"
                    + " last_error = NULL, next_attempt_at = ?, updated_at = ? WHERE registration_id = ? AND state = 'HELD'"
                    + " AND NOT EXISTS (SELECT 1 FROM registration_batch d WHERE d.window_id = registration_batch.window_id"
                    + " AND d.state = 'DEAD')")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setTimestamp(2, Timestamp.from(now));
                ps.setString(3, registrationId);
                ps.executeUpdate();
            }
            return n;
        });
    }
}
