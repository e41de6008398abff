package erphub.state;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

/**
 * Read-only questions to the ledger, for the API, health, metrics and the console: files by filter with cursor
 * paging, one file's history and deliveries, dead deliveries, counts. Nothing here changes a row.
 */
@ApplicationScoped
public class LedgerQueries {

    private final StateDataSource db;

    public LedgerQueries(StateDataSource db) {
        this.db = db;
    }

    public Optional<FileRecord> find(FileKey key) {
        return query("SELECT * FROM file_version WHERE tenant = ? AND upstream = ? AND remote_id = ? AND version = ?",
                key.tenant(), key.upstream(), key.remoteId(), key.version()).stream().findFirst();
    }

    public Optional<FileRecord> find(long fileId) {
        return query("SELECT * FROM file_version WHERE id = ?", fileId).stream().findFirst();
    }

    /** Which ledger rows a page holds; null fields do not filter. {@code name} matches a part of the file name. */
    public record FileFilter(String tenant, String upstream, FileState state, Instant from, Instant to, String name) {
    }

    /**
     * One page of the ledger in id order, after {@code afterId}: ids only grow, so a cursor (the last id of a
     * page) stays valid while rows are added or change state, and paging returns each row once.
     */
    public List<FileRecord> page(FileFilter filter, long afterId, int limit) {
        StringBuilder sql = new StringBuilder("SELECT * FROM file_version WHERE id > ?");
        List<Object> args = new ArrayList<>(List.of(afterId));
        if (filter.tenant() != null) {
            sql.append(" AND tenant = ?");
            args.add(filter.tenant());
        }
        if (filter.upstream() != null) {
            sql.append(" AND upstream = ?");
            args.add(filter.upstream());
        }
        if (filter.state() != null) {
            sql.append(" AND state = ?");
            args.add(filter.state().name());
        }
        if (filter.from() != null) {
            sql.append(" AND created_at >= ?");
            args.add(Timestamp.from(filter.from()));
        }
        if (filter.to() != null) {
            sql.append(" AND created_at < ?");
            args.add(Timestamp.from(filter.to()));
        }
        if (filter.name() != null) {
            sql.append(" AND file_name LIKE ? ESCAPE '!'");
            args.add("%" + filter.name().replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%");
        }
        sql.append(" ORDER BY id FETCH FIRST ").append(limit).append(" ROWS ONLY");
        return query(sql.toString(), args.toArray());
    }

    /** How many files are in each state (for the console's progress line). */
    public java.util.Map<String, Long> countByState() {
        return counts(db, "SELECT state, COUNT(*) FROM file_version GROUP BY state");
    }

    static java.util.Map<String, Long> counts(StateDataSource db, String sql) {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            java.util.Map<String, Long> out = new java.util.HashMap<>();
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
            return out;
        } catch (SQLException e) {
            throw new StateStoreException("cannot count the ledger: " + e.getMessage(), e);
        }
    }

    /** How many of a tenant's files from one upstream are in one state. */
    public record StateCount(String tenant, String upstream, FileState state, long count) {
    }

    /** Files by tenant, upstream and state; {@code tenant} and {@code upstream} narrow it when not null. */
    public List<StateCount> countByTenantUpstreamAndState(String tenant, String upstream) {
        StringBuilder sql = new StringBuilder("SELECT tenant, upstream, state, COUNT(*) FROM file_version WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (tenant != null) {
            sql.append(" AND tenant = ?");
            args.add(tenant);
        }
        if (upstream != null) {
            sql.append(" AND upstream = ?");
            args.add(upstream);
        }
        sql.append(" GROUP BY tenant, upstream, state ORDER BY tenant, upstream, state");
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            List<StateCount> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new StateCount(rs.getString(1), rs.getString(2), FileState.valueOf(rs.getString(3)), rs.getLong(4)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StateStoreException("cannot count the ledger: " + e.getMessage(), e);
        }
    }

    /** Every transition of a file, oldest first. */
    public List<Transition> history(long fileId) {
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement(
                        "SELECT id, file_id, occurred_at, node, from_state, to_state, attempt, detail"
                                + " FROM file_transition WHERE file_id = ? ORDER BY id")) {
            ps.setLong(1, fileId);
            List<Transition> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String from = rs.getString("from_state");
                    out.add(new Transition(rs.getLong("id"), rs.getLong("file_id"),
                            rs.getTimestamp("occurred_at").toInstant(), rs.getString("node"),
                            from == null ? null : FileState.valueOf(from), FileState.valueOf(rs.getString("to_state")),
                            rs.getInt("attempt"), rs.getString("detail")));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StateStoreException("cannot read the history of file " + fileId + ": " + e.getMessage(), e);
        }
    }

    /** Cheap round trip used by readiness: the store answers. */
    public boolean ping() {
        try (Connection c = db.connection()) {
            return c.isValid(2);
        } catch (SQLException e) {
            return false;
        }
    }

    private List<FileRecord> query(String sql, Object... args) {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            List<FileRecord> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(LedgerSql.fileRecord(rs));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StateStoreException("cannot read the ledger: " + e.getMessage(), e);
        }
    }

    /** Which dead deliveries a replay by filter takes: every field optional. */
    public record DeadFilter(String tenant, String upstream, String destination, Instant deadFrom, Instant deadTo) {
    }

    /** Where a page of dead deliveries ended: they are ordered by (updated_at, file_id, destination). */
    public record DeadCursor(Instant updatedAt, long fileId, String destination) {
    }

    /** Dead deliveries matching the filter, oldest first, at most {@code limit}. */
    public List<DeliveryRecord> dead(DeadFilter filter, int limit) {
        return dead(filter, null, limit);
    }

    /** The same, after a cursor (null: from the start). */
    public List<DeliveryRecord> dead(DeadFilter filter, DeadCursor after, int limit) {
        StringBuilder sql = new StringBuilder("SELECT d.* FROM file_delivery d JOIN file_version f ON f.id = d.file_id"
                + " WHERE d.state = 'DEAD'");
        List<Object> args = new ArrayList<>();
        if (after != null) {
            sql.append(" AND (d.updated_at > ? OR (d.updated_at = ? AND (d.file_id > ?"
                    + " OR (d.file_id = ? AND d.destination > ?))))");
            Timestamp at = Timestamp.from(after.updatedAt());
            args.addAll(List.of(at, at, after.fileId(), after.fileId(), after.destination()));
        }
        if (filter.tenant() != null) {
            sql.append(" AND f.tenant = ?");
            args.add(filter.tenant());
        }
        if (filter.upstream() != null) {
            sql.append(" AND f.upstream = ?");
            args.add(filter.upstream());
        }
        if (filter.destination() != null) {
            sql.append(" AND d.destination = ?");
            args.add(filter.destination());
        }
        if (filter.deadFrom() != null) {
            sql.append(" AND d.updated_at >= ?");
            args.add(Timestamp.from(filter.deadFrom()));
        }
        if (filter.deadTo() != null) {
            sql.append(" AND d.updated_at < ?");
            args.add(Timestamp.from(filter.deadTo()));
        }
        sql.append(" ORDER BY d.updated_at, d.file_id, d.destination FETCH FIRST ").append(limit).append(" ROWS ONLY");
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            List<DeliveryRecord> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(LedgerSql.deliveryRecord(rs));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StateStoreException("cannot list dead deliveries: " + e.getMessage(), e);
        }
    }

    /** How many deliveries are in each state. */
    public java.util.Map<String, Long> deliveryCountByState() {
        return LedgerQueries.counts(db, "SELECT state, COUNT(*) FROM file_delivery GROUP BY state");
    }

    /** The deliveries of one file, by destination. */
    public List<DeliveryRecord> deliveries(long fileId) {
        try (Connection c = db.connection()) {
            return deliveries(c, fileId);
        } catch (SQLException e) {
            throw new StateStoreException("cannot read the deliveries of file " + fileId + ": " + e.getMessage(), e);
        }
    }

    /** Every delivery transition of a file, oldest first. */
    public List<DeliveryTransition> deliveryHistory(long fileId) {
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement(
                        "SELECT * FROM delivery_transition WHERE file_id = ? ORDER BY id")) {
            ps.setLong(1, fileId);
            List<DeliveryTransition> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String from = rs.getString("from_state");
                    out.add(new DeliveryTransition(rs.getLong("id"), rs.getLong("file_id"), rs.getString("destination"),
                            rs.getTimestamp("occurred_at").toInstant(), rs.getString("node"),
                            from == null ? null : DeliveryState.valueOf(from),
                            DeliveryState.valueOf(rs.getString("to_state")), rs.getInt("tries"), rs.getString("detail")));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StateStoreException("cannot read the delivery history of file " + fileId + ": "
                    + e.getMessage(), e);
        }
    }

    static List<DeliveryRecord> deliveries(Connection c, long fileId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT * FROM file_delivery WHERE file_id = ? ORDER BY destination")) {
            ps.setLong(1, fileId);
            List<DeliveryRecord> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(LedgerSql.deliveryRecord(rs));
                }
            }
            return out;
        }
    }

    static Optional<DeliveryRecord> delivery(Connection c, long fileId, String destination, boolean lock)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT * FROM file_delivery WHERE file_id = ?"
                + " AND destination = ?" + (lock ? " FOR UPDATE" : ""))) {
            ps.setLong(1, fileId);
            ps.setString(2, destination);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(LedgerSql.deliveryRecord(rs)) : Optional.empty();
            }
        }
    }
}
