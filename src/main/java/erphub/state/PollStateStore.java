package erphub.state;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.jboss.logging.Logger;

import erphub.config.ErphubConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;

/**
 * The outcome of each (upstream, tenant) poll: one row each, overwritten by the next poll.
 *
 * <p>A successful poll is the common case (60 upstreams × 200 tenants are 12,000 of them a cycle), so successes
 * are written behind, in one JDBC batch a second; a newer success of the same pair replaces one not written yet.
 * {@link #find} (a "since" listing reads its watermark with it on every poll) lays the pair's pending success over
 * its row without writing; {@link #all} writes what is pending first. A failure is written at once, after the
 * pair's pending success, so its count of consecutive failures builds on the latest row. A success lost in a crash only leaves an older
 * watermark, from which the next listing re-lists files the ledger already knows.
 */
@ApplicationScoped
public class PollStateStore {

    private static final Logger LOG = Logger.getLogger(PollStateStore.class);
    private static final String SUCCEEDED = "UPDATE upstream_poll SET last_started_at = ?, last_success_at = ?,"
            + " consecutive_failures = 0, last_claimed = ?, node = ?, watermark = ? WHERE upstream = ? AND tenant = ?";

    private final StateDataSource db;
    private final ErphubConfig config;
    /** Successes not written yet, by "upstream/tenant". */
    private final Map<String, Success> pending = new ConcurrentHashMap<>();

    private record Success(String upstream, String tenant, Instant startedAt, Instant at, int claimed) {

        /** The row as it will be once this success is written (it keeps the row's last error). */
        PollRecord over(PollRecord row, String node) {
            return new PollRecord(upstream, tenant, startedAt, at, row == null ? null : row.lastErrorAt(),
                    row == null ? null : row.lastError(), 0, claimed, node, startedAt);
        }
    }

    private static String key(String upstream, String tenant) {
        return upstream + "/" + tenant;
    }

    public PollStateStore(StateDataSource db, ErphubConfig config) {
        this.db = db;
        this.config = config;
    }

    public void succeeded(String upstream, String tenant, Instant startedAt, int claimed) {
        pending.put(key(upstream, tenant), new Success(upstream, tenant, startedAt, now(), claimed));
    }

    /** Writes the pending successes in one batch; a batch that fails stays pending for the next second. */
    @Scheduled(every = "1s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void writePending() {
        try {
            flush();
        } catch (StateStoreException e) {
            LOG.warnf("poll outcomes not recorded yet, trying again: %s", e.getMessage());
        }
    }

    void written(@Observes ShutdownEvent event) {
        writePending();
    }

    /** Writes every pending success now. */
    public synchronized void flush() {
        if (pending.isEmpty()) {
            return;
        }
        List<Success> batch = new ArrayList<>(pending.values());
        try (Connection c = db.connection()) {
            int[] counts;
            try (PreparedStatement ps = c.prepareStatement(SUCCEEDED)) {
                for (Success s : batch) {
                    bindSuccess(ps, s);
                    ps.addBatch();
                }
                counts = ps.executeBatch();
            }
            for (int i = 0; i < batch.size(); i++) {
                Success s = batch.get(i);
                if (counts[i] == 0) { // the pair's first poll: no row yet
                    upsert(c, s.upstream(), s.tenant(), s.startedAt(), SUCCEEDED, ps -> bindSuccess(ps, s));
                }
                pending.remove(key(s.upstream(), s.tenant()), s);
            }
        } catch (SQLException e) {
            throw new StateStoreException("cannot record " + batch.size() + " polls: " + e.getMessage(), e);
        }
    }

    private void bindSuccess(PreparedStatement ps, Success s) throws SQLException {
        ps.setTimestamp(1, ts(s.startedAt()));
        ps.setTimestamp(2, ts(s.at()));
        ps.setInt(3, s.claimed());
        ps.setString(4, config.nodeId());
        ps.setTimestamp(5, ts(s.startedAt()));
        ps.setString(6, s.upstream());
        ps.setString(7, s.tenant());
    }

    public synchronized void failed(String upstream, String tenant, Instant startedAt, String error) {
        Success before = pending.remove(key(upstream, tenant));
        if (before != null) {
            upsert(upstream, tenant, before.startedAt(), SUCCEEDED, ps -> bindSuccess(ps, before));
        }
        String detail = error == null ? "failed" : error.length() > 2000 ? error.substring(0, 2000) : error;
        upsert(upstream, tenant, startedAt,
                "UPDATE upstream_poll SET last_started_at = ?, last_error_at = ?, last_error = ?,"
                        + " consecutive_failures = consecutive_failures + 1, node = ? WHERE upstream = ? AND tenant = ?",
                ps -> {
                    ps.setTimestamp(1, ts(startedAt));
                    ps.setTimestamp(2, ts(now()));
                    ps.setString(3, detail);
                    ps.setString(4, config.nodeId());
                    ps.setString(5, upstream);
                    ps.setString(6, tenant);
                });
    }

    public Optional<PollRecord> find(String upstream, String tenant) {
        Success unwritten = pending.get(key(upstream, tenant)); // before the read: written meanwhile, the row has it
        Optional<PollRecord> row = list("SELECT * FROM upstream_poll WHERE upstream = ? AND tenant = ?", upstream, tenant)
                .stream().findFirst();
        if (unwritten == null || row.map(r -> r.lastStartedAt() != null
                && r.lastStartedAt().isAfter(unwritten.startedAt())).orElse(false)) {
            return row; // nothing pending, or a later poll (a failure) is already in the row
        }
        return Optional.of(unwritten.over(row.orElse(null), config.nodeId()));
    }

    public List<PollRecord> all() {
        flush();
        return list("SELECT * FROM upstream_poll ORDER BY upstream, tenant");
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private void upsert(String upstream, String tenant, Instant startedAt, String update, Binder binder) {
        try (Connection c = db.connection()) {
            upsert(c, upstream, tenant, startedAt, update, binder);
        } catch (SQLException e) {
            throw new StateStoreException("cannot record the poll of " + upstream + "/" + tenant + ": " + e.getMessage(), e);
        }
    }

    private void upsert(Connection c, String upstream, String tenant, Instant startedAt, String update, Binder binder)
            throws SQLException {
        for (int attempt = 0; attempt < 2; attempt++) {
            try (PreparedStatement ps = c.prepareStatement(update)) {
                binder.bind(ps);
                if (ps.executeUpdate() == 1) {
                    return;
                }
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO upstream_poll (upstream, tenant, last_started_at, node) VALUES (?, ?, ?, ?)")) {
                ps.setString(1, upstream);
                ps.setString(2, tenant);
                ps.setTimestamp(3, ts(startedAt));
                ps.setString(4, config.nodeId());
                ps.executeUpdate();
            } catch (SQLException e) {
                // Another node inserted the row first: update it on the next pass.
                if (!LedgerSql.UNIQUE_VIOLATION.equals(e.getSQLState())) {
                    throw e;
                }
            }
        }
    }

    private List<PollRecord> list(String sql, Object... args) {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            List<PollRecord> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new PollRecord(rs.getString("upstream"), rs.getString("tenant"),
                            instant(rs.getTimestamp("last_started_at")), instant(rs.getTimestamp("last_success_at")),
                            instant(rs.getTimestamp("last_error_at")), rs.getString("last_error"),
                            rs.getInt("consecutive_failures"), rs.getInt("last_claimed"), rs.getString("node"),
                            instant(rs.getTimestamp("watermark"))));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StateStoreException("cannot read poll outcomes: " + e.getMessage(), e);
        }
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }

    private static Timestamp ts(Instant i) {
        return Timestamp.from(i);
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MILLIS);
    }
}
