package erphub.state;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.jboss.logging.Logger;

import erphub.config.ErphubConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Keeps the ledger bounded: the rows of settled files (the version, its transitions, its deliveries and theirs) are
 * deleted once they are older than {@code erphub.state.retention} and their upstream has not listed them for as long
 * (a version still listed would be claimed and delivered again); files with dead deliveries wait for a replay for
 * {@code erphub.state.dead-letter-retention}. In batches, one transaction each, the rows locked as a replay locks them.
 * The archived bytes are not touched: the archive's own lifecycle (an S3 lifecycle rule) keeps or expires them.
 */
// Camel finds the method the retention route calls reflectively, also in the native executable.
@RegisterForReflection
@ApplicationScoped
@Named("ledgerRetention")
public class LedgerRetention {

    private static final Logger LOG = Logger.getLogger(LedgerRetention.class);
    private static final int MAX_BATCHES = 20;
    private static final List<String> CHILDREN = List.of("delivery_transition", "file_delivery", "file_transition");

    private final StateDataSource db;
    private final ErphubConfig config;
    private final Counter pruned;

    public LedgerRetention(StateDataSource db, ErphubConfig config, MeterRegistry meters) {
        this.db = db;
        this.config = config;
        this.pruned = Counter.builder("erphub.ledger.pruned").description("Settled files pruned from the ledger")
                .register(meters);
    }

    /** One pruning pass: up to 20 batches of settled files past their retention. Returns how many files went. */
    public int prune() {
        Instant now = LedgerSql.now();
        Instant settledBefore = now.minus(config.state().retention());
        Instant deadBefore = now.minus(config.state().deadLetterRetention());
        int batch = config.state().retentionBatch();
        int total = 0;
        for (int i = 0; i < MAX_BATCHES; i++) {
            int n = pruneBatch(settledBefore, deadBefore, batch);
            total += n;
            if (n < batch) {
                break;
            }
        }
        if (total > 0) {
            pruned.increment(total);
            LOG.infof("Pruned %d settled files from the ledger (retention %s, dead letters %s)", total,
                    config.state().retention(), config.state().deadLetterRetention());
        }
        return total;
    }

    private int pruneBatch(Instant settledBefore, Instant deadBefore, int batch) {
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try {
                List<Long> ids = new ArrayList<>(batch);
                try (PreparedStatement ps = c.prepareStatement("SELECT id FROM file_version WHERE"
                        + " ((state IN ('DELIVERED', 'REJECTED') AND updated_at < ?)"
                        + " OR (state IN ('DEAD_LETTERED', 'PARTIALLY_DELIVERED') AND updated_at < ?))"
                        + " AND COALESCE(last_listed_at, created_at) < ? ORDER BY id FETCH FIRST " + batch
                        + " ROWS ONLY FOR UPDATE")) {
                    ps.setTimestamp(1, Timestamp.from(settledBefore));
                    ps.setTimestamp(2, Timestamp.from(deadBefore));
                    ps.setTimestamp(3, Timestamp.from(settledBefore));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            ids.add(rs.getLong(1));
                        }
                    }
                }
                if (!ids.isEmpty()) {
                    String in = "(" + String.join(",", Collections.nCopies(ids.size(), "?")) + ")";
                    for (String table : CHILDREN) {
                        delete(c, "DELETE FROM " + table + " WHERE file_id IN " + in, ids);
                    }
                    delete(c, "DELETE FROM file_version WHERE id IN " + in, ids);
                }
                c.commit();
                return ids.size();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new StateStoreException("cannot prune the ledger: " + e.getMessage(), e);
        }
    }

    private static void delete(Connection c, String sql, List<Long> ids) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < ids.size(); i++) {
                ps.setLong(1 + i, ids.get(i));
            }
            ps.executeUpdate();
        }
    }
}
