package erphub.ops;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import com.fasterxml.jackson.databind.JsonNode;

import erphub.testing.GrafanaDashboard;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * The manifests under kubernetes/ against the application they deploy: every file parses, the kustomizations
 * name files that exist, the probes and the metrics scrape point at endpoints this application serves, every
 * ERPHUB_ variable the Deployment sets is one erphub reads, and the pod runs as non-root on a read-only root
 * file system with requests and limits. (`kubectl kustomize kubernetes/overlays/prod` renders them, where kubectl
 * is installed.)
 */
@QuarkusTest
// The application's endpoints, on FileIntakeTest's application (one boot fewer: nothing here needs its own).
@TestProfile(erphub.pipeline.FileIntakeTest.ThreeTenants.class)
class KubernetesManifestsTest {

    static final Path ROOT = Path.of("kubernetes");

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> documents(Path file) throws IOException {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object doc : new Load(LoadSettings.builder().build()).loadAllFromString(Files.readString(file))) {
            if (doc != null) {
                out.add((Map<String, Object>) doc);
            }
        }
        return out;
    }

    static Map<String, Object> resource(String file) throws IOException {
        return documents(ROOT.resolve("base").resolve(file)).get(0);
    }

    @SuppressWarnings("unchecked")
    static <T> T at(Object node, String... path) {
        Object current = node;
        for (String step : path) {
            current = step.matches("\\d+") ? ((List<Object>) current).get(Integer.parseInt(step))
                    : ((Map<String, Object>) current).get(step);
            assertNotNull(current, "missing " + String.join(".", path));
        }
        return (T) current;
    }

    @Test
    void kustomizationsNameFilesThatExistAndParse() throws IOException {
        for (Path kustomization : List.of(ROOT.resolve("base/kustomization.yaml"),
                ROOT.resolve("overlays/dev/kustomization.yaml"), ROOT.resolve("overlays/prod/kustomization.yaml"))) {
            List<String> resources = at(documents(kustomization).get(0), "resources");
            for (String r : resources) {
                Path target = kustomization.getParent().resolve(r).normalize();
                assertTrue(Files.exists(target), kustomization + " names " + r);
                if (Files.isRegularFile(target)) {
                    assertFalse(documents(target).isEmpty(), target + " is empty");
                }
            }
        }
    }

    @Test
    void probesAndTheScrapePointAtEndpointsOfThisApplication() throws IOException {
        Map<String, Object> container = at(resource("deployment.yaml"), "spec", "template", "spec", "containers", "0");
        assertEquals(8080, (Integer) at(container, "ports", "0", "containerPort"), "quarkus.http.port");
        assertEquals("http", at(container, "ports", "0", "name"));
        // Hawtio Online finds the Jolokia agent by the port's name; the number is the agent's port here.
        assertEquals("jolokia", at(container, "ports", "1", "name"));
        assertEquals(ConfigProvider.getConfig().getValue("quarkus.camel.jolokia.server.port", Integer.class),
                (Integer) at(container, "ports", "1", "containerPort"), "quarkus.camel.jolokia.server.port");
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            String path = at(container, probe, "httpGet", "path");
            assertEquals("http", at(container, probe, "httpGet", "port"), probe);
            assertEquals(200, given().get(path).statusCode(), probe + " " + path + " answers UP here");
        }
        String metrics = at(resource("servicemonitor.yaml"), "spec", "endpoints", "0", "path");
        assertEquals(200, given().get(metrics).statusCode(), metrics);
        assertEquals("http", at(resource("servicemonitor.yaml"), "spec", "endpoints", "0", "port"));
        assertEquals("http", at(resource("service.yaml"), "spec", "ports", "0", "name"));
    }

    @Test
    void everyErphubVariableTheDeploymentSetsIsOneErphubReads() throws IOException {
        String properties = Files.readString(Path.of("src/main/resources/application.properties"));
        Set<String> known = new HashSet<>();
        Matcher reference = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)").matcher(properties);
        while (reference.find()) {
            known.add(reference.group(1));
        }
        for (String line : properties.lines().toList()) {
            if (!line.isBlank() && !line.startsWith("#") && line.contains("=")) {
                String key = line.substring(0, line.indexOf('=')).replaceFirst("^%[a-z]+\\.", "");
                known.add(key.toUpperCase().replaceAll("[^A-Z0-9]", "_"));
            }
        }
        List<Map<String, Object>> env = at(resource("deployment.yaml"), "spec", "template", "spec", "containers", "0", "env");
        for (Map<String, Object> variable : env) {
            String name = (String) variable.get("name");
            if (name.startsWith("ERPHUB_")) {
                assertTrue(known.contains(name), name + " is not read by erphub (application.properties)");
            }
        }
        assertTrue(env.stream().anyMatch(v -> "QUARKUS_PROFILE".equals(v.get("name")) && "prod".equals(v.get("value"))));
    }

    /** A JVM that lives on after an OutOfMemoryError may hang its probes and ignore SIGTERM: it must exit instead. */
    @Test
    void everyJvmTheImageTheManifestsAndTheDocumentsStartExitsOnOutOfMemory() throws IOException {
        String flag = "-XX:+ExitOnOutOfMemoryError";
        Matcher image = Pattern.compile("ENV JAVA_OPTS_APPEND=\"([^\"]*)\"")
                .matcher(Files.readString(Path.of("src/main/docker/Dockerfile.jvm")));
        assertTrue(image.find() && image.group(1).contains(flag), "Dockerfile.jvm JAVA_OPTS_APPEND");
        List<Map<String, Object>> env = at(resource("deployment.yaml"), "spec", "template", "spec", "containers", "0", "env");
        Map<String, Object> opts = env.stream().filter(v -> "JAVA_OPTS_APPEND".equals(v.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError("the Deployment sets no JAVA_OPTS_APPEND"));
        assertTrue(String.valueOf(opts.get("value")).contains(flag), "the Deployment's JAVA_OPTS_APPEND replaces the image's: "
                + opts.get("value"));
        List<Path> documents = new java.util.ArrayList<>(List.of(Path.of("README.md")));
        try (var docs = Files.list(Path.of("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).forEach(documents::add);
        }
        for (Path document : documents) {
            List<String> runs = Files.readString(document).lines()
                    .filter(l -> l.contains("java ") && l.contains("-jar ")).toList();
            if (document.equals(Path.of("README.md"))) {
                assertFalse(runs.isEmpty(), "the README says how to run the jar");
            }
            runs.forEach(l -> assertTrue(l.contains(flag), document + ": " + l));
        }
    }

    @Test
    void thePodIsLockedDownAndSized() throws IOException {
        Map<String, Object> pod = at(resource("deployment.yaml"), "spec", "template", "spec");
        assertEquals(Boolean.TRUE, at(pod, "securityContext", "runAsNonRoot"));
        Map<String, Object> container = at(pod, "containers", "0");
        assertEquals(Boolean.TRUE, at(container, "securityContext", "readOnlyRootFilesystem"));
        assertEquals(Boolean.FALSE, at(container, "securityContext", "allowPrivilegeEscalation"));
        assertEquals(List.of("ALL"), at(container, "securityContext", "capabilities", "drop"));
        for (String kind : List.of("requests", "limits")) {
            assertNotNull(at(container, "resources", kind, "cpu"));
            assertNotNull(at(container, "resources", kind, "memory"));
        }
        List<Map<String, Object>> mounts = at(container, "volumeMounts");
        assertTrue(mounts.stream().anyMatch(m -> "/tmp".equals(m.get("mountPath"))), "a writable /tmp");
        assertEquals("Deployment", at(resource("hpa.yaml"), "spec", "scaleTargetRef", "kind"));
        assertEquals("erphub", at(resource("hpa.yaml"), "spec", "scaleTargetRef", "name"));
    }

    @Test
    void theNetworkPolicyAdmitsOnlyTheIngressAndReachesOnlyTheBackingServices() throws IOException {
        Map<String, Object> policy = at(resource("networkpolicy.yaml"), "spec");
        assertEquals(List.of("Ingress", "Egress"), at(policy, "policyTypes"));
        List<Map<String, Object>> ingress = at(policy, "ingress");
        for (Map<String, Object> rule : ingress) {
            List<Map<String, Object>> from = at(rule, "from");
            assertTrue(from.stream().allMatch(f -> f.containsKey("namespaceSelector")), "ingress only from named namespaces");
        }
        Set<Integer> egressPorts = new HashSet<>();
        List<Map<String, Object>> egress = at(policy, "egress");
        for (Map<String, Object> rule : egress) {
            List<Map<String, Object>> ports = at(rule, "ports");
            ports.forEach(p -> egressPorts.add((Integer) p.get("port")));
        }
        assertEquals(Set.of(53, 5432, 9092, 9093, 443, 22), egressPorts);
    }

    @Test
    void theAlertsCoverDeadLettersUpstreamsTokensAndReadiness() throws IOException {
        List<Map<String, Object>> rules = at(resource("prometheusrule.yaml"), "spec", "groups", "0", "rules");
        Set<String> alerts = new HashSet<>();
        rules.forEach(r -> alerts.add((String) r.get("alert")));
        assertEquals(Set.of("ErphubDeadLettersGrowing", "ErphubUpstreamFailing", "ErphubTokenEndpointFailing",
                "ErphubNotReady"), alerts);
        assertTrue(rules.stream().allMatch(r -> at(r, "labels", "severity") != null && at(r, "expr") != null));
    }

    @Test
    void theGrafanaDashboardHasADatasourceAndAQueryInEveryPanelAndIsProvisionedByALabelledConfigMap() throws IOException {
        JsonNode dashboard = GrafanaDashboard.read();
        assertEquals("erphub-overview", dashboard.path("uid").asText());
        JsonNode datasource = null;
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            if ("datasource".equals(variable.path("name").asText())) {
                datasource = variable;
            }
        }
        assertNotNull(datasource, "a datasource variable, so the dashboard imports into any Grafana");
        assertEquals("datasource", datasource.path("type").asText());
        assertEquals("prometheus", datasource.path("query").asText());

        Set<String> titles = new HashSet<>();
        Set<Integer> ids = new HashSet<>();
        for (JsonNode panel : GrafanaDashboard.panels(dashboard)) {
            String title = panel.path("title").asText();
            assertTrue(ids.add(panel.path("id").asInt()), "panel ids are unique: " + title);
            assertTrue(panel.path("gridPos").has("w") && panel.path("gridPos").has("h"), title);
            if ("row".equals(panel.path("type").asText())) {
                continue;
            }
            titles.add(title);
            assertEquals("prometheus", panel.path("datasource").path("type").asText(), title);
            assertEquals("${datasource}", panel.path("datasource").path("uid").asText(), title);
            assertTrue(panel.path("targets").size() > 0, title + " has no query");
            for (JsonNode target : panel.path("targets")) {
                assertFalse(target.path("expr").asText().isBlank(), title + " has an empty query");
                assertEquals("${datasource}", target.path("datasource").path("uid").asText(), title);
                assertFalse(GrafanaDashboard.metricNames(target.path("expr").asText()).isEmpty(), title);
            }
        }
        assertTrue(titles.containsAll(Set.of("Files by outcome per tenant and upstream", "Delivery latency by destination",
                "Dead letters waiting", "Token requests and cache hits", "Queue sizes", "Upstream circuit breakers",
                "Ledger size")), "the panels operators asked for: " + titles);

        // Provisioned by Grafana's dashboard sidecar: a ConfigMap with its label, generated from the JSON file itself.
        Map<String, Object> kustomization = documents(ROOT.resolve("base/kustomization.yaml")).get(0);
        List<Map<String, Object>> generators = at(kustomization, "configMapGenerator");
        Map<String, Object> generator = generators.stream().filter(g -> "erphub-grafana-dashboard".equals(g.get("name")))
                .findFirst().orElseThrow(() -> new AssertionError("no erphub-grafana-dashboard ConfigMap"));
        List<String> files = at(generator, "files");
        assertTrue(files.stream().anyMatch(f -> f.endsWith("=" + GrafanaDashboard.FILE.getFileName())), files.toString());
        assertEquals("1", at(generator, "options", "labels", "grafana_dashboard"));
        assertEquals(Boolean.TRUE, at(generator, "options", "disableNameSuffixHash"), "a stable name for the sidecar");
    }

    @Test
    void dashboardQueriesAreReadForMetricNamesOnlyNotFunctionsLabelsOrVariables() {
        assertEquals(Set.of("erphub_delivery_duration_seconds_bucket"), GrafanaDashboard.metricNames(
                "histogram_quantile(0.95, sum by (destination, le) (rate(erphub_delivery_duration_seconds_bucket"
                        + "{destination=~\"$destination\", outcome!=\"rate(x)\"}[$__rate_interval])))"));
        assertEquals(Set.of("a_total", "b_total"), GrafanaDashboard.metricNames(
                "sum(rate(a_total[5m])) / on (pod) group_left (node) (sum without (x) (b_total offset 5m) > bool 0)"));
        Set<String> all = new HashSet<>();
        GrafanaDashboard.queries(GrafanaDashboard.read()).forEach(q -> all.addAll(GrafanaDashboard.metricNames(q)));
        assertTrue(all.stream().allMatch(n -> n.startsWith("erphub_") || n.startsWith("camel_")), all.toString());
        assertTrue(all.containsAll(Set.of("erphub_files_total", "erphub_deliveries_total", "erphub_dead_letters",
                "erphub_token_requests_total", "erphub_token_cache_hits_total", "erphub_queue_size",
                "erphub_upstream_breaker_state", "erphub_ledger_rows")), all.toString());
    }
}
