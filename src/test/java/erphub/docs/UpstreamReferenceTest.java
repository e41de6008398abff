package erphub.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import erphub.testing.BesideTheApplication;

/**
 * The upstream parameter reference in docs/upstreams.md is rendered from the kamelet's own declarations
 * (spec.definition: title, description, type, format, enum, range, pattern, default, required), so the page cannot
 * drift from the contract erphub enforces. {@code -Derphub.docs.write=true} rewrites the section instead of comparing.
 */
@BesideTheApplication
class UpstreamReferenceTest {

    static final Path KAMELET = Path.of("src/main/resources/kamelets/erphub-upstream-source.kamelet.yaml");
    static final Path PAGE = Path.of("docs/upstreams.md");
    static final String BEGIN = "<!-- upstream-parameters:begin -->";
    static final String END = "<!-- upstream-parameters:end -->";
    static final String REGENERATE = "./mvnw test -Dtest=UpstreamReferenceTest -Derphub.docs.write=true"
            + " -Dsurefire.failIfNoSpecifiedTests=false";

    @Test
    void theParameterReferenceIsTheKameletsDeclaration() throws IOException {
        String page = Files.readString(PAGE);
        int begin = page.indexOf(BEGIN);
        int end = page.indexOf(END);
        assertTrue(begin >= 0 && end > begin, PAGE + " needs the markers " + BEGIN + " and " + END);
        String rendered = "\n" + render(Files.readString(KAMELET));
        String current = page.substring(begin + BEGIN.length(), end);
        if (Boolean.getBoolean("erphub.docs.write")) {
            Files.writeString(PAGE, page.substring(0, begin + BEGIN.length()) + rendered + page.substring(end));
            return;
        }
        assertEquals(rendered, current, PAGE + "'s parameter reference is not the kamelet's declaration ("
                + KAMELET + "). Regenerate it: " + REGENERATE);
    }

    @Test
    void everyDeclaredParameterIsARowWithItsDefaultAndWhetherItIsRequired() throws IOException {
        List<String> rows = render(Files.readString(KAMELET)).lines().skip(2).toList();
        assertTrue(rows.size() > 30, "one row per parameter: " + rows.size());
        String cursorParam = rows.stream().filter(r -> r.startsWith("| `cursorParam` |")).findFirst().orElseThrow();
        assertTrue(cursorParam.contains("| `cursor` |"), cursorParam);
        String upstreamId = rows.stream().filter(r -> r.startsWith("| `upstreamId` |")).findFirst().orElseThrow();
        assertTrue(upstreamId.contains("| yes |"), upstreamId);
    }

    /** The Markdown table of the kamelet's properties, in declaration order. */
    @SuppressWarnings("unchecked")
    static String render(String kamelet) {
        Map<String, Object> root = (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(kamelet);
        Map<String, Object> definition = (Map<String, Object>) ((Map<String, Object>) root.get("spec")).get("definition");
        List<String> required = (List<String>) definition.getOrDefault("required", List.of());
        Map<String, Map<String, Object>> properties = (Map<String, Map<String, Object>>) definition.get("properties");
        StringBuilder out = new StringBuilder();
        out.append("| Parameter | Title | Type | Required | Default | Description |\n");
        out.append("| --- | --- | --- | --- | --- | --- |\n");
        properties.forEach((name, p) -> out.append("| `").append(name).append("` | ")
                .append(text(p.getOrDefault("title", ""))).append(" | ")
                .append(type(p)).append(" | ")
                .append(required.contains(name) ? "yes" : "").append(" | ")
                .append(defaultOf(p)).append(" | ")
                .append(text(p.getOrDefault("description", ""))).append(" |\n"));
        return out.toString();
    }

    @SuppressWarnings("unchecked")
    private static String type(Map<String, Object> p) {
        List<String> parts = new ArrayList<>();
        parts.add(String.valueOf(p.getOrDefault("type", "string")));
        if (p.containsKey("format")) {
            parts.add("format " + p.get("format"));
        }
        if (p.containsKey("enum")) {
            List<String> values = ((List<Object>) p.get("enum")).stream().map(v -> code(String.valueOf(v))).toList();
            parts.add("one of " + String.join(", ", values));
        }
        if (p.containsKey("minimum") || p.containsKey("maximum")) {
            parts.add((p.containsKey("minimum") ? p.get("minimum") : "") + "–" + (p.containsKey("maximum") ? p.get("maximum") : ""));
        }
        if (p.containsKey("pattern")) {
            parts.add("matching " + code(String.valueOf(p.get("pattern"))));
        }
        return String.join(", ", parts);
    }

    private static String defaultOf(Map<String, Object> p) {
        if (!p.containsKey("default")) {
            return "";
        }
        String value = String.valueOf(p.get("default"));
        return value.isEmpty() ? "(empty)" : code(value);
    }

    /** Table-cell text: one line, pipes escaped, angle brackets shown as such instead of read as HTML. */
    private static String text(Object value) {
        return String.valueOf(value).replace("\n", " ").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").trim();
    }

    private static String code(String value) {
        return "`" + value.replace("|", "\\|") + "`";
    }
}
