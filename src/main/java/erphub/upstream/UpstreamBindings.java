package erphub.upstream;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.composer.Composer;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.parser.ParserImpl;
import org.snakeyaml.engine.v2.scanner.StreamReader;

import erphub.upstream.UpstreamContract.Located;

/**
 * Finds the bindings of the upstream kamelet in Camel YAML route files ({@code templatedRoute} with
 * {@code routeTemplateRef: erphub-upstream-source}), keeping the line of every parameter so a problem can name
 * it. Reads YAML nodes, not a data binding, for those positions. Property placeholders in values are
 * resolved by the given resolver, the way Camel resolves them when it creates the route.
 */
public final class UpstreamBindings {

    /** One binding: where it is, its route id, and its parameters as written (resolved). */
    public record Binding(String file, int line, String routeId, Map<String, Located> parameters) {
        public String where() {
            return file + ":" + line + ": ";
        }
    }

    private UpstreamBindings() {
    }

    /** The bindings in one route file; problems with the file itself (not YAML, no route id) are added. */
    public static List<Binding> read(String file, String text, UnaryOperator<String> placeholders, List<String> problems) {
        List<Binding> out = new ArrayList<>();
        Node root;
        try {
            LoadSettings settings = LoadSettings.builder().setLabel(file).build();
            root = new Composer(settings, new ParserImpl(settings, new StreamReader(settings, text))).getSingleNode()
                    .orElse(null);
        } catch (YamlEngineException e) {
            // Not YAML: Camel's own loader reports it with the file and line when it reads the routes.
            return out;
        }
        if (!(root instanceof SequenceNode items)) {
            return out;
        }
        for (Node item : items.getValue()) {
            Node templated = field(item, "templatedRoute");
            if (!(templated instanceof MappingNode binding)
                    || !UpstreamContract.TEMPLATE_ID.equals(text(field(binding, "routeTemplateRef")))) {
                continue;
            }
            String where = file + ":" + line(item) + ": ";
            String routeId = text(field(binding, "routeId"));
            if (routeId == null || routeId.isBlank()) {
                problems.add(where + "templatedRoute of " + UpstreamContract.TEMPLATE_ID + " has no routeId");
            }
            Map<String, Located> parameters = new LinkedHashMap<>();
            if (field(binding, "parameters") instanceof SequenceNode list) {
                for (Node p : list.getValue()) {
                    String name = text(field(p, "name"));
                    Node valueNode = field(p, "value");
                    String at = file + ":" + line(p) + ": ";
                    if (name == null) {
                        problems.add(at + "a parameter without a name");
                        continue;
                    }
                    if (parameters.containsKey(name)) {
                        problems.add(at + "parameter " + name + " is given twice");
                        continue;
                    }
                    String raw = text(valueNode);
                    String value;
                    try {
                        value = raw == null ? null : placeholders.apply(raw);
                    } catch (RuntimeException e) {
                        problems.add(at + name + " '" + raw + "': " + e.getMessage());
                        continue;
                    }
                    parameters.put(name, new Located(value, at));
                }
            }
            out.add(new Binding(file, line(item), routeId, parameters));
        }
        return out;
    }

    private static Node field(Node node, String name) {
        if (node instanceof MappingNode map) {
            for (NodeTuple t : map.getValue()) {
                if (name.equals(text(t.getKeyNode()))) {
                    return t.getValueNode();
                }
            }
        }
        return null;
    }

    private static String text(Node node) {
        return node instanceof ScalarNode s ? s.getValue() : null;
    }

    private static int line(Node node) {
        return node.getStartMark().map(m -> m.getLine() + 1).orElse(0);
    }
}
