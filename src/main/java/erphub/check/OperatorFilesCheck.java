package erphub.check;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.apache.camel.spi.Resource;
import org.apache.camel.support.ResourceHelper;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.composer.Composer;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.parser.ParserImpl;
import org.snakeyaml.engine.v2.scanner.StreamReader;

import erphub.delivery.ErpApiDestination;
import erphub.delivery.KafkaDestination;
import erphub.delivery.SftpDestination;
import erphub.tenant.RegistryCheck;
import erphub.tenant.TenantSettings;
import erphub.tenant.UpstreamCatalog;
import erphub.upstream.UpstreamSpec;
import erphub.upstream.UpstreamSpecs;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;

/**
 * The offline check of operators' files, for their CI ({@code java -jar quarkus-run.jar validate <folder>...}): the
 * route files (every {@code templatedRoute}'s template must exist; bindings of the upstream kamelet are checked against
 * its declared parameters by {@link UpstreamSpecs}, as at start) and tenant registries (by the registry's own reader,
 * against the upstreams those route files and the built-in ones declare). Nothing is started: no Camel context, no
 * database, no HTTP. Placeholders resolve from application.properties, {@code config/application.properties}, the
 * environment and system properties, in the profile of {@code QUARKUS_PROFILE} (the jar's own, embedded, otherwise).
 * Every problem is printed as {@code file:line: message}; the exit code is 0 when there is none, 1 otherwise.
 */
public final class OperatorFilesCheck {

    /** The profile the packaged jar is built with (pom.xml, quarkus.profile). */
    static final String JAR_PROFILE = "embedded";
    static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{(\\?)?([^{}]+)}}");

    private final SmallRyeConfig config;

    OperatorFilesCheck(SmallRyeConfig config) {
        this.config = config;
    }

    /** Runs the check on files and folders (searched for *.yaml and *.yml); returns the exit code. */
    public static int run(List<String> paths, PrintStream out) {
        if (paths.isEmpty()) {
            out.println("usage: java -jar quarkus-run.jar validate <folder or file>...  (route files and tenant registries)");
            return 2;
        }
        List<String> problems = new OperatorFilesCheck(configuration()).check(paths.stream().map(Path::of).toList());
        problems.forEach(out::println);
        out.println(problems.isEmpty() ? "validate: no problems" : "validate: " + problems.size() + " problem(s)");
        return problems.isEmpty() ? 0 : 1;
    }

    /** Every problem of the files under the paths. */
    List<String> check(List<Path> paths) {
        List<String> problems = new ArrayList<>();
        Map<String, String> routeFiles = new LinkedHashMap<>();
        Map<String, String> registries = new LinkedHashMap<>();
        Map<String, Node> parsed = new LinkedHashMap<>();
        for (Path path : paths) {
            for (Path file : yamlFiles(path, problems)) {
                String label = file.toString();
                String text;
                try {
                    text = Files.readString(file, StandardCharsets.UTF_8);
                } catch (IOException e) {
                    problems.add(label + ": cannot be read: " + e.getMessage());
                    continue;
                }
                Optional<Node> root = parse(label, text, problems);
                if (root.isEmpty()) {
                    continue;
                }
                if (root.get() instanceof SequenceNode) {
                    routeFiles.put(label, text);
                    parsed.put(label, root.get());
                } else if (root.get() instanceof MappingNode map && field(map, "tenants") != null) {
                    registries.put(label, text);
                } else if (root.get() instanceof MappingNode map && "Kamelet".equals(text(field(map, "kind")))) {
                    parsed.put(label, root.get());
                } else {
                    problems.add(label + ":" + line(root.get()) + ": neither a route file (a YAML list) nor a tenant "
                            + "registry (a mapping with 'tenants')");
                }
            }
        }

        Map<String, String> builtIn = builtInRoutes();
        TreeSet<String> templates = new TreeSet<>();
        builtIn.forEach((name, text) -> parse(name, text, problems).ifPresent(root -> templates.addAll(templatesDefined(root))));
        for (Node root : parsed.values()) {
            templates.addAll(templatesDefined(root));
        }
        parsed.forEach((label, root) -> unknownTemplates(label, root, templates, problems));

        List<Resource> resources = new ArrayList<>();
        builtIn.forEach((name, text) -> {
            if (name.startsWith("classpath:routes/")) {
                resources.add(ResourceHelper.fromString(name, text));
            }
        });
        routeFiles.forEach((label, text) -> resources.add(ResourceHelper.fromString(label, text)));
        Map<String, UpstreamSpec> specs = UpstreamSpecs.read(resources, this::resolve,
                java.util.Set.of(ErpApiDestination.NAME, SftpDestination.NAME, KafkaDestination.NAME),
                value("erphub.intake.max-file-size").map(Long::parseLong).orElse(2L << 30), problems);

        List<UpstreamCatalog.Declared> declared = specs.values().stream().map(s -> new UpstreamCatalog.Declared(
                s.upstreamId(), s.credential(), java.util.Set.copyOf(s.destinations()))).toList();
        TenantSettings.Limits defaults = new TenantSettings.Limits(
                Integer.parseInt(value("erphub.tenants.defaults.max-concurrent-downloads").orElse("4")),
                Long.parseLong(value("erphub.tenants.defaults.max-file-size").orElse("2147483648")),
                Integer.parseInt(value("erphub.tenants.defaults.max-deliveries-per-second").orElse("100")));
        registries.forEach((label, text) -> problems.addAll(RegistryCheck.problems(label, text, declared, defaults,
                value("erphub.destinations.sftp.host").orElse("localhost"),
                Integer.parseInt(value("erphub.destinations.sftp.port").orElse("2222")))));
        return problems;
    }

    /**
     * A value as Camel resolves its property placeholders: {@code {{key}}}, {@code {{key:default}}}, optional
     * {@code {{?key}}}, {@code {{env:NAME}}} and {@code {{sys:name}}}. One that is not set is an error, as at start.
     */
    String resolve(String value) {
        Matcher m = PLACEHOLDER.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            boolean optional = m.group(1) != null;
            String expression = m.group(2).trim();
            String function = null;
            if (expression.startsWith("env:") || expression.startsWith("sys:")) {
                function = expression.substring(0, 3);
                expression = expression.substring(4);
            }
            int colon = expression.indexOf(':');
            String key = colon < 0 ? expression : expression.substring(0, colon);
            String fallback = colon < 0 ? null : expression.substring(colon + 1);
            Optional<String> found = "env".equals(function) ? Optional.ofNullable(System.getenv(key))
                    : "sys".equals(function) ? Optional.ofNullable(System.getProperty(key)) : value(key);
            String resolved = found.orElse(fallback != null ? fallback : optional ? "" : null);
            if (resolved == null) {
                throw new IllegalArgumentException("property placeholder " + m.group() + " is not set (application.properties,"
                        + " config/application.properties, the environment or a system property)");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(resolved));
        }
        m.appendTail(out);
        return out.toString();
    }

    private Optional<String> value(String key) {
        try {
            return config.getOptionalValue(key, String.class);
        } catch (RuntimeException e) {
            // A value whose own ${...} expression cannot be expanded here.
            return Optional.empty();
        }
    }

    /** The configuration erphub would start with, read without starting it. */
    static SmallRyeConfig configuration() {
        String profile = Optional.ofNullable(System.getProperty("quarkus.profile"))
                .or(() -> Optional.ofNullable(System.getenv("QUARKUS_PROFILE"))).orElse(JAR_PROFILE);
        SmallRyeConfigBuilder builder = new SmallRyeConfigBuilder().addDefaultInterceptors().addDefaultSources()
                .withProfile(profile);
        try {
            URL shipped = OperatorFilesCheck.class.getClassLoader().getResource("application.properties");
            if (shipped != null) {
                builder.withSources(new PropertiesConfigSource(shipped, 250));
            }
            Path local = Path.of("config", "application.properties");
            if (Files.isRegularFile(local)) {
                builder.withSources(new PropertiesConfigSource(local.toUri().toURL(), 260));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return builder.build();
    }

    /** The built-in route files and kamelets (classpath routes/ and kamelets/), by their classpath location. */
    static Map<String, String> builtInRoutes() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String folder : List.of("kamelets", "routes")) {
            for (String name : listClasspathFolder(folder)) {
                if (!name.endsWith(".yaml")) {
                    continue;
                }
                try (InputStream in = OperatorFilesCheck.class.getClassLoader().getResourceAsStream(folder + "/" + name)) {
                    if (in != null) {
                        out.put("classpath:" + folder + "/" + name, new String(in.readAllBytes(), StandardCharsets.UTF_8));
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return out;
    }

    private static List<String> listClasspathFolder(String folder) {
        TreeSet<String> names = new TreeSet<>();
        try {
            List<URL> places = Collections.list(OperatorFilesCheck.class.getClassLoader().getResources(folder));
            if (places.isEmpty()) {
                // The packaged jar's class loader knows no folders: look into the application's own jar.
                URL self = OperatorFilesCheck.class.getProtectionDomain().getCodeSource().getLocation();
                places = List.of(self.getPath().endsWith(".jar") ? new URL("jar:" + self + "!/" + folder + "/")
                        : new URL(self, folder));
            }
            for (URL url : places) {
                if ("file".equals(url.getProtocol())) {
                    try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
                        files.forEach(f -> names.add(f.getFileName().toString()));
                    }
                } else if ("jar".equals(url.getProtocol())) {
                    JarURLConnection connection = (JarURLConnection) url.openConnection();
                    connection.setUseCaches(false);
                    try (JarFile jar = connection.getJarFile()) {
                        for (JarEntry entry : Collections.list(jar.entries())) {
                            String name = entry.getName();
                            if (name.startsWith(folder + "/") && name.indexOf('/', folder.length() + 1) < 0
                                    && !entry.isDirectory()) {
                                names.add(name.substring(folder.length() + 1));
                            }
                        }
                    }
                }
            }
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException("cannot list the built-in " + folder, e);
        }
        return List.copyOf(names);
    }

    private static List<Path> yamlFiles(Path path, List<String> problems) {
        if (Files.isRegularFile(path)) {
            return List.of(path);
        }
        if (!Files.isDirectory(path)) {
            problems.add(path + ": no such file or folder");
            return List.of();
        }
        try (Stream<Path> all = Files.walk(path)) {
            return all.filter(Files::isRegularFile).filter(f -> f.getFileName().toString().matches(".*\\.ya?ml")).sorted()
                    .toList();
        } catch (IOException e) {
            problems.add(path + ": cannot be read: " + e.getMessage());
            return List.of();
        }
    }

    /** The root node; empty for an empty file and for one that is not YAML (then with its problem added). */
    private static Optional<Node> parse(String label, String text, List<String> problems) {
        try {
            LoadSettings settings = LoadSettings.builder().setLabel(label).setAllowDuplicateKeys(false).build();
            return new Composer(settings, new ParserImpl(settings, new StreamReader(settings, text))).getSingleNode();
        } catch (MarkedYamlEngineException e) {
            String line = e.getProblemMark().map(mark -> String.valueOf(mark.getLine() + 1)).orElse("1");
            problems.add(label + ":" + line + ": not valid YAML: " + e.getProblem());
            return Optional.empty();
        } catch (YamlEngineException e) {
            problems.add(label + ":1: not valid YAML: " + e.getMessage());
            return Optional.empty();
        }
    }

    /** Route template ids a file defines: its routeTemplates, or the kamelet it is. */
    private static List<String> templatesDefined(Node root) {
        List<String> ids = new ArrayList<>();
        if (root instanceof MappingNode kamelet && "Kamelet".equals(text(field(kamelet, "kind")))) {
            Optional.ofNullable(text(field(field(kamelet, "metadata"), "name"))).ifPresent(ids::add);
        }
        if (root instanceof SequenceNode items) {
            for (Node item : items.getValue()) {
                Optional.ofNullable(text(field(field(item, "routeTemplate"), "id"))).ifPresent(ids::add);
            }
        }
        return ids;
    }

    private static void unknownTemplates(String label, Node root, TreeSet<String> templates, List<String> problems) {
        if (!(root instanceof SequenceNode items)) {
            return;
        }
        for (Node item : items.getValue()) {
            Node templated = field(item, "templatedRoute");
            if (templated == null) {
                continue;
            }
            Node ref = field(templated, "routeTemplateRef");
            String id = text(ref);
            if (id == null || id.isBlank()) {
                problems.add(label + ":" + line(templated) + ": templatedRoute without a routeTemplateRef");
            } else if (!templates.contains(id)) {
                problems.add(label + ":" + line(ref) + ": unknown route template '" + id + "' (known: "
                        + String.join(", ", templates) + ")");
            }
        }
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
        return node.getStartMark().map(m -> m.getLine() + 1).orElse(1);
    }
}
