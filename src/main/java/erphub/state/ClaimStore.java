package erphub.state;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
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
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Claims and leases: who may work on a file version. Claiming is an atomic insert guarded by the ledger's
 * unique key, so restarts and concurrent replicas never process one version twice; a claim is held under a
 * lease that a live node renews (heartbeat) and that, once ended, lets another attempt resume the file (its
 * attempt number fences the old one out).
 */
// Camel finds the methods the routes call (bean/method steps) reflectively, also in the native executable.
@RegisterForReflection
@ApplicationScoped
@Named("claimStore")
public class ClaimStore {

    private static final int IN_CHUNK = 500;

    private final StateDataSource db;
    private final ErphubConfig config;
    /**
     * Who holds a claim: the node id plus this process's own start, so a restarted process (same pod name,
     * same host) never mistakes the claims of its dead predecessor for its own and keeps them alive.
     */
    private final String owner;

    public ClaimStore(StateDataSource db, ErphubConfig config) {
        this.db = db;
        this.config = config;
        this.owner = config.nodeId() + "#" + Long.toString(System.nanoTime() ^ ProcessHandle.current().pid() << 20, 36);
    }

    /** This process's claim owner id, as stored in {@code claimed_by}. */
    public String owner() {
        return owner;
    }

    /**
     * Claims a file version for this node. Empty when the version is already known and not resumable:
     * processed, being processed under a live lease, or finished. {@code traceparent}, the claim's trace
     * (null when tracing is off), is kept with the row so every later step continues it.
     */
    public Optional<Claim> claim(FileKey key, String fileName, Long sizeBytes, String checksum, String traceparent) {
        Instant now = LedgerSql.now();
        Instant leaseUntil = now.plus(config.state().claimLease());
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try {
                long id = insertClaim(c, key, fileName, sizeBytes, checksum, traceparent, now, leaseUntil);
                LedgerSql.insertTransition(c, config.nodeId(), id, now, null, FileState.DISCOVERED, 1, "claimed");
                c.commit();
                return Optional.of(new Claim(id, key, 1, false));
            } catch (SQLException e) {
                c.rollback();
                if (!LedgerSql.UNIQUE_VIOLATION.equals(e.getSQLState())) {
                    throw e;
                }
            }
            Optional<Claim> resumed = resumeExpired(c, key, traceparent, now, leaseUntil);
            c.commit();
            return resumed;
        } catch (SQLException e) {
            throw new StateStoreException("cannot claim " + key + ": " + e.getMessage(), e);
        }
    }

    /**
     * The listed items the ledger does not settle yet: versions never seen, and claims whose holder
     * stopped before archiving and whose lease has ended. One query per chunk of a list page.
     */
    public <T> List<T> unsettled(String tenant, String upstream, List<T> items, Function<T, FileKey> keyOf) {
        if (items.isEmpty()) {
            return items;
        }
        Instant now = LedgerSql.now();
        // Settled versions still listed are marked as such (for retention), at most once a quarter of its period.
        Instant staleListing = now.minus(config.state().retention().dividedBy(4));
        Set<FileKey> settled = new HashSet<>();
        List<Long> stillListed = new ArrayList<>();
        try (Connection c = db.connection()) {
            for (int from = 0; from < items.size(); from += IN_CHUNK) {
                List<T> chunk = items.subList(from, Math.min(items.size(), from + IN_CHUNK));
                String marks = String.join(",", Collections.nCopies(chunk.size(), "?"));
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT remote_id, version, state, lease_until, id, COALESCE(last_listed_at, created_at)"
                                + " FROM file_version WHERE tenant = ? AND upstream = ? AND remote_id IN (" + marks + ")")) {
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
                                if (rs.getTimestamp(6).toInstant().isBefore(staleListing)) {
                                    stillListed.add(rs.getLong(5));
                                }
                            }
                        }
                    }
                }
            }
            if (!stillListed.isEmpty()) {
                markListed(c, stillListed, now);
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

    private static void markListed(Connection c, List<Long> ids, Instant now) throws SQLException {
        for (int from = 0; from < ids.size(); from += IN_CHUNK) {
            List<Long> chunk = ids.subList(from, Math.min(ids.size(), from + IN_CHUNK));
            try (PreparedStatement ps = c.prepareStatement("UPDATE file_version SET last_listed_at = ? WHERE id IN ("
                    + String.join(",", Collections.nCopies(chunk.size(), "?")) + ")")) {
                ps.setTimestamp(1, Timestamp.from(now));
                for (int i = 0; i < chunk.size(); i++) {
                    ps.setLong(2 + i, chunk.get(i));
                }
                ps.executeUpdate();
            }
        }
    }

    /**
     * Extends the lease of a claim that is still this attempt's and not yet archived; false when the claim
     * was taken over or the file has moved on, in which case the caller must drop the work.
     */
    public boolean renewLease(long fileId, int claimAttempt) {
        return holdUnarchived(fileId, claimAttempt, "");
    }

    /**
     * Takes a claim over for this node as a new attempt, if it is still {@code claimAttempt} and not yet archived:
     * the relay of the Kafka hand-off does this, so a second copy of the same hand-off record (Kafka delivers at least
     * once) and any worker still holding the old attempt are fenced off. Empty when the claim has moved on.
     */
    public java.util.OptionalInt takeOver(long fileId, int claimAttempt) {
        return holdUnarchived(fileId, claimAttempt, "attempt = attempt + 1, ")
                ? java.util.OptionalInt.of(claimAttempt + 1) : java.util.OptionalInt.empty();
    }

    /** This node holds the claim from now, for a new lease, if it is still {@code claimAttempt} and not yet archived. */
    private boolean holdUnarchived(long fileId, int claimAttempt, String alsoSet) {
        Instant now = LedgerSql.now();
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement("UPDATE file_version SET " + alsoSet
                        + "lease_until = ?, updated_at = ?, claimed_by = ?"
                        + " WHERE id = ? AND attempt = ? AND state IN ('DISCOVERED', 'DOWNLOADED')")) {
            ps.setTimestamp(1, Timestamp.from(now.plus(config.state().claimLease())));
            ps.setTimestamp(2, Timestamp.from(now));
            ps.setString(3, owner);
            ps.setLong(4, fileId);
            ps.setInt(5, claimAttempt);
            return ps.executeUpdate() == 1;
        } catch (SQLException e) {
            throw new StateStoreException("cannot hold the claim on file " + fileId + ": " + e.getMessage(), e);
        }
    }

    /**
     * The heartbeat of a live node: extends every unexpired claim it holds on files not yet archived, so
     * work waiting in the hand-off keeps its claim while the node lives, and loses it soon after it dies.
     */
    public int renewLeasesHeldByThisNode() {
        Instant now = LedgerSql.now();
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
        Instant now = LedgerSql.now();
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

    /**
     * At start: ends the leases that earlier runs of this node id (a process killed or lost, restarted under the
     * same pod or host name) still hold on files not yet archived. Their work died with that process; without
     * this the files would wait out the lease. Node ids are unique per live process, so no live run is cut off.
     */
    public int releaseEarlierRunsOfThisNode() {
        Instant now = LedgerSql.now();
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement(
                        "UPDATE file_version SET lease_until = ? WHERE claimed_by LIKE ? ESCAPE '!' AND claimed_by <> ?"
                                + " AND state IN ('DISCOVERED', 'DOWNLOADED') AND lease_until > ?")) {
            ps.setTimestamp(1, Timestamp.from(now.minusSeconds(1)));
            ps.setString(2, LedgerSql.runsOf(config.nodeId()));
            ps.setString(3, owner);
            ps.setTimestamp(4, Timestamp.from(now));
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new StateStoreException("cannot take back the claims of earlier runs of " + config.nodeId() + ": "
                    + e.getMessage(), e);
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

    /** Ends this node's claim on a file at once (its work failed before ARCHIVED), so a new attempt can resume it. */
    public void release(long fileId, int claimAttempt) {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE file_version SET lease_until = ? WHERE id = ? AND attempt = ? AND claimed_by = ?")) {
            ps.setTimestamp(1, Timestamp.from(LedgerSql.now().minusSeconds(1)));
            ps.setLong(2, fileId);
            ps.setInt(3, claimAttempt);
            ps.setString(4, owner());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new StateStoreException("cannot release the claim of file " + fileId + ": " + e.getMessage(), e);
        }
    }

    private long insertClaim(Connection c, FileKey key, String fileName, Long sizeBytes, String checksum,
            String traceparent, Instant now, Instant leaseUntil) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO file_version (tenant, upstream, remote_id, version, file_name, size_bytes, checksum,"
                        + " state, attempt, claimed_by, lease_until, created_at, updated_at, traceparent)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
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
            ps.setString(13, traceparent);
            ps.executeUpdate();
            try (ResultSet keys = ps.getGeneratedKeys()) {
                keys.next();
                return keys.getLong(1);
            }
        }
    }

    /** Takes over a claim whose holder stopped before the bytes were archived and whose lease has ended. */
    private Optional<Claim> resumeExpired(Connection c, FileKey key, String traceparent, Instant now, Instant leaseUntil)
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
                "UPDATE file_version SET claimed_by = ?, lease_until = ?, attempt = ?, updated_at = ?,"
                        + " traceparent = ? WHERE id = ?")) {
            ps.setString(1, owner);
            ps.setTimestamp(2, Timestamp.from(leaseUntil));
            ps.setInt(3, next);
            ps.setTimestamp(4, Timestamp.from(now));
            ps.setString(5, traceparent);
            ps.setLong(6, id);
            ps.executeUpdate();
        }
        LedgerSql.insertTransition(c, config.nodeId(), id, now, state, state, next, "claim resumed after its lease ended");
        return Optional.of(new Claim(id, key, next, true));
    }

    private static void bindKey(PreparedStatement ps, FileKey key) throws SQLException {
        ps.setString(1, key.tenant());
        ps.setString(2, key.upstream());
        ps.setString(3, key.remoteId());
        ps.setString(4, key.version());
    }
}
