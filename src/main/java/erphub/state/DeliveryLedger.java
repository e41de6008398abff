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
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The fan-out half of the ledger: one delivery per (file version, destination), each with its own state
 * (PENDING -> DELIVERED | RETRYING -> DEAD), attempts, last error and lease. A delivery is handed to a worker
 * under a claim number; a worker whose claim was taken over (its lease ended, or a replay) is refused with
 * {@link StaleClaimException}. When a file's last delivery settles, the file settles in the same transaction:
 * DELIVERED, PARTIALLY_DELIVERED (some dead) or DEAD_LETTERED (all dead).
 */
// Camel finds the methods the routes call (bean/method steps) reflectively, also in the native executable.
@RegisterForReflection
@ApplicationScoped
@Named("deliveryLedger")
public class DeliveryLedger {

    private static final Set<DeliveryState> OPEN = EnumSet.of(DeliveryState.PENDING, DeliveryState.RETRYING);

    private final StateDataSource db;
    private final FileLedger ledger;
    private final ClaimStore claims;
    private final ErphubConfig config;

    public DeliveryLedger(StateDataSource db, FileLedger ledger, ClaimStore claims, ErphubConfig config) {
        this.db = db;
        this.ledger = ledger;
        this.claims = claims;
        this.config = config;
    }

    /** A delivery handed to a worker: the worker's results count only while {@code claim} is current. */
    public record DeliveryClaim(long fileId, String destination, int claim) {
    }

    /** What became of the file when one of its deliveries settled: its new state, if it settled too. */
    public record Settled(Optional<FileState> fileState) {
    }

    /**
     * The end of intake, in one transaction: the file is DOWNLOADED and ARCHIVED (its size and SHA-256 as the
     * archive received them), then REJECTED by validation, left ARCHIVED (an upstream without destinations), or
     * VALIDATED with a PENDING delivery per destination claimed by this node. A crash before this commit leaves
     * the claim resumable, so nothing is lost; one commit per file keeps the ledger's round trips down.
     */
    public List<DeliveryClaim> archived(long fileId, int claimAttempt, String archiveKey, long bytes, String sha256,
            String downloadedDetail, String archivedDetail, Optional<String> rejection, List<String> destinations) {
        Instant now = LedgerSql.now();
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE file_version SET size_bytes = ?, checksum = ? WHERE id = ?")) {
                    ps.setLong(1, bytes);
                    ps.setString(2, sha256);
                    ps.setLong(3, fileId);
                    ps.executeUpdate();
                }
                ledger.transitionIn(c, fileId, FileState.DOWNLOADED, downloadedDetail, null, claimAttempt);
                ledger.transitionIn(c, fileId, FileState.ARCHIVED, archivedDetail, archiveKey, claimAttempt);
                List<DeliveryClaim> opened = new ArrayList<>();
                if (rejection.isPresent()) {
                    ledger.transitionIn(c, fileId, FileState.REJECTED, rejection.get(), null, claimAttempt);
                } else if (!destinations.isEmpty()) {
                    ledger.transitionIn(c, fileId, FileState.VALIDATED, "fan-out to " + String.join(", ", destinations),
                            null, claimAttempt);
                    for (String destination : destinations) {
                        insertDelivery(c, fileId, destination, now);
                        LedgerSql.insertDeliveryTransition(c, config.nodeId(), fileId, destination, now, null,
                                DeliveryState.PENDING, 0, "opened");
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
        Instant now = LedgerSql.now();
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement(
                        "UPDATE file_delivery SET lease_until = ?, claimed_by = ? WHERE file_id = ? AND destination = ?"
                                + " AND claim = ? AND state IN ('PENDING', 'RETRYING')")) {
            ps.setTimestamp(1, Timestamp.from(now.plus(config.state().claimLease())));
            ps.setString(2, claims.owner());
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
        Instant now = LedgerSql.now();
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try {
                // The file row first: concurrent destinations of one file settle one after the other.
                ledger.lock(c, d.fileId(), null);
                DeliveryRecord current = LedgerQueries.delivery(c, d.fileId(), d.destination(), true)
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
                    ps.setString(3, to == DeliveryState.DELIVERED ? current.lastError() : LedgerSql.truncate(detail));
                    ps.setTimestamp(4, Timestamp.from(now));
                    ps.setBoolean(5, !OPEN.contains(to));
                    ps.setLong(6, d.fileId());
                    ps.setString(7, d.destination());
                    ps.executeUpdate();
                }
                LedgerSql.insertDeliveryTransition(c, config.nodeId(), d.fileId(), d.destination(), now, current.state(), to, tries, detail);
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
        for (DeliveryRecord r : LedgerQueries.deliveries(c, fileId)) {
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
        ledger.transitionIn(c, fileId, to, detail, null, null);
        return Optional.of(to);
    }

    /**
     * Takes over deliveries whose worker went away (its lease ended): a new claim for this node, to be
     * handed to a worker again. Bounded per call; the sweeper calls again on its next tick.
     */
    public List<DeliveryClaim> takeOverExpired(int limit) {
        Instant now = LedgerSql.now();
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
                    ps.setString(1, claims.owner());
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
                LedgerSql.now().plus(config.state().claimLease()), true);
    }

    /** On stop: this node's queued deliveries die with it, so another node may take them over at once. */
    public int releaseLeasesHeldByThisNode() {
        return updateOwnLeases("UPDATE file_delivery SET lease_until = ? WHERE claimed_by = ?"
                + " AND state IN ('PENDING', 'RETRYING')", LedgerSql.now(), false);
    }

    /**
     * At start: ends the leases of deliveries that earlier runs of this node id held (queued or waiting for a retry
     * in the memory of a process that is gone), so the sweeper takes them over at once instead of after the lease.
     */
    public int releaseEarlierRunsOfThisNode() {
        Instant now = LedgerSql.now();
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE file_delivery SET lease_until = ? WHERE claimed_by LIKE ? ESCAPE '!' AND claimed_by <> ?"
                        + " AND state IN ('PENDING', 'RETRYING') AND lease_until > ?")) {
            ps.setTimestamp(1, Timestamp.from(now.minusSeconds(1)));
            ps.setString(2, LedgerSql.runsOf(config.nodeId()));
            ps.setString(3, claims.owner());
            ps.setTimestamp(4, Timestamp.from(now));
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new StateStoreException("cannot take back the deliveries of earlier runs of " + config.nodeId()
                    + ": " + e.getMessage(), e);
        }
    }

    private int updateOwnLeases(String sql, Instant leaseUntil, boolean onlyLive) {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setTimestamp(1, Timestamp.from(leaseUntil));
            ps.setString(2, claims.owner());
            if (onlyLive) {
                ps.setTimestamp(3, Timestamp.from(LedgerSql.now()));
            }
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new StateStoreException("cannot update the delivery leases of " + claims.owner() + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Moves a dead delivery back to PENDING under a new claim for this node, and its file back into
     * delivery (VALIDATED). Empty when the delivery is not dead (already replayed, or never failed).
     */
    public Optional<DeliveryClaim> replay(long fileId, String destination, String detail) {
        Instant now = LedgerSql.now();
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try {
                FileState fileState = ledger.lock(c, fileId, null).state();
                Optional<DeliveryRecord> current = LedgerQueries.delivery(c, fileId, destination, true);
                if (current.isEmpty() || current.get().state() != DeliveryState.DEAD) {
                    c.rollback();
                    return Optional.empty();
                }
                int claim = current.get().claim() + 1;
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE file_delivery SET state = 'PENDING', tries = 0, claim = ?, claimed_by = ?,"
                                + " lease_until = ?, updated_at = ? WHERE file_id = ? AND destination = ?")) {
                    ps.setInt(1, claim);
                    ps.setString(2, claims.owner());
                    ps.setTimestamp(3, Timestamp.from(now.plus(config.state().claimLease())));
                    ps.setTimestamp(4, Timestamp.from(now));
                    ps.setLong(5, fileId);
                    ps.setString(6, destination);
                    ps.executeUpdate();
                }
                LedgerSql.insertDeliveryTransition(c, config.nodeId(), fileId, destination, now, DeliveryState.DEAD, DeliveryState.PENDING, 0, detail);
                if (fileState != FileState.VALIDATED) {
                    ledger.transitionIn(c, fileId, FileState.VALIDATED, detail + " (" + destination + ")", null, null);
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

    private void insertDelivery(Connection c, long fileId, String destination, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO file_delivery (file_id, destination, state, claim, tries, claimed_by, lease_until,"
                        + " created_at, updated_at) VALUES (?, ?, 'PENDING', 1, 0, ?, ?, ?, ?)")) {
            ps.setLong(1, fileId);
            ps.setString(2, destination);
            ps.setString(3, claims.owner());
            ps.setTimestamp(4, Timestamp.from(now.plus(config.state().claimLease())));
            ps.setTimestamp(5, Timestamp.from(now));
            ps.setTimestamp(6, Timestamp.from(now));
            ps.executeUpdate();
        }
    }
}
