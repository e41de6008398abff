package erphub.health;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import erphub.tenant.TenantRegistry;
import erphub.tenant.TenantSettings;
import erphub.token.TokenCache;
import erphub.upstream.UpstreamBreakers;
import erphub.upstream.UpstreamPolls;
import erphub.upstream.UpstreamSpecs;

/**
 * What the wellness and infrastructure checks know, in full: each (upstream, tenant)'s last poll with its error, each token endpoint's
 * last answer, the tenant registry in force and a rejected registry file with its problems. Tenant ids, URLs, paths
 * and credential names are for operators, so this is served behind the API ({@code GET /api/health}, admin role);
 * {@code /q/health/well}, which anyone who reaches the HTTP port can read, shows only each check's name and state.
 */
@ApplicationScoped
public class HealthDetails {

    public static final String UPSTREAMS = "erphub-upstreams";
    public static final String TENANT_REGISTRY = "erphub-tenant-registry";

    /** One check: UP or DOWN, and what an operator needs to see why. */
    public record Check(String name, boolean up, Map<String, Object> data) {
    }

    private final UpstreamPolls polls;
    private final TokenCache tokens;
    private final TenantRegistry registry;
    private final InfrastructureProbes infrastructure;
    private final UpstreamSpecs specs;
    private final UpstreamBreakers breakers;

    public HealthDetails(UpstreamPolls polls, TokenCache tokens, TenantRegistry registry, InfrastructureProbes infrastructure,
            UpstreamSpecs specs, UpstreamBreakers breakers) {
        this.polls = polls;
        this.tokens = tokens;
        this.registry = registry;
        this.infrastructure = infrastructure;
        this.specs = specs;
        this.breakers = breakers;
    }

    public List<Check> all() {
        return List.of(upstreams(), tenantRegistry(), infrastructure(InfrastructureProbes.ARCHIVE),
                infrastructure(InfrastructureProbes.KAFKA));
    }

    /** A readiness check of the prod infrastructure (S3 archive, Kafka) with its last probe's answer. */
    public Check infrastructure(String name) {
        InfrastructureProbes.Result r = infrastructure.result(name);
        return new Check(name, r.up(), Map.of("probes", r.detail()));
    }

    /** Each tenant's last poll, each upstream's circuit and each token endpoint's last answer, from memory (no remote call). */
    public Check upstreams() {
        Map<String, Object> data = new LinkedHashMap<>();
        boolean up = true;
        for (UpstreamPolls.LastPoll p : polls.lastPolls().stream().sorted(Comparator.comparing(UpstreamPolls.LastPoll::upstream)
                .thenComparing(UpstreamPolls.LastPoll::tenant)).toList()) {
            data.put("poll " + p.upstream() + "/" + p.tenant(), p.ok() ? "UP at " + p.at() : "DOWN at " + p.at() + ": " + p.error());
            up &= p.ok();
        }
        for (var spec : specs.all()) {
            var state = breakers.state(spec.upstreamId());
            if (state.isPresent()) {
                data.put("circuit " + spec.upstreamId(), state.get());
                up &= state.get().equals("CLOSED");
            }
        }
        for (TokenCache.TokenEndpointStatus t : tokens.endpointStatus()) {
            data.put("token endpoint " + t.tokenUrl(), t.up() ? "UP at " + t.at() : "DOWN at " + t.at() + ": " + t.lastError());
            up &= t.up();
        }
        return new Check(UPSTREAMS, up, data);
    }

    /** The registry in force; DOWN while a changed registry file is rejected (the tenants in force stay). */
    public Check tenantRegistry() {
        TenantRegistry.Snapshot current = registry.current();
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("tenants", current.tenants().size());
        data.put("enabled", current.tenants().values().stream().filter(TenantSettings::enabled).count());
        data.put("applied", current.loadedAt().toString());
        boolean up = registry.rejection().isEmpty();
        registry.rejection().ifPresent(r -> {
            data.put("rejected", r.at() + ": " + r.problems().size() + " problems, the tenants above stay");
            data.put("problems", r.problems());
        });
        return new Check(TENANT_REGISTRY, up, data);
    }
}
