package erphub.upstream;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import com.jayway.jsonpath.JsonPath;

/**
 * The upstream contract: the properties the {@value #TEMPLATE_ID} kamelet declares (type, enum, pattern,
 * range, format, default, required), read from the kamelet itself, so the declaration a reader and Kaoto see
 * is the one erphub enforces. {@link #check} validates one binding of the kamelet (an upstream route file's
 * templatedRoute) and reports every problem at once, each with the file and line it comes from.
 */
public final class UpstreamContract {

    public static final String TEMPLATE_ID = "erphub-upstream-source";
    public static final String KAMELET = "kamelets/" + TEMPLATE_ID + ".kamelet.yaml";

    /** One declared property: its JSON-schema-style constraints. */
    public record Property(String name, String type, List<String> enumValues, Pattern pattern, BigDecimal minimum,
            BigDecimal maximum, String format, String defaultValue, boolean required, String description) {
    }

    /** A value as written in a file, with where: "file:line: ". */
    public record Located(String value, String where) {
    }

    private final Map<String, Property> properties;

    private UpstreamContract(Map<String, Property> properties) {
        this.properties = properties;
    }

    /** The contract declared by the kamelet on the class path. */
    public static UpstreamContract load() {
        try (InputStream in = UpstreamContract.class.getClassLoader().getResourceAsStream(KAMELET)) {
            if (in == null) {
                throw new IllegalStateException(KAMELET + " is not on the class path");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    static UpstreamContract parse(String kamelet) {
        Map<String, Object> root = (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(kamelet);
        Map<String, Object> definition = (Map<String, Object>) ((Map<String, Object>) root.get("spec")).get("definition");
        Set<String> required = new TreeSet<>((List<String>) definition.getOrDefault("required", List.of()));
        Map<String, Property> properties = new LinkedHashMap<>();
        ((Map<String, Map<String, Object>>) definition.get("properties")).forEach((name, p) -> properties.put(name,
                new Property(name, String.valueOf(p.getOrDefault("type", "string")),
                        p.containsKey("enum") ? ((List<Object>) p.get("enum")).stream().map(String::valueOf).toList() : null,
                        p.containsKey("pattern") ? Pattern.compile(p.get("pattern").toString()) : null,
                        p.containsKey("minimum") ? new BigDecimal(p.get("minimum").toString()) : null,
                        p.containsKey("maximum") ? new BigDecimal(p.get("maximum").toString()) : null,
                        (String) p.get("format"),
                        p.containsKey("default") ? String.valueOf(p.get("default")) : null,
                        required.contains(name), String.valueOf(p.getOrDefault("description", "")))));
        return new UpstreamContract(properties);
    }

    public Collection<Property> properties() {
        return properties.values();
    }

    /**
     * Checks one binding's values (placeholders already resolved) and, when they hold, builds the upstream.
     * Returns null when a problem was found; every problem is added to {@code problems}.
     */
    public UpstreamSpec check(String routeId, String bindingWhere, Map<String, Located> values,
            Set<String> knownDestinations, long defaultMaxFileSize, List<String> problems) {
        int before = problems.size();
        values.forEach((name, v) -> {
            if (!properties.containsKey(name)) {
                problems.add(v.where() + "unknown parameter '" + name + "' of " + TEMPLATE_ID + " (known: "
                        + String.join(", ", properties.keySet()) + ")");
            }
        });
        Map<String, String> effective = new LinkedHashMap<>();
        for (Property p : properties.values()) {
            Located v = values.get(p.name());
            if (v == null || v.value() == null || v.value().isEmpty() && p.defaultValue() != null) {
                if (p.required()) {
                    problems.add(bindingWhere + "parameter " + p.name() + " is required (" + p.description() + ")");
                } else if (p.defaultValue() != null) {
                    effective.put(p.name(), p.defaultValue());
                }
                continue;
            }
            String problem = problem(p, v.value().trim(), knownDestinations);
            if (problem != null) {
                problems.add(v.where() + p.name() + " '" + v.value() + "' " + problem);
            } else {
                effective.put(p.name(), v.value().trim());
            }
        }
        if (problems.size() > before) {
            return null;
        }
        UpstreamSpec spec = UpstreamSpec.of(routeId, effective, defaultMaxFileSize, problems, bindingWhere);
        return problems.size() > before ? null : spec;
    }

    /** Why the value does not fit the property's declaration, or null. */
    static String problem(Property p, String value, Set<String> knownDestinations) {
        switch (p.type()) {
            case "integer" -> {
                BigDecimal n;
                try {
                    n = new BigDecimal(value);
                    n.longValueExact();
                } catch (NumberFormatException | ArithmeticException e) {
                    return "is not a whole number";
                }
                if (p.minimum() != null && n.compareTo(p.minimum()) < 0) {
                    return "is less than " + p.minimum();
                }
                if (p.maximum() != null && n.compareTo(p.maximum()) > 0) {
                    return "is more than " + p.maximum();
                }
            }
            case "boolean" -> {
                if (!value.equals("true") && !value.equals("false")) {
                    return "is not true or false";
                }
            }
            default -> {
                // a string
            }
        }
        if (p.enumValues() != null && !p.enumValues().contains(value)) {
            return "is not one of " + String.join(", ", p.enumValues());
        }
        if (p.pattern() != null && !p.pattern().matcher(value).matches()) {
            return "does not match " + p.pattern().pattern();
        }
        return p.format() == null || value.isEmpty() ? null : formatProblem(p.format(), value, knownDestinations);
    }

    private static String formatProblem(String format, String value, Set<String> knownDestinations) {
        switch (format) {
            case "jsonpath" -> {
                try {
                    JsonPath.compile(value);
                    return null;
                } catch (RuntimeException e) {
                    return "is not a JSONPath: " + e.getMessage();
                }
            }
            case "regex" -> {
                try {
                    Pattern.compile(value);
                    return null;
                } catch (PatternSyntaxException e) {
                    return "is not a regular expression: " + e.getDescription();
                }
            }
            case "duration" -> {
                try {
                    Duration d = Duration.parse(value);
                    return d.isNegative() ? "is negative" : null;
                } catch (DateTimeParseException e) {
                    return "is not an ISO-8601 duration such as PT5M";
                }
            }
            case "http-url" -> {
                try {
                    URI u = new URI(value);
                    return ("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null ? null
                            : "is not an http(s) URL with a host";
                } catch (URISyntaxException e) {
                    return "is not a URL: " + e.getMessage();
                }
            }
            case "quartz-cron" -> {
                return org.quartz.CronExpression.isValidExpression(value) ? null
                        : "is not a Quartz cron expression (seconds minutes hours day-of-month month day-of-week)";
            }
            case "destinations" -> {
                for (String d : UpstreamSpec.destinations(value)) {
                    if (!knownDestinations.contains(d)) {
                        return "names destination '" + d + "', not one of " + new TreeSet<>(knownDestinations) + " (or none)";
                    }
                }
                return null;
            }
            case "checksum-algorithm" -> {
                try {
                    MessageDigest.getInstance(value);
                    return null;
                } catch (NoSuchAlgorithmException e) {
                    return "is not known to the JVM";
                }
            }
            default -> {
                return null;
            }
        }
    }

    /** The declared properties as Markdown rows (the generated parameter reference). */
    public List<String> referenceRows() {
        List<String> rows = new ArrayList<>();
        for (Property p : properties.values()) {
            StringBuilder type = new StringBuilder(p.type());
            if (p.enumValues() != null) {
                type.append(": ").append(String.join(" \\| ", p.enumValues()));
            } else if (p.format() != null) {
                type.append(" (").append(p.format()).append(')');
            }
            if (p.minimum() != null || p.maximum() != null) {
                type.append(", ").append(p.minimum() == null ? "" : p.minimum()).append("..")
                        .append(p.maximum() == null ? "" : p.maximum());
            }
            rows.add("| `" + p.name() + "` | " + type + " | " + (p.required() ? "yes" : "no") + " | "
                    + (p.defaultValue() == null ? "" : "`" + p.defaultValue() + "`") + " | "
                    + p.description().replace("|", "\\|").replace("\n", " ") + " |");
        }
        return rows;
    }
}
