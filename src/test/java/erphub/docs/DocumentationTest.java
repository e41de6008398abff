package erphub.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.apache.camel.spi.Resource;
import org.apache.camel.support.ResourceHelper;
import org.junit.jupiter.api.Test;

import erphub.testing.BesideTheApplication;
import erphub.upstream.UpstreamSpecs;

/**
 * The README is the front door and docs/ the rest: the README stays short, every relative link of either leads to a
 * file (and heading) that exists, every environment variable they name is one erphub reads, and every upstream route
 * they show passes the upstream contract as it is written.
 */
@BesideTheApplication
class DocumentationTest {

    static final Path README = Path.of("README.md");
    static final Pattern LINK = Pattern.compile("(?<!!)\\[[^\\]]*\\]\\(([^)\\s]+)\\)");
    static final Pattern ENV = Pattern.compile("\\bERPHUB_[A-Z0-9_]*[A-Z0-9]\\b");

    static List<Path> documents() throws IOException {
        List<Path> out = new ArrayList<>(List.of(README));
        try (Stream<Path> docs = Files.list(Path.of("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(out::add);
        }
        return out;
    }

    /** A document without its fenced code blocks (links and headings in code are not links and headings). */
    static List<String> prose(Path document) throws IOException {
        List<String> out = new ArrayList<>();
        boolean code = false;
        for (String line : Files.readAllLines(document)) {
            if (line.stripLeading().startsWith("```")) {
                code = !code;
                continue;
            }
            if (!code) {
                out.add(line);
            }
        }
        return out;
    }

    /** The fenced code blocks of a document, with their language. */
    static List<String[]> codeBlocks(Path document) throws IOException {
        List<String[]> out = new ArrayList<>();
        String language = null;
        StringBuilder block = null;
        for (String line : Files.readAllLines(document)) {
            if (line.stripLeading().startsWith("```")) {
                if (block == null) {
                    language = line.strip().substring(3).strip();
                    block = new StringBuilder();
                } else {
                    out.add(new String[] { language, block.toString() });
                    block = null;
                }
            } else if (block != null) {
                block.append(line).append('\n');
            }
        }
        return out;
    }

    /** GitHub's anchors of a document's headings (lower case, punctuation dropped, spaces as dashes, repeats numbered). */
    static Set<String> anchors(Path document) throws IOException {
        Set<String> out = new HashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        for (String line : prose(document)) {
            Matcher heading = Pattern.compile("^#{1,6}\\s+(.*?)\\s*#*\\s*$").matcher(line);
            if (heading.matches()) {
                String slug = heading.group(1).toLowerCase().replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
                int n = seen.merge(slug, 1, Integer::sum);
                out.add(n == 1 ? slug : slug + "-" + (n - 1));
            }
        }
        return out;
    }

    @Test
    void theReadmeIsReadInFiveMinutes() throws IOException {
        int lines = Files.readAllLines(README).size();
        assertTrue(lines <= 150, "README.md has " + lines + " lines; the rest belongs in docs/");
    }

    @Test
    void everyRelativeLinkLeadsToAFileAndHeadingThatExist() throws IOException {
        List<String> broken = new ArrayList<>();
        int links = 0;
        for (Path document : documents()) {
            for (String line : prose(document)) {
                Matcher link = LINK.matcher(line);
                while (link.find()) {
                    String target = link.group(1);
                    if (target.matches("^[a-z][a-z0-9+.-]*:.*")) {
                        continue; // http:, https:, mailto:
                    }
                    links++;
                    int hash = target.indexOf('#');
                    String file = hash < 0 ? target : target.substring(0, hash);
                    Path resolved = file.isEmpty() ? document : document.toAbsolutePath().getParent().resolve(file).normalize();
                    if (!Files.exists(resolved)) {
                        broken.add(document + ": " + target + " (no such file)");
                    } else if (hash >= 0 && !(resolved.toString().endsWith(".md")
                            && anchors(resolved).contains(target.substring(hash + 1)))) {
                        broken.add(document + ": " + target + " (no such heading)");
                    }
                }
            }
        }
        assertEquals(List.of(), broken);
        assertTrue(links > 20, "the README and docs link to each other: " + links + " links");
    }

    @Test
    void everyDocumentIsLinkedFromTheReadme() throws IOException {
        Set<String> linked = new HashSet<>();
        for (String line : prose(README)) {
            Matcher link = LINK.matcher(line);
            while (link.find()) {
                linked.add(link.group(1).replaceFirst("#.*", ""));
            }
        }
        for (Path document : documents().subList(1, documents().size())) {
            assertTrue(linked.contains("docs/" + document.getFileName()), document + " is not linked from the README");
        }
    }

    @Test
    void everyErphubVariableTheDocumentsNameIsOneErphubReads() throws IOException {
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
        Set<String> unknown = new LinkedHashSet<>();
        for (Path document : documents()) {
            Matcher env = ENV.matcher(Files.readString(document));
            while (env.find()) {
                String name = env.group();
                // Credential references and upstream endpoints are the operator's own names, looked up by full name;
                // ERPHUB_NATIVE_BUILD is a variable of the GitHub workflow, not of erphub.
                if (!known.contains(name) && !name.startsWith("ERPHUB_CREDENTIALS_") && !name.startsWith("ERPHUB_UPSTREAMS_")
                        && !name.equals("ERPHUB_NATIVE_BUILD")) {
                    unknown.add(document + ": " + name);
                }
            }
        }
        assertEquals(Set.of(), unknown, "variables no setting of application.properties reads");
    }

    @Test
    void everyUpstreamRouteTheDocumentsShowPassesTheUpstreamContract() throws IOException {
        Map<String, String> settings = Map.of(
                "erphub.upstreams.payroll-exports.poll-interval", "30000",
                "erphub.upstreams.payroll-exports.base-url", "https://payroll.example.com",
                "erphub.upstreams.payroll-exports.token-url", "https://login.example.com/token",
                "erphub.upstreams.hr-documents.base-url", "https://hr.example.com/api",
                "erphub.upstreams.hr-documents.token-url", "https://login.example.com/oauth2/token");
        Pattern placeholder = Pattern.compile("\\{\\{([^}:]+)(?::([^}]*))?\\}\\}");
        UnaryOperator<String> resolve = value -> placeholder.matcher(value).replaceAll(m -> {
            String setting = settings.getOrDefault(m.group(1), m.group(2));
            assertTrue(setting != null, "no example value for " + m.group());
            return Matcher.quoteReplacement(setting);
        });
        int routes = 0;
        for (Path document : documents()) {
            List<Resource> files = new ArrayList<>();
            for (String[] block : codeBlocks(document)) {
                if (block[0].equals("yaml") && block[1].contains("routeTemplateRef: erphub-upstream-source")) {
                    files.add(ResourceHelper.fromString("file:" + document + "#" + files.size(), block[1]));
                }
            }
            for (Resource file : files) {
                List<String> problems = new ArrayList<>();
                assertEquals(1, UpstreamSpecs.read(List.of(file), resolve, Set.of("erp-api", "sftp", "kafka"), 1000, problems)
                        .size(), file.getLocation() + ": " + problems);
                assertEquals(List.of(), problems, file.getLocation());
                routes++;
            }
        }
        assertTrue(routes >= 2, "the README's and upstreams.md's examples: " + routes);
    }
}
