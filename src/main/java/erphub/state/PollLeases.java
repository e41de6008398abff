package erphub.state;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import erphub.config.ErphubConfig;

/**
 * Poll coordination across replicas: each (upstream, tenant) is listed by the one replica that holds its poll lease
 * ({@code poll_lease}). A replica's poll of an upstream renews the leases it holds and takes those that ended or that
 * nobody holds yet, in three statements per upstream and tick whatever the number of tenants (the first poll of a new
 * pair adds one insert); a lease ends past the holder's next poll, so a dead replica's pairs pass to another within
 * about one poll interval, and at once when it stops normally or restarts under its node id.
 */
@ApplicationScoped
public class PollLeases {

    private static final int IN_CHUNK = 500;

    private final StateDataSource db;
    private final ClaimStore claims;
    private final ErphubConfig config;

    public PollLeases(StateDataSource db, ClaimStore claims, ErphubConfig config) {
        this.db = db;
        this.claims = claims;
        this.config = config;
    }

    /**
     * The tenants of {@code upstream} this replica lists now, in the order given: those whose lease it holds or
     * could take, each held until {@code leaseUntil}.
     */
    public List<String> acquire(String upstream, List<String> tenants, Instant leaseUntil) {
        if (tenants.isEmpty()) {
            return List.of();
        }
        Instant now = LedgerSql.now();
        String owner = claims.owner();
        try (Connection c = db.connection()) {
            Set<String> known = new HashSet<>();
            for (List<String> chunk : chunks(tenants)) {
                try (PreparedStatement ps = c.prepareStatement("UPDATE poll_lease SET holder = ?, lease_until = ?"
                        + " WHERE upstream = ? AND (holder = ? OR lease_until < ?) AND tenant IN (" + marks(chunk) + ")")) {
                    ps.setString(1, owner);
                    ps.setTimestamp(2, Timestamp.from(leaseUntil));
                    ps.setString(3, upstream);
                    ps.setString(4, owner);
                    ps.setTimestamp(5, Timestamp.from(now));
                    bind(ps, 6, chunk);
                    ps.executeUpdate();
                }
            }
            Set<String> mine = new HashSet<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT tenant, holder FROM poll_lease WHERE upstream = ?")) {
                ps.setString(1, upstream);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        known.add(rs.getString(1));
                        if (owner.equals(rs.getString(2))) {
                            mine.add(rs.getString(1));
                        }
                    }
                }
            }
            for (String tenant : tenants) {
                if (!known.contains(tenant) && insert(c, upstream, tenant, owner, leaseUntil)) {
                    mine.add(tenant);
                }
            }
            List<String> listed = new ArrayList<>(tenants.size());
            for (String tenant : tenants) {
                if (mine.contains(tenant)) {
                    listed.add(tenant);
                }
            }
            return listed;
        } catch (SQLException e) {
            throw new StateStoreException("cannot take the poll leases of " + upstream + ": " + e.getMessage(), e);
        }
    }

    /** On a graceful stop: this process's pairs pass to another replica at its next poll. */
    public int releaseHeldByThisNode() {
        return release("holder = ?", claims.owner());
    }

    /** At start: the pairs an earlier run of this node id held (it died) are free at once. */
    public int releaseEarlierRunsOfThisNode() {
        String sql = "holder LIKE ? ESCAPE '!' AND holder <> ?";
        return release(sql, LedgerSql.runsOf(config.nodeId()), claims.owner());
    }

    private int release(String where, String... params) {
        Instant now = LedgerSql.now();
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE poll_lease SET lease_until = ? WHERE lease_until > ? AND " + where)) {
            ps.setTimestamp(1, Timestamp.from(now.minusSeconds(1)));
            ps.setTimestamp(2, Timestamp.from(now));
            for (int i = 0; i < params.length; i++) {
                ps.setString(3 + i, params[i]);
            }
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new StateStoreException("cannot release poll leases: " + e.getMessage(), e);
        }
    }

    /** The first poll of a pair anywhere: one replica's insert wins, the others' are refused by the key. */
    private static boolean insert(Connection c, String upstream, String tenant, String owner, Instant leaseUntil)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO poll_lease (upstream, tenant, holder, lease_until) VALUES (?, ?, ?, ?)")) {
            ps.setString(1, upstream);
            ps.setString(2, tenant);
            ps.setString(3, owner);
            ps.setTimestamp(4, Timestamp.from(leaseUntil));
            ps.executeUpdate();
            return true;
        } catch (SQLException e) {
            if (LedgerSql.UNIQUE_VIOLATION.equals(e.getSQLState())) {
                return false;
            }
            throw e;
        }
    }

    private static List<List<String>> chunks(List<String> values) {
        List<List<String>> chunks = new ArrayList<>();
        for (int i = 0; i < values.size(); i += IN_CHUNK) {
            chunks.add(values.subList(i, Math.min(values.size(), i + IN_CHUNK)));
        }
        return chunks;
    }

    private static String marks(List<String> chunk) {
        return String.join(", ", Collections.nCopies(chunk.size(), "?"));
    }

    private static void bind(PreparedStatement ps, int from, List<String> values) throws SQLException {
        for (int i = 0; i < values.size(); i++) {
            ps.setString(from + i, values.get(i));
        }
    }
}
