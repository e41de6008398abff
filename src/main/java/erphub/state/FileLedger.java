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
import jakarta.inject.Named;

import erphub.config.ErphubConfig;

/**
 * The lifecycle ledger: every state change of a file version is one transition row (time, node, attempt,
 * detail), and only the changes the lifecycle allows are taken. A step taken under a claim is refused when
 * the claim's attempt is no longer the file's ({@link StaleClaimException}).
 */
@ApplicationScoped
@Named("fileLedger")
public class FileLedger {

    private final StateDataSource db;
    private final ErphubConfig config;

    public FileLedger(StateDataSource db, ErphubConfig config) {
        this.db = db;
        this.config = config;
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

    /** One lifecycle step inside the caller's transaction (see {@link DeliveryLedger}). */
    void transitionIn(Connection c, long fileId, FileState to, String detail, String archiveKey, Integer claimAttempt)
            throws SQLException {
        Instant now = LedgerSql.now();
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
            ps.setString(3, isFailure(to) ? LedgerSql.truncate(detail) : null);
            ps.setBoolean(4, leaves);
            ps.setString(5, archiveKey);
            ps.setLong(6, fileId);
            ps.executeUpdate();
        }
        LedgerSql.insertTransition(c, config.nodeId(), fileId, now, from, to, attempt, detail);
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
        Instant now = LedgerSql.now();
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
                LedgerSql.insertTransition(c, config.nodeId(), fileId, now, row.state(), FileState.DISCOVERED, row.attempt(), detail);
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

    private static boolean isFailure(FileState state) {
        return state == FileState.REJECTED || state == FileState.DEAD_LETTERED
                || state == FileState.PARTIALLY_DELIVERED;
    }
}
