package erphub.registration;

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
import java.util.Optional;
import java.util.UUID;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import erphub.config.ErphubConfig;
import erphub.state.StateDataSource;
import erphub.state.StateStoreException;

/**
 * Registrations in the state store, each change with its line in the audit trail (who, when, what) in the same
 * transaction. Matching reads the active registrations from a copy refreshed after each local change and every
 * erphub.registrations.refresh, so another replica's change reaches this one within that time.
 */
@ApplicationScoped
public class RegistrationStore {

    private static final Clock CLOCK = Clock.systemUTC();
    /** The size of registration.spec. */
    private static final int SPEC_MAX = 8000;
    private static final String COLUMNS = "id, spec, secret, previous_secret, previous_secret_until, created_by,"
            + " created_at, updated_at";

    private final StateDataSource db;
    private final ObjectMapper json;
    private final ErphubConfig config;
    private volatile Snapshot active = new Snapshot(List.of(), Instant.EPOCH);

    private record Snapshot(List<Registration> registrations, Instant readAt) {
    }

    public RegistrationStore(StateDataSource db, ObjectMapper json, ErphubConfig config) {
        this.db = db;
        this.json = json;
        this.config = config;
    }

    /** A new registration and its secret (shown to its maker once). */
    public Registration create(RegistrationSpec spec, String actor) {
        Instant now = now();
        Registration r = new Registration(UUID.randomUUID().toString(), spec, WebhookSignature.newSecret(), null, null,
                actor, now, now);
        inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO registration (id, owner_tenant, spec, channel,"
                    + " secret, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, r.id());
                ps.setString(2, spec.tenant());
                ps.setString(3, write(spec));
                ps.setString(4, spec.channel().type().toUpperCase(java.util.Locale.ROOT));
                ps.setString(5, r.secret());
                ps.setString(6, actor);
                ps.setTimestamp(7, Timestamp.from(now));
                ps.setTimestamp(8, Timestamp.from(now));
                ps.executeUpdate();
            }
            audit(c, r.id(), spec.tenant(), now, actor, "CREATED", describe(spec));
            return null;
        });
        refresh();
        return r;
    }

    public Optional<Registration> find(String id) {
        return inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM registration WHERE id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(read(rs)) : Optional.<Registration>empty();
                }
            }
        });
    }

    /** Registrations ordered by id, after {@code afterId}; of one owning tenant, or all when {@code tenant} is null. */
    public List<Registration> list(String tenant, String afterId, int limit) {
        return inTransaction(c -> {
            StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM registration WHERE 1 = 1");
            if (tenant != null) {
                sql.append(" AND owner_tenant = ?");
            }
            if (afterId != null) {
                sql.append(" AND id > ?");
            }
            sql.append(" ORDER BY id FETCH FIRST ? ROWS ONLY");
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                int i = 1;
                if (tenant != null) {
                    ps.setString(i++, tenant);
                }
                if (afterId != null) {
                    ps.setString(i++, afterId);
                }
                ps.setInt(i, limit);
                List<Registration> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(read(rs));
                    }
                }
                return out;
            }
        });
    }

    /** Replaces the spec (the owning tenant stays what it was); empty when there is no such registration. */
    public Optional<Registration> update(String id, RegistrationSpec spec, String actor) {
        Instant now = now();
        boolean updated = inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE registration SET spec = ?, channel = ?, updated_at = ? WHERE id = ?")) {
                ps.setString(1, write(spec));
                ps.setString(2, spec.channel().type().toUpperCase(java.util.Locale.ROOT));
                ps.setTimestamp(3, Timestamp.from(now));
                ps.setString(4, id);
                if (ps.executeUpdate() == 0) {
                    return false;
                }
            }
            audit(c, id, spec.tenant(), now, actor, "UPDATED", describe(spec));
            return true;
        });
        refresh();
        return updated ? find(id) : Optional.empty();
    }

    /** Deletes it with its open events and batches; the audit trail stays. */
    public boolean delete(Registration r, String actor) {
        boolean deleted = inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM registration WHERE id = ?")) {
                ps.setString(1, r.id());
                if (ps.executeUpdate() == 0) {
                    return false;
                }
            }
            audit(c, r.id(), r.ownerTenant(), now(), actor, "DELETED", null);
            return true;
        });
        refresh();
        return deleted;
    }

    /** A new secret; the one it replaces keeps signing for {@code overlap}, so receivers can switch over. */
    public Registration rotate(Registration r, Duration overlap, String actor) {
        Instant now = now();
        String secret = WebhookSignature.newSecret();
        Instant until = now.plus(overlap);
        inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE registration SET secret = ?, previous_secret = ?,"
                    + " previous_secret_until = ?, updated_at = ? WHERE id = ?")) {
                ps.setString(1, secret);
                ps.setString(2, r.secret());
                ps.setTimestamp(3, Timestamp.from(until));
                ps.setTimestamp(4, Timestamp.from(now));
                ps.setString(5, r.id());
                ps.executeUpdate();
            }
            audit(c, r.id(), r.ownerTenant(), now, actor, "ROTATED", "previous secret signs until " + until);
            return null;
        });
        refresh();
        return new Registration(r.id(), r.spec(), secret, r.secret(), until, r.createdBy(), r.createdAt(), now);
    }

    /** Records an action on a registration's batches (a replay) in its audit trail. */
    public void audited(Registration r, String actor, String action, String detail) {
        inTransaction(c -> {
            audit(c, r.id(), r.ownerTenant(), now(), actor, action, detail);
            return null;
        });
    }

    public List<Registration.AuditEntry> audit(String id) {
        return inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT occurred_at, actor, action, detail"
                    + " FROM registration_audit WHERE registration_id = ? ORDER BY id")) {
                ps.setString(1, id);
                List<Registration.AuditEntry> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Registration.AuditEntry(rs.getTimestamp(1).toInstant(), rs.getString(2),
                                rs.getString(3), rs.getString(4)));
                    }
                }
                return out;
            }
        });
    }

    /** The registrations events are matched against, at most erphub.registrations.refresh old. */
    public List<Registration> active() {
        Snapshot s = active;
        if (s.readAt().plus(config.registrations().refresh()).isBefore(CLOCK.instant())) {
            refresh();
            s = active;
        }
        return s.registrations();
    }

    private void refresh() {
        Instant at = CLOCK.instant();
        List<Registration> all = new ArrayList<>();
        String after = null;
        List<Registration> page;
        do {
            page = list(null, after, 500);
            all.addAll(page);
            after = page.isEmpty() ? null : page.get(page.size() - 1).id();
        } while (page.size() == 500);
        active = new Snapshot(List.copyOf(all), at);
    }

    private static void audit(Connection c, String id, String tenant, Instant at, String actor, String action,
            String detail) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO registration_audit (registration_id, owner_tenant,"
                + " occurred_at, actor, action, detail) VALUES (?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, id);
            ps.setString(2, tenant);
            ps.setTimestamp(3, Timestamp.from(at));
            ps.setString(4, actor);
            ps.setString(5, action);
            ps.setString(6, detail == null || detail.length() <= 2000 ? detail : detail.substring(0, 2000));
            ps.executeUpdate();
        }
    }

    /** The audit line of a spec: everything but secrets (a registration holds none in its spec). */
    private String describe(RegistrationSpec spec) {
        return write(spec);
    }

    private Registration read(ResultSet rs) throws SQLException {
        Timestamp until = rs.getTimestamp(5);
        return new Registration(rs.getString(1), readSpec(rs.getString(2)), rs.getString(3), rs.getString(4),
                until == null ? null : until.toInstant(), rs.getString(6), rs.getTimestamp(7).toInstant(),
                rs.getTimestamp(8).toInstant());
    }

    /** The spec as stored; one over the column's size is a client's mistake (long URLs, huge lists), not a 500. */
    private String write(RegistrationSpec spec) {
        try {
            String written = json.writeValueAsString(spec);
            if (written.length() > SPEC_MAX) {
                throw new IllegalArgumentException("a registration of " + written.length()
                        + " characters is over the limit of " + SPEC_MAX);
            }
            return written;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write registration", e);
        }
    }

    private RegistrationSpec readSpec(String value) {
        try {
            return json.readValue(value, RegistrationSpec.class);
        } catch (JsonProcessingException e) {
            throw new StateStoreException("unreadable registration spec", e);
        }
    }

    static Instant now() {
        return CLOCK.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    <T> T inTransaction(Work<T> work) {
        try (Connection c = db.connection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new StateStoreException("registration store: " + e.getMessage(), e);
        }
    }
}
