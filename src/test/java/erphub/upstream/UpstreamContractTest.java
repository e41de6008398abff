package erphub.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import org.apache.camel.spi.Resource;
import org.apache.camel.support.ResourceHelper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import erphub.testing.BesideTheApplication;
import erphub.upstream.UpstreamContract.Property;

/**
 * The upstream contract is the kamelet's declaration: every parameter checked against its type, enum, range and
 * format, unknown names refused, and every problem of every file reported at once with its file and line.
 */
@BesideTheApplication
class UpstreamContractTest {

    static final Set<String> DESTINATIONS = Set.of("erp-api", "sftp", "kafka");
    static final UnaryOperator<String> NO_PLACEHOLDERS = UnaryOperator.identity();

    /** A valid binding; {@code extra} lines replace or add parameters (same indentation). */
    static String binding(String routeId, String upstreamId, String... extra) {
        Map<String, String> p = new java.util.LinkedHashMap<>();
        p.put("upstreamId", upstreamId);
        p.put("baseUrl", "https://files.example.com/api");
        p.put("listPath", "/tenants/{tenant}/files");
        p.put("itemsPath", "$.files");
        p.put("idPath", "$.id");
        p.put("namePath", "$.name");
        p.put("versionPath", "$.etag");
        p.put("downloadUrlTemplate", "/files/{id}");
        p.put("tokenUrl", "https://login.example.com/token");
        p.put("credential", "files");
        for (String e : extra) {
            String[] kv = e.split("=", 2);
            p.put(kv[0], kv[1]);
        }
        StringBuilder yaml = new StringBuilder("- templatedRoute:\n    routeTemplateRef: erphub-upstream-source\n"
                + "    routeId: " + routeId + "\n    parameters:\n");
        p.forEach((k, v) -> yaml.append("      - name: ").append(k).append("\n        value: \"").append(v).append("\"\n"));
        return yaml.toString();
    }

    static List<String> problemsOf(String... files) {
        List<Resource> resources = new ArrayList<>();
        for (int i = 0; i < files.length; i++) {
            resources.add(ResourceHelper.fromString("file:config/routes/upstream-" + i + ".yaml", files[i]));
        }
        List<String> problems = new ArrayList<>();
        UpstreamSpecs.read(resources, NO_PLACEHOLDERS, DESTINATIONS, 1000, problems);
        return problems;
    }

    @Test
    void aValidBindingHasNoProblemAndTheDeclaredDefaultsApply() {
        List<String> problems = new ArrayList<>();
        Map<String, UpstreamSpec> specs = UpstreamSpecs.read(
                List.of(ResourceHelper.fromString("file:u.yaml", binding("upstream-files", "files"))), NO_PLACEHOLDERS,
                DESTINATIONS, 1000, problems);
        assertEquals(List.of(), problems);
        UpstreamSpec spec = specs.get("files");
        assertEquals(UpstreamSpec.Paging.NONE, spec.paging());
        assertEquals(100, spec.pageSize());
        assertEquals("cursor", spec.cursorParam());
        assertEquals(1000, spec.maxFileSize());
        assertEquals(List.of(), spec.destinations());
    }

    /** Hostile values, one parameter at a time: what each is refused for. */
    static final String[][] HOSTILE = {
            { "pollInterval", "-5", "is less than 100" },
            { "pollInterval", "soon", "is not a whole number" },
            { "pollInterval", "9999999999999999999999", "is not a whole number" },
            { "pollCron", "every minute", "is not a Quartz cron expression" },
            { "paging", "infinite", "is not one of none, next-link, cursor, page" },
            { "pageSize", "0", "is less than 1" },
            { "pageSize", "100000", "is more than 10000" },
            { "firstPage", "2", "is more than 1" },
            { "itemsPath", "$.files[?(@.size >", "is not a JSONPath" },
            { "validNamePattern", "[unclosed", "is not a regular expression" },
            { "baseUrl", "ftp://files.example.com", "is not an http(s) URL" },
            { "baseUrl", "not a url", "is not a" },
            { "tokenUrl", "file:///etc/passwd", "is not an http(s) URL" },
            { "sinceOverlap", "5 minutes", "is not an ISO-8601 duration" },
            { "sinceOverlap", "-PT5M", "is negative" },
            { "checksumAlgorithm", "CRC32", "is not one of SHA-256, SHA-512, SHA-1, MD5" },
            { "erpApiMethod", "DELETE", "is not one of POST, PUT" },
            { "validJson", "yes", "is not true or false" },
            { "destinations", "erp-api, ftp", "names destination 'ftp'" },
            { "upstreamId", "../../etc", "does not match" },
            { "upstreamId", "Payroll", "does not match" },
            { "credential", "a b", "does not match" },
            { "maxFileSize", "0", "is less than 1" },
            { "colour", "blue", "unknown parameter 'colour'" },
    };

    // Dynamic tests, not @ParameterizedTest: Kafka's test kit registers a JUnit extension that claims every test template.
    @TestFactory
    Stream<DynamicTest> aHostileValueIsRefusedWithItsFileAndLine() {
        return Stream.of(HOSTILE).map(c -> DynamicTest.dynamicTest(c[0] + " = " + c[1], () -> refused(c[0], c[1], c[2])));
    }

    private static void refused(String name, String value, String expected) {
        List<String> problems = problemsOf(binding("upstream-x", "x", name + "=" + value));
        assertEquals(1, problems.size(), problems.toString());
        String problem = problems.get(0);
        assertTrue(problem.contains(expected), problem);
        assertTrue(problem.matches("file:config/routes/upstream-0\\.yaml:\\d+: .*"), problem);
        int line = Integer.parseInt(problem.split(":")[2]);
        String[] lines = binding("upstream-x", "x", name + "=" + value).split("\n");
        assertTrue(lines[line - 1].contains("name: " + name), "line " + line + " is the parameter's: " + lines[line - 1]);
    }

    @Test
    void everyProblemOfEveryFileIsReportedAtOnce() {
        String first = binding("upstream-a", "a", "pollInterval=-5", "colour=blue") + binding("upstream-b", "a");
        String second = "- templatedRoute:\n    routeTemplateRef: erphub-upstream-source\n    routeId: upstream-c\n"
                + "    parameters:\n      - name: upstreamId\n        value: c\n";
        List<String> problems = problemsOf(first, second);
        assertTrue(problems.stream().anyMatch(p -> p.contains("upstream-0.yaml") && p.contains("pollInterval")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("upstream-0.yaml") && p.contains("colour")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("upstreamId a is declared twice")), problems.toString());
        for (String required : List.of("baseUrl", "listPath", "itemsPath", "idPath", "namePath", "tokenUrl", "credential")) {
            assertTrue(problems.stream().anyMatch(p -> p.startsWith("file:config/routes/upstream-1.yaml:1: parameter "
                    + required + " is required")), required + " in " + problems);
        }
    }

    @Test
    void rulesBetweenParametersAreCheckedToo() {
        List<String> problems = problemsOf(binding("upstream-r", "r", "paging=cursor", "versionPath=",
                "downloadUrlTemplate="));
        assertTrue(problems.stream().anyMatch(p -> p.contains("paging cursor needs cursorPath")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("one of versionPath or checksumPath")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("one of downloadPath or downloadUrlTemplate")), problems.toString());
    }

    @Test
    void theKameletDeclaresTypeAndDescriptionOfEveryPropertyAndItsRequiredOnes() {
        UpstreamContract contract = UpstreamContract.load();
        for (Property p : contract.properties()) {
            assertTrue(!p.description().isBlank() && p.description().length() > 10, p.name());
            assertTrue(List.of("string", "integer", "boolean").contains(p.type()), p.name() + ": " + p.type());
        }
        assertEquals(Set.of("upstreamId", "baseUrl", "listPath", "itemsPath", "idPath", "namePath", "tokenUrl",
                "credential"), contract.properties().stream().filter(Property::required).map(Property::name)
                .collect(java.util.stream.Collectors.toSet()));
        assertEquals(contract.properties().size(), contract.referenceRows().size());
    }
}
