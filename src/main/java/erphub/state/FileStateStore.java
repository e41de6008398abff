package erphub.state;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import erphub.config.ErphubConfig;

/**
 * The file ledger. Claiming is an atomic insert guarded by the unique key, so restarts and concurrent
 * replicas never process one file version twice; every state change is one transition row.
 * Plain JDBC: the same statements run on H2 and PostgreSQL.
 */
@ApplicationScoped
@Named("fileStateStore")
public class FileStateStore {

    /** SQLState of a unique-key violation, the same on H2 and PostgreSQL. */
    static final String UNIQUE_VIOLATION = "23505";
    private static final int DETAIL_MAX = 2000;
    private static final int IN_CHUNK = 500;

    private final StateDataSource db;
    private final ErphubConfig config;
    private final Clock clock;
    /**
     * Who holds a claim: the node id plus this process's own start, so a restarted process (same pod name,
     * same host) never mistakes the claims of its dead predecessor for its own and keeps them alive.
     */
    private final String owner;

    public FileStateStore(StateDataSource db, ErphubConfig config) {
        this.db = db;
        this.config = config;
        this.clock = Clock.systemUTC();
        this.owner = config.nodeId() + "#" + Long.toString(System.nanoTime() ^ ProcessHandle.current().pid() << 20, 36);
    }

    /** This process's claim owner id, as stored in {@code claimed_by}. */
    public String owner() {
        return owner;
    }

    /**
     * Claims a file version for this node. Empty when the version is already known and not resumable:
     * processed, being processed under a live lease, or finished.
     */
    public Optional<Claim> claim(FileKey key, String fileName, Long sizeBytes, String checksum) {
        Instant now = now();
        Instant leaseUntil = now.plus(config.state().claimLease());
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try {
                long id = insertClaim(c, key, fileName, sizeBytes, checksum, now, leaseUntil);
                insertTransition(c, id, now, null, FileState.DISCOVERED, 1, "claimed");
                c.commit();
                return Optional.of(new Claim(id, key, 1, false));
            } catch (SQLException e) {
                c.rollback();
                if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
                    throw e;
                }
            }
            Optional<Claim> resumed = resumeExpired(c, key, now, leaseUntil);
            c.commit();
            return resumed;
        } catch (SQLException e) {
            throw new StateStoreException("cannot claim " + key + ": " + e.getMessage(), e);
        }
    }

    /** Records a lifecycle step, refusing one the lifecycle does not allow. */
    public void transition(long fileId, FileState to, String detail) {
        transition(fileId, to, detail, null);
    }

    /** As {@link #transition(long, FileState, String)}, also recording where the file's bytes are archived. */
    public void transition(long fileId, FileState to, String detail, String archiveKey) {
        transition(fileId, to, detail, archiveKey, null);
    }

    /**
     * Records a step taken under a claim: refused with {@link StaleClaimException} when the claim's attempt
     * is no longer the file's (another worker resumed it after the lease ended).
     */
    public void transition(long fileId, FileState to, String detail, String archiveKey, Integer claimAttempt) {
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try {
                transitionIn(c, fileId, to, detail, archiveKey, claimAttempt);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new StateStoreException("cannot record " + to + " for file " + fileId + ": " + e.getMessage(), e);
        }
    }

    /** A file row locked for the caller's transaction: its state and current claim attempt. */
    record Locked(FileState state, int attempt) {
    }

    /** Locks the file's row until the caller's transaction ends; refuses a superseded claim attempt. */
    Locked lock(Connection c, long fileId, Integer claimAttempt) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT state, attempt FROM file_version WHERE id = ? FOR UPDATE")) {
            ps.setLong(1, fileId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new StateStoreException("no file with id " + fileId);
                }
                int attempt = rs.getInt(2);
                if (claimAttempt != null && attempt != claimAttempt) {
                    throw new StaleClaimException("file " + fileId + ": claim attempt " + claimAttempt
                            + " was superseded by attempt " + attempt);
                }
                return new Locked(FileState.valueOf(rs.getString(1)), attempt);
            }
        }
    }

    /** One lifecycle step inside the caller's transaction (see {@link DeliveryStore}). */
    void transitionIn(Connection c, long fileId, FileState to, String detail, String archiveKey, Integer claimAttempt)
            throws SQLException {
        Instant now = now();
        Locked row = lock(c, fileId, claimAttempt);
        FileState from = row.state();
        int attempt = row.attempt();
        if (!from.canMoveTo(to)) {
            throw new StateStoreException("file " + fileId + " cannot move from " + from + " to " + to);
        }
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE file_version SET state = ?, updated_at = ?, reason = ?,"
                        + " lease_until = CASE WHEN ? THEN NULL ELSE lease_until END,"
                        + " archive_key = COALESCE(?, archive_key) WHERE id = ?")) {
            ps.setString(1, to.name());
            ps.setTimestamp(2, Timestamp.from(now));
            boolean leaves = !FileState.RESUMABLE.contains(to);
            ps.setString(3, isFailure(to) ? truncate(detail) : null);
            ps.setBoolean(4, leaves);
            ps.setString(5, archiveKey);
            ps.setLong(6, fileId);
            ps.executeUpdate();
        }
        insertTransition(c, fileId, now, from, to, attempt, detail);
    }

    /**
     * The listed items the ledger does not settle yet: versions never seen, and claims whose holder
     * stopped before archiving and whose lease has ended. One query per chunk of a list page.
     */
    public <T> List<T> unsettled(String tenant, String upstream, List<T> items, Function<T, FileKey> keyOf) {
        if (items.isEmpty()) {
            return items;
        }
        Instant now = now();
        Set<FileKey> settled = new HashSet<>();
        try (Connection c = db.connection()) {
            for (int from = 0; from < items.size(); from += IN_CHUNK) {
                List<T> chunk = items.subList(from, Math.min(items.size(), from + IN_CHUNK));
                String marks = String.join(",", Collections.nCopies(chunk.size(), "?"));
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT remote_id, version, state, lease_until FROM file_version"
                                + " WHERE tenant = ? AND upstream = ? AND remote_id IN (" + marks + ")")) {
                    ps.setString(1, tenant);
                    ps.setString(2, upstream);
                    for (int i = 0; i < chunk.size(); i++) {
                        ps.setString(3 + i, keyOf.apply(chunk.get(i)).remoteId());
                    }
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            FileState state = FileState.valueOf(rs.getString(3));
                            Timestamp lease = rs.getTimestamp(4);
                            boolean resumable = FileState.RESUMABLE.contains(state)
                                    && (lease == null || !lease.toInstant().isAfter(now));
                            if (!resumable) {
                                settled.add(new FileKey(tenant, upstream, rs.getString(1), rs.getString(2)));
                            }
                        }
                    }
                }
            }
        } catch (SQLException e) {
            throw new StateStoreException("cannot check " + items.size() + " listed files of " + tenant + "/"
                    + upstream + " against the ledger: " + e.getMessage(), e);
        }
        List<T> out = new ArrayList<>(items.size());
        for (T item : items) {
            if (!settled.contains(keyOf.apply(item))) {
                out.add(item);
            }
        }
        return out;
    }

    /**
     * Extends the lease of a claim that is still this attempt's and not yet archived; false when the claim
     * was taken over or the file has moved on, in which case the caller must drop the work.
     */
    public boolean renewLease(long fileId, int claimAttempt) {
        Instant now = now();
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement(
                        "UPDATE file_version SET lease_until = ?, updated_at = ?, claimed_by = ?"
                                + " WHERE id = ? AND attempt = ? AND state IN ('DISCOVERED', 'DOWNLOADED')")) {
            ps.setTimestamp(1, Timestamp.from(now.plus(config.state().claimLease())));
            ps.setTimestamp(2, Timestamp.from(now));
            ps.setString(3, owner);
            ps.setLong(4, fileId);
            ps.setInt(5, claimAttempt);
            return ps.executeUpdate() == 1;
        } catch (SQLException e) {
            throw new StateStoreException("cannot renew the claim on file " + fileId + ": " + e.getMessage(), e);
        }
    }

    /**
     * The heartbeat of a live node: extends every unexpired claim it holds on files not yet archived, so
     * work waiting in the hand-off keeps its claim while the node lives, and loses it soon after it dies.
     */
    public int renewLeasesHeldByThisNode() {
        Instant now = now();
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement(
                        "UPDATE file_version SET lease_until = ? WHERE claimed_by = ?"
                                + " AND state IN ('DISCOVERED', 'DOWNLOADED') AND lease_until > ?")) {
            ps.setTimestamp(1, Timestamp.from(now.plus(config.state().claimLease())));
            ps.setString(2, owner);
            ps.setTimestamp(3, Timestamp.from(now));
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new StateStoreException("cannot renew the claims of " + config.nodeId() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Ends the leases of this process's claims on files not yet archived. Called once the routes have
     * stopped, when nothing is working on them any more: they were waiting in an in-process hand-off that
     * dies with the process, and another node (or this one, restarted) may resume them at once.
     */
    public int releaseLeasesHeldByThisNode() {
        Instant now = now();
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement(
                        "UPDATE file_version SET lease_until = ? WHERE claimed_by = ?"
                                + " AND state IN ('DISCOVERED', 'DOWNLOADED')")) {
            ps.setTimestamp(1, Timestamp.from(now));
            ps.setString(2, owner);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new StateStoreException("cannot release the claims of " + owner + ": " + e.getMessage(), e);
        }
    }

    /** Whether any file of the tenant and upstream is claimed but not yet archived (or finished). */
    public boolean hasUnfinished(String tenant, String upstream) {
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement(
                        "SELECT 1 FROM file_version WHERE tenant = ? AND upstream = ?"
                                + " AND state IN ('DISCOVERED', 'DOWNLOADED') FETCH FIRST 1 ROWS ONLY")) {
            ps.setString(1, tenant);
            ps.setString(2, upstream);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw new StateStoreException("cannot look for unfinished files of " + tenant + "/" + upstream + ": "
                    + e.getMessage(), e);
        }
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

    /** What a request to process a file again found. */
    public enum Reprocess {
        /** Back to DISCOVERED with an ended lease: the next poll that lists it downloads it again. */
        QUEUED,
        /** Not REJECTED or DEAD_LETTERED: nothing to do again. */
        NOT_FAILED,
        /** Its bytes were archived and delivered somewhere: dead deliveries are replayed, not downloaded again. */
        HAS_DELIVERIES
    }

    /**
     * Lets a REJECTED or DEAD_LETTERED file version be processed again once its upstream has fixed what was wrong
     * (a corrected listing, a service back up): the row returns to DISCOVERED with its lease ended, so the next
     * poll that lists the file claims it as a resumed claim and downloads it again. The reason is kept in the history.
     */
    public Reprocess reprocess(long fileId, String detail) {
        Instant now = now();
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try {
                Locked row = lock(c, fileId, null);
                if (row.state() != FileState.REJECTED && row.state() != FileState.DEAD_LETTERED) {
                    c.rollback();
                    return Reprocess.NOT_FAILED;
                }
                try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM file_delivery WHERE file_id = ?")) {
                    ps.setLong(1, fileId);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            c.rollback();
                            return Reprocess.HAS_DELIVERIES;
                        }
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("UPDATE file_version SET state = ?, reason = NULL,"
                        + " lease_until = ?, archive_key = NULL, updated_at = ? WHERE id = ?")) {
                    ps.setString(1, FileState.DISCOVERED.name());
                    ps.setTimestamp(2, Timestamp.from(now.minusSeconds(1)));
                    ps.setTimestamp(3, Timestamp.from(now));
                    ps.setLong(4, fileId);
                    ps.executeUpdate();
                }
                insertTransition(c, fileId, now, row.state(), FileState.DISCOVERED, row.attempt(), detail);
                c.commit();
                return Reprocess.QUEUED;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new StateStoreException("cannot reprocess file " + fileId + ": " + e.getMessage(), e);
        }
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

    /** Ends this node's claim on a file at once (its work failed before ARCHIVED), so a new attempt can resume it. */
    public void release(long fileId, int claimAttempt) {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE file_version SET lease_until = ? WHERE id = ? AND attempt = ? AND claimed_by = ?")) {
            ps.setTimestamp(1, Timestamp.from(now().minusSeconds(1)));
            ps.setLong(2, fileId);
            ps.setInt(3, claimAttempt);
            ps.setString(4, owner());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new StateStoreException("cannot release the claim of file " + fileId + ": " + e.getMessage(), e);
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

    private long insertClaim(Connection c, FileKey key, String fileName, Long sizeBytes, String checksum,
            Instant now, Instant leaseUntil) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO file_version (tenant, upstream, remote_id, version, file_name, size_bytes, checksum,"
                        + " state, attempt, claimed_by, lease_until, created_at, updated_at)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
                new String[] { "id" })) {
            ps.setString(1, key.tenant());
            ps.setString(2, key.upstream());
            ps.setString(3, key.remoteId());
            ps.setString(4, key.version());
            ps.setString(5, fileName);
            if (sizeBytes == null) {
                ps.setNull(6, Types.BIGINT);
            } else {
                ps.setLong(6, sizeBytes);
            }
            ps.setString(7, checksum);
            ps.setString(8, FileState.DISCOVERED.name());
            ps.setString(9, owner);
            ps.setTimestamp(10, Timestamp.from(leaseUntil));
            ps.setTimestamp(11, Timestamp.from(now));
            ps.setTimestamp(12, Timestamp.from(now));
            ps.executeUpdate();
            try (ResultSet keys = ps.getGeneratedKeys()) {
                keys.next();
                return keys.getLong(1);
            }
        }
    }

    /** Takes over a claim whose holder stopped before the bytes were archived and whose lease has ended. */
    private Optional<Claim> resumeExpired(Connection c, FileKey key, Instant now, Instant leaseUntil)
            throws SQLException {
        long id;
        int attempt;
        FileState state;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT id, attempt, state, lease_until FROM file_version"
                        + " WHERE tenant = ? AND upstream = ? AND remote_id = ? AND version = ? FOR UPDATE")) {
            bindKey(ps, key);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                id = rs.getLong(1);
                attempt = rs.getInt(2);
                state = FileState.valueOf(rs.getString(3));
                Timestamp lease = rs.getTimestamp(4);
                if (!FileState.RESUMABLE.contains(state) || (lease != null && lease.toInstant().isAfter(now))) {
                    return Optional.empty();
                }
            }
        }
        int next = attempt + 1;
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE file_version SET claimed_by = ?, lease_until = ?, attempt = ?, updated_at = ? WHERE id = ?")) {
            ps.setString(1, owner);
            ps.setTimestamp(2, Timestamp.from(leaseUntil));
            ps.setInt(3, next);
            ps.setTimestamp(4, Timestamp.from(now));
            ps.setLong(5, id);
            ps.executeUpdate();
        }
        insertTransition(c, id, now, state, state, next, "claim resumed after its lease ended");
        return Optional.of(new Claim(id, key, next, true));
    }

    private void insertTransition(Connection c, long fileId, Instant at, FileState from, FileState to, int attempt,
            String detail) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO file_transition (file_id, occurred_at, node, from_state, to_state, attempt, detail)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, fileId);
            ps.setTimestamp(2, Timestamp.from(at));
            ps.setString(3, config.nodeId());
            ps.setString(4, from == null ? null : from.name());
            ps.setString(5, to.name());
            ps.setInt(6, attempt);
            ps.setString(7, truncate(detail));
            ps.executeUpdate();
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
                    out.add(toRecord(rs));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StateStoreException("cannot read the ledger: " + e.getMessage(), e);
        }
    }

    private static FileRecord toRecord(ResultSet rs) throws SQLException {
        long size = rs.getLong("size_bytes");
        Long sizeBytes = rs.wasNull() ? null : size;
        Timestamp lease = rs.getTimestamp("lease_until");
        return new FileRecord(rs.getLong("id"),
                new FileKey(rs.getString("tenant"), rs.getString("upstream"), rs.getString("remote_id"),
                        rs.getString("version")),
                rs.getString("file_name"), sizeBytes, rs.getString("checksum"),
                FileState.valueOf(rs.getString("state")), rs.getInt("attempt"), rs.getString("claimed_by"),
                lease == null ? null : lease.toInstant(), rs.getString("archive_key"), rs.getString("reason"),
                rs.getTimestamp("created_at").toInstant(), rs.getTimestamp("updated_at").toInstant());
    }

    private static void bindKey(PreparedStatement ps, FileKey key) throws SQLException {
        ps.setString(1, key.tenant());
        ps.setString(2, key.upstream());
        ps.setString(3, key.remoteId());
        ps.setString(4, key.version());
    }

    private static boolean isFailure(FileState state) {
        return state == FileState.REJECTED || state == FileState.DEAD_LETTERED
                || state == FileState.PARTIALLY_DELIVERED;
    }

    static String truncate(String s) {
        return s == null || s.length() <= DETAIL_MAX ? s : s.substring(0, DETAIL_MAX);
    }

    // Millisecond precision: what both databases store, so a value read back compares equal.
    Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }
}
