package erphub.api;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.apache.camel.CamelContext;
import org.apache.camel.ServiceStatus;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import erphub.api.Views.PollView;
import erphub.api.Views.TenantView;
import erphub.api.Views.UpstreamView;
import erphub.upstream.UpstreamSpec;
import erphub.upstream.UpstreamBreakers;
import erphub.upstream.UpstreamSpecs;
import erphub.state.PollStateStore;
import erphub.tenant.TenantDirectory;
import erphub.tenant.TenantRegistry;
import erphub.tenant.TenantSettings;

/** Read-only views of the tenant registry and of each upstream route's state. A tenant token sees its own. */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed({ Caller.ADMIN, Caller.TENANT_ROLE })
@Tag(name = "registry")
public class RegistryResource {

    private final TenantRegistry registry;
    private final TenantDirectory tenants;
    private final UpstreamSpecs specs;
    private final PollStateStore polls;
    private final CamelContext camel;
    private final Caller caller;
    private final UpstreamBreakers breakers;

    public RegistryResource(TenantRegistry registry, TenantDirectory tenants, UpstreamSpecs specs, PollStateStore polls,
            CamelContext camel, Caller caller, UpstreamBreakers breakers) {
        this.breakers = breakers;
        this.registry = registry;
        this.tenants = tenants;
        this.specs = specs;
        this.polls = polls;
        this.camel = camel;
        this.caller = caller;
    }

    @GET
    @Path("/tenants")
    @Operation(summary = "Tenants in force: subscriptions (credential references, never secrets), destinations, limits")
    public List<TenantView> tenants() {
        String only = caller.tenantFilter(null);
        return registry.current().tenants().values().stream()
                .filter(t -> only == null || t.id().equals(only))
                .sorted(Comparator.comparing(TenantSettings::id))
                .map(RegistryResource::view)
                .toList();
    }

    @GET
    @Path("/upstreams")
    @Operation(summary = "Upstream routes: route status, destinations and the last poll of each (visible) tenant")
    public List<UpstreamView> upstreams() {
        String only = caller.tenantFilter(null);
        return specs.all().stream().sorted(Comparator.comparing(UpstreamSpec::upstreamId)).map(spec -> {
            String routeId = specs.routeIdOf(spec.upstreamId()).orElse(null);
            ServiceStatus status = routeId == null ? null : camel.getRouteController().getRouteStatus(routeId);
            List<PollView> lastPolls = polls.all().stream()
                    .filter(p -> p.upstream().equals(spec.upstreamId()))
                    .filter(p -> only == null || p.tenant().equals(only))
                    .sorted(Comparator.comparing(p -> p.tenant()))
                    .map(p -> new PollView(p.tenant(), p.lastStartedAt(), p.lastSuccessAt(), p.lastError()))
                    .toList();
            int subscribed = only == null ? tenants.tenantsOf(spec.upstreamId()).size()
                    : tenants.subscribes(only, spec.upstreamId()) ? 1 : 0;
            return new UpstreamView(spec.upstreamId(), routeId, status == null ? "Unknown" : status.name(),
                    breakers.state(spec.upstreamId()).orElse("CLOSED"), spec.destinations(), subscribed, lastPolls);
        }).toList();
    }

    private static TenantView view(TenantSettings t) {
        Map<String, Object> limits = new LinkedHashMap<>();
        limits.put("maxConcurrentDownloads", t.limits().maxConcurrentDownloads());
        limits.put("maxFileSize", t.limits().maxFileSize());
        limits.put("maxDeliveriesPerSecond", t.limits().maxDeliveriesPerSecond());
        return new TenantView(t.id(), t.name(), t.enabled(), t.upstreams(), t.erpApiBaseUrl().orElse(null),
                t.sftpFolder(), t.sftpServer().map(s -> s.host() + ":" + s.port()).orElse(null),
                t.kafkaTopic().orElse(null), limits);
    }
}
