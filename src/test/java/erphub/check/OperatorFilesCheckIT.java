package erphub.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import erphub.testing.BesideTheApplication;
import erphub.testing.TestServers;

/**
 * The offline check as an operator's CI runs it: {@code java -jar quarkus-run.jar validate <folder>} in a checkout of
 * their configuration. It prints each problem as file:line: message and exits 1, or exits 0 for good files, and starts
 * nothing of erphub on the way (no HTTP server, no state store, no routes).
 */
@BesideTheApplication(seconds = 5)
class OperatorFilesCheckIT {

    @Test
    void theCheckOfAGoodFolderExitsZeroAndStartsNothing() throws Exception {
        Path work = TestServers.scratchDir("validate-good-");
        Files.createDirectories(work.resolve("config/routes"));
        Files.writeString(work.resolve("config/routes/timesheets.yaml"),
                OperatorFilesCheckTest.upstream("timesheets", OperatorFilesCheckTest.CREDENTIAL));
        Files.writeString(work.resolve("config/tenants.yaml"), OperatorFilesCheckTest.REGISTRY);
        Run run = validate(work, "config");
        assertEquals(0, run.exit(), run.output());
        assertTrue(run.output().contains("validate: no problems"), run.output());
        assertFalse(run.output().contains("Listening on") || run.output().contains("activated"), "nothing started:\n"
                + run.output());
        assertFalse(Files.exists(work.resolve("data")), "no state store or archive was created");
    }

    @Test
    void theCheckOfABadFolderPrintsEveryProblemWithItsFileAndLineAndExitsNonZero() throws Exception {
        Path work = TestServers.scratchDir("validate-bad-");
        Files.createDirectories(work.resolve("config/routes"));
        Files.writeString(work.resolve("config/routes/timesheets.yaml"), OperatorFilesCheckTest.upstream("Time sheets",
                OperatorFilesCheckTest.CREDENTIAL, "- name: pollIntervall", "  value: 5000"));
        Files.writeString(work.resolve("config/routes/broken.yaml"), "- route: [unclosed\n  id: x\n");
        Files.writeString(work.resolve("config/tenants.yaml"),
                "tenants:\n  - id: acme\n    upstreams:\n      timesheets: {credential: \"s3cr3t!\"}\n");
        Run run = validate(work, "config");
        assertEquals(1, run.exit(), run.output());
        List<String> lines = run.output().lines().toList();
        for (String expected : List.of("config/routes/broken.yaml:2: not valid YAML",
                "config/routes/timesheets.yaml:6: upstreamId 'Time sheets'",
                "config/routes/timesheets.yaml:26: unknown parameter 'pollIntervall'",
                "config/tenants.yaml:4:")) {
            assertTrue(lines.stream().anyMatch(l -> l.startsWith(expected)), expected + " in:\n" + run.output());
        }
        assertTrue(lines.get(lines.size() - 1).matches("validate: \\d+ problem\\(s\\)"), run.output());
    }

    private record Run(int exit, String output) {
    }

    private static Run validate(Path work, String... args) throws Exception {
        Path jar = Path.of(System.getProperty("test.app.dir", "target/quarkus-app"), "quarkus-run.jar").toAbsolutePath();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toString(), "validate"));
        command.addAll(List.of(args));
        Path log = work.resolve("validate.log");
        Process process = new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("validate did not end within 60 s:\n" + Files.readString(log));
        }
        return new Run(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }
}
