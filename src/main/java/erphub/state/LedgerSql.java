package erphub.state;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** What the ledger's stores share: the clock, row mapping, transition rows. Plain JDBC, the same on H2 and PostgreSQL. */
final class LedgerSql {

    /** SQLState of a unique-key violation, the same on H2 and PostgreSQL. */
    static final String UNIQUE_VIOLATION = "23505";
    private static final int DETAIL_MAX = 2000;
    private static final Clock CLOCK = Clock.systemUTC();

    private LedgerSql() {
    }

    // Millisecond precision: what both databases store, so a value read back compares equal.
    static Instant now() {
        return CLOCK.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    /**
     * A LIKE pattern for the claim owners of every run of {@code nodeId} ({@code <node id>#<run>}), the node id's
     * own wildcards escaped with {@code !} (use {@code ESCAPE '!'}).
     */
    static String runsOf(String nodeId) {
        return nodeId.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "#%";
    }

    static String truncate(String s) {
        return s == null || s.length() <= DETAIL_MAX ? s : s.substring(0, DETAIL_MAX);
    }

    static void insertTransition(Connection c, String node, long fileId, Instant at, FileState from, FileState to,
            int attempt, String detail) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO file_transition (file_id, occurred_at, node, from_state, to_state, attempt, detail)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, fileId);
            ps.setTimestamp(2, Timestamp.from(at));
            ps.setString(3, node);
            ps.setString(4, from == null ? null : from.name());
            ps.setString(5, to.name());
            ps.setInt(6, attempt);
            ps.setString(7, truncate(detail));
            ps.executeUpdate();
        }
    }

    static void insertDeliveryTransition(Connection c, String node, long fileId, String destination, Instant at,
            DeliveryState from, DeliveryState to, int tries, String detail) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO delivery_transition (file_id, destination, occurred_at, node, from_state, to_state,"
                        + " tries, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, fileId);
            ps.setString(2, destination);
            ps.setTimestamp(3, Timestamp.from(at));
            ps.setString(4, node);
            ps.setString(5, from == null ? null : from.name());
            ps.setString(6, to.name());
            ps.setInt(7, tries);
            ps.setString(8, truncate(detail));
            ps.executeUpdate();
        }
    }

    static FileRecord fileRecord(ResultSet rs) throws SQLException {
        long size = rs.getLong("size_bytes");
        Long sizeBytes = rs.wasNull() ? null : size;
        Timestamp lease = rs.getTimestamp("lease_until");
        return new FileRecord(rs.getLong("id"),
                new FileKey(rs.getString("tenant"), rs.getString("upstream"), rs.getString("remote_id"),
                        rs.getString("version")),
                rs.getString("file_name"), sizeBytes, rs.getString("checksum"),
                FileState.valueOf(rs.getString("state")), rs.getInt("attempt"), rs.getString("claimed_by"),
                lease == null ? null : lease.toInstant(), rs.getString("archive_key"), rs.getString("reason"),
                rs.getTimestamp("created_at").toInstant(), rs.getTimestamp("updated_at").toInstant(),
                rs.getString("traceparent"));
    }

    static DeliveryRecord deliveryRecord(ResultSet rs) throws SQLException {
        Timestamp lease = rs.getTimestamp("lease_until");
        return new DeliveryRecord(rs.getLong("file_id"), rs.getString("destination"),
                DeliveryState.valueOf(rs.getString("state")), rs.getInt("claim"), rs.getInt("tries"),
                rs.getString("claimed_by"), lease == null ? null : lease.toInstant(), rs.getString("last_error"),
                rs.getTimestamp("created_at").toInstant(), rs.getTimestamp("updated_at").toInstant());
    }
}
