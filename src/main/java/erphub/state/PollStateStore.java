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
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import erphub.config.ErphubConfig;

/** The outcome of each (upstream, tenant) poll: one row each, overwritten by the next poll. */
@ApplicationScoped
public class PollStateStore {

    private final StateDataSource db;
    private final ErphubConfig config;

    public PollStateStore(StateDataSource db, ErphubConfig config) {
        this.db = db;
        this.config = config;
    }

    public void succeeded(String upstream, String tenant, Instant startedAt, int claimed) {
        upsert(upstream, tenant, startedAt,
                "UPDATE upstream_poll SET last_started_at = ?, last_success_at = ?, consecutive_failures = 0,"
                        + " last_claimed = ?, node = ?, watermark = ? WHERE upstream = ? AND tenant = ?",
                ps -> {
                    ps.setTimestamp(1, ts(startedAt));
                    ps.setTimestamp(2, ts(now()));
                    ps.setInt(3, claimed);
                    ps.setString(4, config.nodeId());
                    ps.setTimestamp(5, ts(startedAt));
                    ps.setString(6, upstream);
                    ps.setString(7, tenant);
                });
    }

    public void failed(String upstream, String tenant, Instant startedAt, String error) {
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
        return list("SELECT * FROM upstream_poll WHERE upstream = ? AND tenant = ?", upstream, tenant).stream().findFirst();
    }

    public List<PollRecord> all() {
        return list("SELECT * FROM upstream_poll ORDER BY upstream, tenant");
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private void upsert(String upstream, String tenant, Instant startedAt, String update, Binder binder) {
        try (Connection c = db.connection()) {
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
        } catch (SQLException e) {
            throw new StateStoreException("cannot record the poll of " + upstream + "/" + tenant + ": " + e.getMessage(), e);
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
