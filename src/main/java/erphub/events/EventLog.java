package erphub.events;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import erphub.config.ErphubConfig;
import erphub.registration.RegistrationBatches;
import erphub.state.StateDataSource;
import erphub.state.StateStoreException;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Each published event, kept where the consumers' features read it, in one transaction: the event log the live
 * stream serves (/api/events/stream, resumable by id on any replica) and one row per registration it matches
 * ({@link RegistrationBatches#recordIn}). A step of routes/erphub-events.yaml; a failure is counted and logged and
 * never undoes the work the event reports.
 */
// Camel finds the methods the routes call (bean/method steps) reflectively, also in the native executable.
@RegisterForReflection
@ApplicationScoped
@Named("eventLog")
public class EventLog {

    private static final Logger LOG = Logger.getLogger(EventLog.class);
    private static final Clock CLOCK = Clock.systemUTC();
    /** SQLState of a unique constraint violation, on H2 and PostgreSQL alike. */
    private static final String UNIQUE_VIOLATION = "23505";
    /** Exchange property: the event was logged already, by another node or the recovery sweep. */
    public static final String DUPLICATE = "erphubEventDuplicate";

    private final StateDataSource db;
    private final RegistrationBatches registrations;
    private final ObjectMapper json;
    private final ErphubConfig config;
    private final MeterRegistry meters;

    /** One logged event: its position in the log (the stream's event id), type and body. */
    public record LoggedEvent(long id, String tenant, String type, String payload) {
    }

    public EventLog(StateDataSource db, RegistrationBatches registrations, ObjectMapper json, ErphubConfig config,
            MeterRegistry meters) {
        this.db = db;
        this.registrations = registrations;
        this.json = json;
        this.config = config;
        this.meters = meters;
    }

    /**
     * Appends the event in the body (schema erphub.file-event/1) to the log and to the registrations it matches. An
     * end state's event that is logged already (another node's, or the recovery sweep's, built from the same ledger
     * row) is not logged again: the exchange is marked {@link #DUPLICATE} and the route publishes nothing.
     */
    public void record(Exchange exchange) throws JsonProcessingException, SQLException {
        String body = exchange.getIn().getBody(String.class);
        Map<?, ?> event = exchange.getProperty(FileEvents.EVENT, Map.class);
        if (event == null) {
            event = json.readValue(body, Map.class);
        }
        Instant settledAt = exchange.getProperty(FileEvents.SETTLED_AT, Instant.class);
        Instant now = CLOCK.instant().truncatedTo(ChronoUnit.MILLIS);
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO event_log (tenant, upstream, event_type,"
                        + " payload, recorded_at, file_id, file_settled_at) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                    ps.setString(1, (String) event.get("tenant"));
                    ps.setString(2, (String) event.get("upstream"));
                    ps.setString(3, (String) event.get("type"));
                    ps.setString(4, body);
                    ps.setTimestamp(5, Timestamp.from(now));
                    if (event.get("fileId") instanceof Number fileId) {
                        ps.setLong(6, fileId.longValue());
                    } else {
                        ps.setNull(6, java.sql.Types.BIGINT);
                    }
                    ps.setTimestamp(7, settledAt == null ? null : Timestamp.from(settledAt));
                    ps.executeUpdate();
                }
                registrations.recordIn(c, event, body, now);
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                if (settledAt != null && UNIQUE_VIOLATION.equals(e.getSQLState()) && String.valueOf(e.getMessage())
                        .toLowerCase(java.util.Locale.ROOT).contains("uq_event_log_file_settled")) {
                    exchange.setProperty(DUPLICATE, true);
                    meters.counter("erphub.events.duplicates").increment();
                    LOG.debugf("%s of file %s logged already: not published again", event.get("type"),
                            event.get("fileId"));
                    return;
                }
                throw e;
            } catch (RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /**
     * Files that reached an end state between erphub.events.recovery-within and recovery-after ago and have no event
     * for it: their node stopped between the ledger's commit and the event's (kill -9), or the state store failed
     * the event. Oldest first, at most {@code limit}; the recovery route publishes each through the settled route.
     */
    public List<Long> unpublishedSettlements(int limit) {
        Instant now = CLOCK.instant();
        Duration within = config.events().recoveryWithin();
        Duration half = config.events().streamRetention().dividedBy(2);
        Instant from = now.minus(within.compareTo(half) > 0 ? half : within);
        Instant to = now.minus(config.events().recoveryAfter());
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement("SELECT f.id FROM file_version f"
                        + " WHERE f.state IN ('DELIVERED', 'PARTIALLY_DELIVERED', 'REJECTED', 'DEAD_LETTERED')"
                        + " AND f.updated_at >= ? AND f.updated_at <= ?"
                        + " AND f.updated_at >= (SELECT MIN(started_at) FROM event_recovery_start)"
                        + " AND NOT EXISTS (SELECT 1 FROM event_log e"
                        + " WHERE e.file_id = f.id AND e.file_settled_at = f.updated_at)"
                        + " ORDER BY f.updated_at, f.id FETCH FIRST ? ROWS ONLY")) {
            ps.setTimestamp(1, Timestamp.from(from));
            ps.setTimestamp(2, Timestamp.from(to));
            ps.setInt(3, limit);
            List<Long> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getLong(1));
                }
            }
            if (!out.isEmpty()) {
                meters.counter("erphub.events.recovered").increment(out.size());
                LOG.warnf("%d files reached an end state without their event (a node stopped in between):"
                        + " publishing them now", out.size());
            }
            return out;
        } catch (SQLException e) {
            throw new StateStoreException("event log: " + e.getMessage(), e);
        }
    }

    /** Recording failed (the state store is down): the event still went to the events topic; counted and logged. */
    public void recordFailed(Exchange exchange) {
        meters.counter("erphub.events.log.failed").increment();
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        LOG.warnf("event %s not logged for the stream and registrations: %s",
                exchange.getIn().getHeader(FileEvents.TYPE_HEADER), cause == null ? "unknown" : cause.getMessage());
    }

    /**
     * Events after {@code afterId}, oldest first, of one tenant (all when null), recorded at least
     * erphub.events.stream-settle ago (so none that commits late is passed over).
     */
    public List<LoggedEvent> after(String tenant, long afterId, int limit) {
        Instant settled = CLOCK.instant().minus(config.events().streamSettle());
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement("SELECT id, tenant, event_type, payload FROM event_log"
                        + " WHERE id > ? AND recorded_at <= ?" + (tenant == null ? "" : " AND tenant = ?")
                        + " ORDER BY id FETCH FIRST ? ROWS ONLY")) {
            int i = 1;
            ps.setLong(i++, afterId);
            ps.setTimestamp(i++, Timestamp.from(settled));
            if (tenant != null) {
                ps.setString(i++, tenant);
            }
            ps.setInt(i, limit);
            List<LoggedEvent> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new LoggedEvent(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new StateStoreException("event log: " + e.getMessage(), e);
        }
    }

    /** The id of the newest event (0 when none): where a stream without Last-Event-ID starts. */
    public long newest() {
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement("SELECT COALESCE(MAX(id), 0) FROM event_log");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new StateStoreException("event log: " + e.getMessage(), e);
        }
    }

    /** Drops events older than erphub.events.stream-retention; returns how many. */
    public int prune() {
        Instant before = CLOCK.instant().minus(config.events().streamRetention());
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement("DELETE FROM event_log WHERE recorded_at < ?")) {
            ps.setTimestamp(1, Timestamp.from(before));
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new StateStoreException("event log: " + e.getMessage(), e);
        }
    }
}
