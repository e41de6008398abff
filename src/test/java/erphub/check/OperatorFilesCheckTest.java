package erphub.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import erphub.testing.BesideTheApplication;

/**
 * The offline check an operator's CI runs on route files and tenant registries: each hostile file yields its problem
 * as file:line: message and a non-zero exit; a good folder (an upstream of the operator's and tenants subscribed to
 * it and to the built-in ones) passes with 0.
 */
@BesideTheApplication
class OperatorFilesCheckTest {

    /** An operator's upstream, as config/routes/ holds it; {@code extra} lines go into its parameter list. */
    static String upstream(String upstreamId, String... extra) {
        StringBuilder yaml = new StringBuilder("""
                # An operator's upstream
                - templatedRoute:
                    routeTemplateRef: erphub-upstream-source
                    routeId: upstream-timesheets
                    parameters:
                      - name: upstreamId
                        value: %s
                      - name: baseUrl
                        value: https://timesheets.example.com/api
                      - name: listPath
                        value: /tenants/{tenant}/files
                      - name: itemsPath
                        value: $.files
                      - name: idPath
                        value: $.id
                      - name: namePath
                        value: $.name
                      - name: versionPath
                        value: $.etag
                      - name: downloadUrlTemplate
                        value: /files/{id}
                      - name: tokenUrl
                        value: https://login.example.com/token
                """.formatted(upstreamId));
        for (String line : extra) {
            yaml.append("      ").append(line).append('\n');
        }
        return yaml.toString();
    }

    static final String CREDENTIAL = "- name: credential\n        value: timesheets";

    static final String REGISTRY = """
            tenants:
              - id: acme
                name: ACME Manufacturing
                upstreams:
                  payroll-exports: {credential: acme-payroll}
                  timesheets:
            """;

    @TempDir
    Path folder;

    @Test
    void aGoodFolderPasses() throws Exception {
        write("routes/timesheets.yaml", upstream("timesheets", CREDENTIAL));
        write("tenants.yaml", REGISTRY);
        Outcome outcome = check(folder);
        assertEquals(0, outcome.exit(), outcome.output());
        assertTrue(outcome.output().contains("validate: no problems"), outcome.output());
    }

    @Test
    void theRepositorysOwnConfigFolderPasses() {
        Outcome outcome = check(Path.of("config"));
        assertEquals(0, outcome.exit(), outcome.output());
    }

    /** Columns: the file's name, its content (\n for new lines), the line and the message expected. */
    @ParameterizedTest(name = "{0}: {3}")
    @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
            "routes/broken.yaml | - templatedRoute:\\n    routeTemplateRef: [unclosed\\n    routeId: x\\n | 3 | not valid YAML",
            "routes/unknown-template.yaml | - templatedRoute:\\n    routeTemplateRef: erphub-upstream-sorce\\n    routeId: x\\n"
                    + " | 2 | unknown route template 'erphub-upstream-sorce'",
            "tenants.yaml | tenants:\\n  - id: acme\\n    upstreams:\\n      payroll-exports: {credential: \"Secret!Value\"}\\n"
                    + " | 4 | 'Secret!Value' is not a credential reference",
            "tenants.yaml | tenants:\\n  - id: acme\\n    upstreams:\\n      payrol-exports:\\n | 4 | unknown upstream 'payrol-exports'",
            "tenants.yaml | tenants:\\n  - id: Acme_Corp\\n | 2 | Acme_Corp",
            "notes.yaml | title: not erphub's\\n | 1 | neither a route file",
    })
    void aHostileFileIsNamedWithItsLine(String name, String content, int line, String message) throws Exception {
        write(name, content.replace("\\n", "\n"));
        assertProblem(name, line, message);
    }

    @Test
    void anUnknownParameterIsNamedWithItsLine() throws Exception {
        write("routes/timesheets.yaml", upstream("timesheets", CREDENTIAL, "- name: pollIntervall", "  value: 5000"));
        assertProblem("routes/timesheets.yaml", 26, "unknown parameter 'pollIntervall'");
    }

    @Test
    void aMissingRequiredParameterIsNamedAtItsBinding() throws Exception {
        write("routes/timesheets.yaml", upstream("timesheets"));
        assertProblem("routes/timesheets.yaml", 2, "parameter credential is required");
    }

    @Test
    void aBadUpstreamIdIsNamedWithItsLine() throws Exception {
        write("routes/timesheets.yaml", upstream("../Timesheets", CREDENTIAL));
        assertProblem("routes/timesheets.yaml", 6, "upstreamId '../Timesheets'");
    }

    @Test
    void anUpstreamDeclaredTwiceWithABuiltInOneIsRefused() throws Exception {
        write("routes/payroll.yaml", upstream("payroll-exports", CREDENTIAL));
        assertProblem("routes/payroll.yaml", 6, "upstreamId payroll-exports is declared twice");
    }

    @Test
    void aPlaceholderThatIsNotSetIsNamed() throws Exception {
        write("routes/timesheets.yaml", upstream("timesheets", CREDENTIAL).replace(
                "https://timesheets.example.com/api", "\"{{erphub.upstreams.timesheets.base-url}}\""));
        assertProblem("routes/timesheets.yaml", 8, "{{erphub.upstreams.timesheets.base-url}} is not set");
    }

    @Test
    void everyProblemOfEveryFileIsPrintedAtOnce() throws Exception {
        write("routes/a.yaml", "- templatedRoute:\n    routeTemplateRef: nope\n");
        write("routes/b.yaml", upstream("timesheets"));
        write("tenants.yaml", "tenants:\n  - id: x\n");
        Outcome outcome = check(folder);
        assertEquals(1, outcome.exit());
        assertTrue(outcome.output().contains("validate: 3 problem(s)"), outcome.output());
    }

    @Test
    void aPathThatIsNotThereIsAProblem() throws Exception {
        Outcome outcome = check(folder.resolve("missing"));
        assertEquals(1, outcome.exit(), outcome.output());
        assertTrue(outcome.output().contains(folder.resolve("missing") + ": no such file or folder"), outcome.output());
    }

    private void assertProblem(String name, int line, String message) throws Exception {
        Outcome outcome = check(folder);
        assertEquals(1, outcome.exit(), outcome.output());
        String prefix = folder.resolve(name) + ":" + line + ":";
        assertTrue(outcome.output().lines().anyMatch(l -> l.startsWith(prefix) && l.contains(message)),
                "expected " + prefix + " ... " + message + " in:\n" + outcome.output());
    }

    private void write(String name, String content) throws Exception {
        Path file = folder.resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
    }

    record Outcome(int exit, String output) {
    }

    private static Outcome check(Path path) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int exit = OperatorFilesCheck.run(List.of(path.toString()), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return new Outcome(exit, bytes.toString(StandardCharsets.UTF_8));
    }
}
