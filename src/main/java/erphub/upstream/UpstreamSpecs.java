package erphub.upstream;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.camel.CamelContext;
import org.apache.camel.quarkus.main.events.BeforeConfigure;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

import erphub.config.ErphubConfig;
import erphub.tenant.UpstreamCatalog;
import erphub.upstream.UpstreamBindings.Binding;

/**
 * The upstreams this instance serves: every binding of the upstream kamelet in the route files Camel is about
 * to load (built-in and the operators' folder), checked against the kamelet's declared contract before Camel
 * creates a route from any of them. An upstream file with a bad parameter stops start-up with every problem
 * of every file listed, each with its file and line.
 */
@ApplicationScoped
public class UpstreamSpecs implements UpstreamCatalog {

    private static final Logger LOG = Logger.getLogger(UpstreamSpecs.class);

    private final ErphubConfig config;
    private final DestinationNames destinations;
    private final Map<String, UpstreamSpec> byUpstreamId = new ConcurrentHashMap<>();

    public UpstreamSpecs(ErphubConfig config, DestinationNames destinations) {
        this.config = config;
        this.destinations = destinations;
    }

    void readBeforeRoutesLoad(@Observes BeforeConfigure event, CamelContext context) {
        List<String> problems = new ArrayList<>();
        List<Resource> files = new ArrayList<>();
        String patterns = ConfigProvider.getConfig().getOptionalValue("camel.main.routes-include-pattern", String.class)
                .orElse("");
        for (String pattern : patterns.split(",")) {
            if (pattern.isBlank() || pattern.trim().endsWith(".kamelet.yaml")) {
                continue;
            }
            try {
                files.addAll(PluginHelper.getPackageScanResourceResolver(context).findResources(pattern.trim()));
            } catch (Exception e) {
                problems.add(pattern + ": cannot be read: " + e.getMessage());
            }
        }
        Map<String, UpstreamSpec> specs = read(files, context::resolvePropertyPlaceholders, destinations.names(),
                config.intake().maxFileSize(), problems);
        if (!problems.isEmpty()) {
            throw new IllegalStateException(describe(problems));
        }
        byUpstreamId.clear();
        byUpstreamId.putAll(specs);
        specs.values().forEach(spec -> LOG.infof("Upstream %s: %s, paging %s, route %s", spec.upstreamId(),
                spec.listUrl("{tenant}"), spec.paging(), spec.routeId()));
    }

    /** Reads and checks every upstream binding of the files; problems are added, specs of good bindings returned. */
    public static Map<String, UpstreamSpec> read(Collection<Resource> files, UnaryOperator<String> placeholders,
            Set<String> known, long defaultMaxFileSize, List<String> problems) {
        UpstreamContract contract = UpstreamContract.load();
        Map<String, UpstreamSpec> specs = new LinkedHashMap<>();
        Map<String, String> declaredAt = new LinkedHashMap<>();
        for (Resource file : files) {
            String text;
            try (InputStream in = file.getInputStream()) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                problems.add(file.getLocation() + ": cannot be read: " + e.getMessage());
                continue;
            }
            for (Binding b : UpstreamBindings.read(file.getLocation(), text, placeholders, problems)) {
                UpstreamContract.Located id = b.parameters().get("upstreamId");
                if (id != null && id.value() != null) {
                    String first = declaredAt.putIfAbsent(id.value(), id.where());
                    if (first != null) {
                        problems.add(id.where() + "upstreamId " + id.value() + " is declared twice (first at "
                                + first.substring(0, first.length() - 2) + ")");
                        continue;
                    }
                }
                UpstreamSpec spec = contract.check(b.routeId(), b.where(), b.parameters(), known, defaultMaxFileSize,
                        problems);
                if (spec != null) {
                    specs.put(spec.upstreamId(), spec);
                }
            }
        }
        return specs;
    }

    public Optional<UpstreamSpec> forUpstream(String upstreamId) {
        return Optional.ofNullable(byUpstreamId.get(upstreamId));
    }

    /** The upstream's spec; an exchange naming an upstream this instance does not declare is a bug, not input. */
    public UpstreamSpec get(String upstreamId) {
        UpstreamSpec spec = byUpstreamId.get(upstreamId);
        if (spec == null) {
            throw new PermanentUpstreamException("upstream " + upstreamId + " has no route", 0);
        }
        return spec;
    }

    /** The id of the route that polls the upstream. */
    public Optional<String> routeIdOf(String upstreamId) {
        return forUpstream(upstreamId).map(UpstreamSpec::routeId);
    }

    public List<UpstreamSpec> all() {
        return List.copyOf(byUpstreamId.values());
    }

    @Override
    public List<Declared> declared() {
        return byUpstreamId.values().stream()
                .map(s -> new Declared(s.upstreamId(), s.credential(), Set.copyOf(s.destinations()))).toList();
    }

    /** Collected problems of all upstream route files, reported at once. */
    public static String describe(List<String> problems) {
        List<String> lines = new ArrayList<>();
        lines.add("Invalid upstream route parameters (" + problems.size() + "):");
        problems.forEach(p -> lines.add("  - " + p));
        return String.join("\n", lines);
    }
}
