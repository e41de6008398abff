package erphub.state;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import erphub.config.ErphubConfig;

/**
 * The fan-out half of the ledger: one delivery per (file version, destination), each with its own state
 * (PENDING -> DELIVERED | RETRYING -> DEAD), attempts, last error and lease. A delivery is handed to a
 * worker under a claim number; a worker whose claim was taken over (its lease ended, or a replay) is
 * refused with {@link StaleClaimException}. When a file's last delivery settles, the file settles in the
 * same transaction: DELIVERED, PARTIALLY_DELIVERED (some dead) or DEAD_LETTERED (all dead).
 */
@ApplicationScoped
@Named("deliveryStore")
public class DeliveryStore {

    private static final Set<DeliveryState> OPEN = EnumSet.of(DeliveryState.PENDING, DeliveryState.RETRYING);

    private final StateDataSource db;
    private final FileStateStore files;
    private final ErphubConfig config;

    public DeliveryStore(StateDataSource db, FileStateStore files, ErphubConfig config) {
        this.db = db;
        this.files = files;
        this.config = config;
    }

    /** A delivery handed to a worker: the worker's results count only while {@code claim} is current. */
    public record DeliveryClaim(long fileId, String destination, int claim) {
    }

    /** What became of the file when one of its deliveries settled: its new state, if it settled too. */
    public record Settled(Optional<FileState> fileState) {
    }

    /** Which dead deliveries a replay by filter takes: every field optional. */
    public record DeadFilter(String tenant, String upstream, String destination, Instant deadFrom, Instant deadTo) {
    }

    /**
     * The end of intake, in one transaction: the file is ARCHIVED, and then either REJECTED by validation,
     * left ARCHIVED (an upstream without destinations), or VALIDATED with a PENDING delivery per destination
     * claimed by this node. A crash before this commit leaves the claim resumable, so nothing is lost.
     */
    public List<DeliveryClaim> archived(long fileId, int claimAttempt, String archiveKey, String archivedDetail,
            long archivedBytes, Optional<String> rejection, List<String> destinations) {
        Instant now = files.now();
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try {
                // The size as archived: what deliveries announce, also for upstreams whose list has no sizes.
                try (PreparedStatement ps = c.prepareStatement("UPDATE file_version SET size_bytes = ? WHERE id = ?")) {
                    ps.setLong(1, archivedBytes);
                    ps.setLong(2, fileId);
                    ps.executeUpdate();
                }
                files.transitionIn(c, fileId, FileState.ARCHIVED, archivedDetail, archiveKey, claimAttempt);
                List<DeliveryClaim> opened = new ArrayList<>();
                if (rejection.isPresent()) {
                    files.transitionIn(c, fileId, FileState.REJECTED, rejection.get(), null, claimAttempt);
                } else if (!destinations.isEmpty()) {
                    files.transitionIn(c, fileId, FileState.VALIDATED,
                            "fan-out to " + String.join(", ", destinations), null, claimAttempt);
                    for (String destination : destinations) {
                        insertDelivery(c, fileId, destination, now);
                        insertTransition(c, fileId, destination, now, null, DeliveryState.PENDING, 0, "opened");
                        opened.add(new DeliveryClaim(fileId, destination, 1));
                    }
                }
                c.commit();
                return opened;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new StateStoreException("cannot record the archiving of file " + fileId + ": " + e.getMessage(), e);
        }
    }

    /** Extends the lease of a delivery as a worker starts on it; false when the worker must drop it. */
    public boolean renewLease(DeliveryClaim d) {
        Instant now = files.now();
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement(
                        "UPDATE file_delivery SET lease_until = ?, claimed_by = ? WHERE file_id = ? AND destination = ?"
                                + " AND claim = ? AND state IN ('PENDING', 'RETRYING')")) {
            ps.setTimestamp(1, Timestamp.from(now.plus(config.state().claimLease())));
            ps.setString(2, files.owner());
            ps.setLong(3, d.fileId());
            ps.setString(4, d.destination());
            ps.setInt(5, d.claim());
            return ps.executeUpdate() == 1;
        } catch (SQLException e) {
            throw new StateStoreException("cannot renew delivery " + d + ": " + e.getMessage(), e);
        }
    }

    /** A failed attempt that will be retried: RETRYING, with the error and the attempt count. */
    public void retrying(DeliveryClaim d, String error) {
        settle(d, DeliveryState.RETRYING, error, true);
    }

    public Settled delivered(DeliveryClaim d, String detail) {
        return settle(d, DeliveryState.DELIVERED, detail, true);
    }

    /**
     * DEAD with the reason, replayable from the archive: refused by the destination ({@code attempted}: this
     * was an attempt of its own), or retries exhausted (the last attempt is already counted).
     */
    public Settled dead(DeliveryClaim d, String reason, boolean attempted) {
        return settle(d, DeliveryState.DEAD, reason, attempted);
    }

    private Settled settle(DeliveryClaim d, DeliveryState to, String detail, boolean attempted) {
        Instant now = files.now();
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try {
                // The file row first: concurrent destinations of one file settle one after the other.
                files.lock(c, d.fileId(), null);
                DeliveryRecord current = find(c, d.fileId(), d.destination(), true)
                        .orElseThrow(() -> new StateStoreException("no delivery " + d));
                if (current.claim() != d.claim() || !OPEN.contains(current.state())) {
                    throw new StaleClaimException("delivery " + d.destination() + " of file " + d.fileId()
                            + ": claim " + d.claim() + " is no longer current (claim " + current.claim() + ", "
                            + current.state() + ")");
                }
                int tries = current.tries() + (attempted ? 1 : 0);
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE file_delivery SET state = ?, tries = ?, last_error = ?, updated_at = ?,"
                                + " lease_until = CASE WHEN ? THEN NULL ELSE lease_until END"
                                + " WHERE file_id = ? AND destination = ?")) {
                    ps.setString(1, to.name());
                    ps.setInt(2, tries);
                    ps.setString(3, to == DeliveryState.DELIVERED ? current.lastError() : FileStateStore.truncate(detail));
                    ps.setTimestamp(4, Timestamp.from(now));
                    ps.setBoolean(5, !OPEN.contains(to));
                    ps.setLong(6, d.fileId());
                    ps.setString(7, d.destination());
                    ps.executeUpdate();
                }
                insertTransition(c, d.fileId(), d.destination(), now, current.state(), to, tries, detail);
                Optional<FileState> fileState = OPEN.contains(to) ? Optional.empty() : settleFile(c, d.fileId());
                c.commit();
                return new Settled(fileState);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new StateStoreException("cannot record " + to + " for delivery " + d + ": " + e.getMessage(), e);
        }
    }

    private Optional<FileState> settleFile(Connection c, long fileId) throws SQLException {
        int delivered = 0;
        int dead = 0;
        List<String> deadOnes = new ArrayList<>();
        for (DeliveryRecord r : deliveries(c, fileId)) {
            switch (r.state()) {
                case PENDING, RETRYING -> {
                    return Optional.empty();
                }
                case DELIVERED -> delivered++;
                case DEAD -> {
                    dead++;
                    deadOnes.add(r.destination() + ": " + r.lastError());
                }
            }
        }
        FileState to = dead == 0 ? FileState.DELIVERED : delivered == 0 ? FileState.DEAD_LETTERED
                : FileState.PARTIALLY_DELIVERED;
        String detail = dead == 0 ? "delivered to " + delivered + " destination(s)"
                : "dead: " + String.join("; ", deadOnes);
        files.transitionIn(c, fileId, to, detail, null, null);
        return Optional.of(to);
    }

    /**
     * Takes over deliveries whose worker went away (its lease ended): a new claim for this node, to be
     * handed to a worker again. Bounded per call; the sweeper calls again on its next tick.
     */
    public List<DeliveryClaim> takeOverExpired(int limit) {
        Instant now = files.now();
        List<DeliveryClaim> candidates = new ArrayList<>();
        List<DeliveryClaim> taken = new ArrayList<>();
        try (Connection c = db.connection()) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT file_id, destination, claim FROM file_delivery WHERE state IN ('PENDING', 'RETRYING')"
                            + " AND lease_until < ? ORDER BY lease_until FETCH FIRST " + limit + " ROWS ONLY")) {
                ps.setTimestamp(1, Timestamp.from(now));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        candidates.add(new DeliveryClaim(rs.getLong(1), rs.getString(2), rs.getInt(3)));
                    }
                }
            }
            for (DeliveryClaim d : candidates) {
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE file_delivery SET claim = claim + 1, claimed_by = ?, lease_until = ?"
                                + " WHERE file_id = ? AND destination = ? AND claim = ? AND lease_until < ?"
                                + " AND state IN ('PENDING', 'RETRYING')")) {
                    ps.setString(1, files.owner());
                    ps.setTimestamp(2, Timestamp.from(now.plus(config.state().claimLease())));
                    ps.setLong(3, d.fileId());
                    ps.setString(4, d.destination());
                    ps.setInt(5, d.claim());
                    ps.setTimestamp(6, Timestamp.from(now));
                    if (ps.executeUpdate() == 1) {
                        taken.add(new DeliveryClaim(d.fileId(), d.destination(), d.claim() + 1));
                    }
                }
            }
            return taken;
        } catch (SQLException e) {
            throw new StateStoreException("cannot take over expired deliveries: " + e.getMessage(), e);
        }
    }

    /** Heartbeat: this live node keeps the leases of the deliveries it is working on. */
    public int renewLeasesHeldByThisNode() {
        return updateOwnLeases("UPDATE file_delivery SET lease_until = ? WHERE claimed_by = ?"
                + " AND state IN ('PENDING', 'RETRYING') AND lease_until > ?",
                files.now().plus(config.state().claimLease()), true);
    }

    /** On stop: this node's queued deliveries die with it, so another node may take them over at once. */
    public int releaseLeasesHeldByThisNode() {
        return updateOwnLeases("UPDATE file_delivery SET lease_until = ? WHERE claimed_by = ?"
                + " AND state IN ('PENDING', 'RETRYING')", files.now(), false);
    }

    private int updateOwnLeases(String sql, Instant leaseUntil, boolean onlyLive) {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setTimestamp(1, Timestamp.from(leaseUntil));
            ps.setString(2, files.owner());
            if (onlyLive) {
                ps.setTimestamp(3, Timestamp.from(files.now()));
            }
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new StateStoreException("cannot update the delivery leases of " + files.owner() + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Moves a dead delivery back to PENDING under a new claim for this node, and its file back into
     * delivery (VALIDATED). Empty when the delivery is not dead (already replayed, or never failed).
     */
    public Optional<DeliveryClaim> replay(long fileId, String destination, String detail) {
        Instant now = files.now();
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try {
                FileState fileState = files.lock(c, fileId, null).state();
                Optional<DeliveryRecord> current = find(c, fileId, destination, true);
                if (current.isEmpty() || current.get().state() != DeliveryState.DEAD) {
                    c.rollback();
                    return Optional.empty();
                }
                int claim = current.get().claim() + 1;
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE file_delivery SET state = 'PENDING', tries = 0, claim = ?, claimed_by = ?,"
                                + " lease_until = ?, updated_at = ? WHERE file_id = ? AND destination = ?")) {
                    ps.setInt(1, claim);
                    ps.setString(2, files.owner());
                    ps.setTimestamp(3, Timestamp.from(now.plus(config.state().claimLease())));
                    ps.setTimestamp(4, Timestamp.from(now));
                    ps.setLong(5, fileId);
                    ps.setString(6, destination);
                    ps.executeUpdate();
                }
                insertTransition(c, fileId, destination, now, DeliveryState.DEAD, DeliveryState.PENDING, 0, detail);
                if (fileState != FileState.VALIDATED) {
                    files.transitionIn(c, fileId, FileState.VALIDATED, detail + " (" + destination + ")", null, null);
                }
                c.commit();
                return Optional.of(new DeliveryClaim(fileId, destination, claim));
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new StateStoreException("cannot replay delivery " + destination + " of file " + fileId + ": "
                    + e.getMessage(), e);
        }
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
                    out.add(toRecord(rs));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StateStoreException("cannot list dead deliveries: " + e.getMessage(), e);
        }
    }

    /** How many deliveries are in each state. */
    public java.util.Map<String, Long> countByState() {
        return FileStateStore.counts(db, "SELECT state, COUNT(*) FROM file_delivery GROUP BY state");
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
    public List<DeliveryTransition> history(long fileId) {
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

    private List<DeliveryRecord> deliveries(Connection c, long fileId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT * FROM file_delivery WHERE file_id = ? ORDER BY destination")) {
            ps.setLong(1, fileId);
            List<DeliveryRecord> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(toRecord(rs));
                }
            }
            return out;
        }
    }

    private Optional<DeliveryRecord> find(Connection c, long fileId, String destination, boolean lock)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT * FROM file_delivery WHERE file_id = ?"
                + " AND destination = ?" + (lock ? " FOR UPDATE" : ""))) {
            ps.setLong(1, fileId);
            ps.setString(2, destination);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(toRecord(rs)) : Optional.empty();
            }
        }
    }

    private void insertDelivery(Connection c, long fileId, String destination, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO file_delivery (file_id, destination, state, claim, tries, claimed_by, lease_until,"
                        + " created_at, updated_at) VALUES (?, ?, 'PENDING', 1, 0, ?, ?, ?, ?)")) {
            ps.setLong(1, fileId);
            ps.setString(2, destination);
            ps.setString(3, files.owner());
            ps.setTimestamp(4, Timestamp.from(now.plus(config.state().claimLease())));
            ps.setTimestamp(5, Timestamp.from(now));
            ps.setTimestamp(6, Timestamp.from(now));
            ps.executeUpdate();
        }
    }

    private void insertTransition(Connection c, long fileId, String destination, Instant at, DeliveryState from,
            DeliveryState to, int tries, String detail) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO delivery_transition (file_id, destination, occurred_at, node, from_state, to_state,"
                        + " tries, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, fileId);
            ps.setString(2, destination);
            ps.setTimestamp(3, Timestamp.from(at));
            ps.setString(4, config.nodeId());
            ps.setString(5, from == null ? null : from.name());
            ps.setString(6, to.name());
            ps.setInt(7, tries);
            ps.setString(8, FileStateStore.truncate(detail));
            ps.executeUpdate();
        }
    }

    private static DeliveryRecord toRecord(ResultSet rs) throws SQLException {
        Timestamp lease = rs.getTimestamp("lease_until");
        return new DeliveryRecord(rs.getLong("file_id"), rs.getString("destination"),
                DeliveryState.valueOf(rs.getString("state")), rs.getInt("claim"), rs.getInt("tries"),
                rs.getString("claimed_by"), lease == null ? null : lease.toInstant(), rs.getString("last_error"),
                rs.getTimestamp("created_at").toInstant(), rs.getTimestamp("updated_at").toInstant());
    }
}
