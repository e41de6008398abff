package erphub.metrics;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import erphub.state.StateDataSource;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.quarkus.scheduler.Scheduled;

/**
 * Metrics that need more than a counter where things happen: latency histograms (Prometheus buckets) for
 * deliveries and listings, and the dead letters waiting for a replay, by tenant and destination, read from the
 * ledger every 30 s (a gauge; tenants x destinations is bounded by the registry, file ids are never tags).
 */
@ApplicationScoped
public class ErphubMetrics {

    private static final Logger LOG = Logger.getLogger(ErphubMetrics.class);

    /** The ledger's tables, counted for erphub.ledger.rows{table}. */
    static final List<String> LEDGER_TABLES = List.of("file_version", "file_transition", "file_delivery",
            "delivery_transition", "upstream_poll");

    private final StateDataSource db;
    private final MultiGauge deadLetters;
    private final MultiGauge ledgerRows;

    public ErphubMetrics(StateDataSource db, MeterRegistry meters) {
        this.db = db;
        this.deadLetters = MultiGauge.builder("erphub.dead.letters")
                .description("Dead deliveries waiting for a replay, by tenant and destination").register(meters);
        this.ledgerRows = MultiGauge.builder("erphub.ledger.rows")
                .description("Rows of each ledger table (PostgreSQL: the planner's estimate, no table scan)").register(meters);
    }

    @Produces
    @Singleton
    MeterFilter histograms() {
        return new MeterFilter() {
            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                if (id.getName().equals("erphub.delivery.duration") || id.getName().equals("erphub.list.duration")) {
                    return DistributionStatisticConfig.builder().percentilesHistogram(true).build().merge(config);
                }
                return config;
            }
        };
    }

    @Scheduled(every = "${erphub.metrics.dead-letters-refresh:30s}", delay = 5, delayUnit = java.util.concurrent.TimeUnit.SECONDS,
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void refreshDeadLetters() {
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(
                "SELECT f.tenant, d.destination, COUNT(*) FROM file_delivery d JOIN file_version f ON f.id = d.file_id"
                        + " WHERE d.state = 'DEAD' GROUP BY f.tenant, d.destination");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(MultiGauge.Row.of(Tags.of("tenant", rs.getString(1), "destination", rs.getString(2)), rs.getLong(3)));
            }
        } catch (SQLException | RuntimeException e) {
            LOG.debugf("dead letter gauge not refreshed: %s", e.toString());
            return;
        }
        deadLetters.register(rows, true);
        refreshLedgerRows();
    }

    /** The ledger's size: PostgreSQL's own estimate (pg_class, kept by autovacuum), or a count on H2. */
    private void refreshLedgerRows() {
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        try (Connection c = db.connection()) {
            boolean postgres = c.getMetaData().getDatabaseProductName().toLowerCase(java.util.Locale.ROOT).contains("postgres");
            for (String table : LEDGER_TABLES) {
                String sql = postgres
                        ? "SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE relname = '" + table + "'"
                        : "SELECT COUNT(*) FROM " + table;
                try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
                    rows.add(MultiGauge.Row.of(Tags.of("table", table), rs.next() ? rs.getLong(1) : 0));
                }
            }
        } catch (SQLException | RuntimeException e) {
            LOG.debugf("ledger size gauge not refreshed: %s", e.toString());
            return;
        }
        ledgerRows.register(rows, true);
    }
}
