package erphub.pipeline;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.camel.CamelContext;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.quarkus.main.events.BeforeStart;
import org.jboss.logging.Logger;

import erphub.config.ErphubConfig;

/**
 * The upstreams, read from the routes created from the {@value #TEMPLATE_ID} template. Checked before
 * Camel starts: an upstream file with a bad parameter stops start-up with every problem listed.
 */
@ApplicationScoped
public class UpstreamSpecs {

    public static final String TEMPLATE_ID = "erphub-upstream";
    private static final Logger LOG = Logger.getLogger(UpstreamSpecs.class);

    private final ErphubConfig config;
    private final Map<String, UpstreamSpec> byRouteId = new ConcurrentHashMap<>();
    private final Map<String, UpstreamSpec> byUpstreamId = new ConcurrentHashMap<>();

    public UpstreamSpecs(ErphubConfig config) {
        this.config = config;
    }

    void readBeforeCamelStarts(@Observes BeforeStart event, CamelContext context) {
        List<String> problems = new ArrayList<>();
        Map<String, UpstreamSpec> specs = new HashMap<>();
        for (RouteDefinition route : ((ModelCamelContext) context).getRouteDefinitions()) {
            Map<String, Object> params = new HashMap<>();
            if (route.getTemplateDefaultParameters() != null) {
                params.putAll(route.getTemplateDefaultParameters());
            }
            if (route.getTemplateParameters() != null) {
                params.putAll(route.getTemplateParameters());
            }
            // Values such as {{erphub.upstreams.x.base-url}} are configuration: resolve them as Camel would.
            params.replaceAll((name, value) -> value instanceof String text && text.contains("{{")
                    ? context.resolvePropertyPlaceholders(text) : value);
            if (!TEMPLATE_ID.equals(String.valueOf(params.get("_erphubTemplate")))) {
                continue;
            }
            String where = route.getRouteId() + (route.getLocation() == null ? "" : " (" + route.getLocation() + ")");
            UpstreamSpec spec = UpstreamSpec.fromTemplateParameters(where, params, config.intake().maxFileSize(), problems);
            if (spec.upstreamId() != null && specs.values().stream().anyMatch(s -> spec.upstreamId().equals(s.upstreamId()))) {
                problems.add(where + ": upstreamId " + spec.upstreamId() + " is declared by two routes");
            }
            specs.put(route.getRouteId(), spec);
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException(UpstreamSpec.describe(problems));
        }
        specs.forEach((routeId, spec) -> {
            byRouteId.put(routeId, spec);
            byUpstreamId.put(spec.upstreamId(), spec);
            LOG.infof("Upstream %s: %s, paging %s, route %s", spec.upstreamId(), spec.listUrl("{tenant}"), spec.paging(), routeId);
        });
    }

    public UpstreamSpec forRoute(String routeId) {
        UpstreamSpec spec = byRouteId.get(routeId);
        if (spec == null) {
            throw new IllegalStateException("route " + routeId + " is not an upstream route (template " + TEMPLATE_ID + ")");
        }
        return spec;
    }

    public Optional<UpstreamSpec> forUpstream(String upstreamId) {
        return Optional.ofNullable(byUpstreamId.get(upstreamId));
    }

    /** The id of the route that polls the upstream. */
    public Optional<String> routeIdOf(String upstreamId) {
        return byRouteId.entrySet().stream().filter(e -> e.getValue().upstreamId().equals(upstreamId))
                .map(Map.Entry::getKey).findFirst();
    }

    public List<UpstreamSpec> all() {
        return List.copyOf(byUpstreamId.values());
    }
}
