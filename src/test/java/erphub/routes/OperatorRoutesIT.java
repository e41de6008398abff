package erphub.routes;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import erphub.testing.BesideTheApplication;
import erphub.testing.PackagedApp;
import erphub.testing.TestServers;

/**
 * Operator routes against the packaged jar, started with {@code java -jar} as an operator would:
 * a YAML file dropped into {@code config/routes/} runs after a restart, without a rebuild.
 */
@BesideTheApplication(seconds = 70)
class OperatorRoutesIT {

    private static final Duration START = Duration.ofSeconds(60);

    @Test
    void startsOnTheEmbeddedDefaultWithAnEmptyRoutesFolderAndAnswersReady() throws Exception {
        Path work = TestServers.scratchDir("empty-routes-");
        Files.createDirectories(work.resolve("config/routes"));
        try (PackagedApp app = PackagedApp.start(work, Map.of())) {
            Duration ready = app.awaitReady(START);

            String health = get(app.url("/q/health/ready"));
            assertTrue(health.contains("\"status\": \"UP\""), health);
            assertTrue(health.contains("\"h2\": \"UP\""), "readiness includes the state database: " + health);
            assertTrue(health.contains("\"context.status\": \"Started\""), "readiness includes Camel: " + health);
            assertTrue(get(app.url("/q/health/live")).contains("\"status\": \"UP\""));
            assertTrue(app.output().contains("Profile embedded activated"), app.output());
            assertTrue(Files.exists(work.resolve("data/state/erphub.mv.db")), "H2 state database under data/");
            System.out.printf("erphub java -jar to ready: %d ms, resident memory at ready: %d MiB%n",
                    ready.toMillis(), app.residentKiB() / 1024);
        }
    }

    @Test
    void aRouteDroppedIntoConfigRoutesRunsAfterARestartWithoutARebuild() throws Exception {
        Path work = TestServers.scratchDir("drop-route-");
        Path routes = Files.createDirectories(work.resolve("config/routes"));
        try (PackagedApp app = PackagedApp.start(work, Map.of())) {
            app.awaitReady(START);
        }
        assertFalse(Files.exists(work.resolve("out/dropped.txt")));

        Files.writeString(routes.resolve("dropped.yaml"), """
                - route:
                    id: operator-dropped
                    from:
                      uri: timer:operator-dropped
                      parameters:
                        repeatCount: 1
                      steps:
                        - setBody:
                            constant: "ran from config/routes"
                        - to:
                            uri: file:out
                            parameters:
                              fileName: dropped.txt
                """);
        try (PackagedApp app = PackagedApp.start(work, Map.of())) {
            app.awaitReady(START);
            Path out = work.resolve("out/dropped.txt");
            await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(out));
            assertEquals("ran from config/routes", Files.readString(out));
            assertTrue(get(app.url("/q/health/ready")).contains("UP"));
        }
    }

    @Test
    void aBrokenRouteFileStopsStartUpWithAnErrorNamingTheFile() throws Exception {
        Path work = TestServers.scratchDir("broken-route-");
        Path routes = Files.createDirectories(work.resolve("config/routes"));
        Files.writeString(routes.resolve("good.yaml"), """
                - route:
                    id: good
                    from:
                      uri: timer:good
                      steps:
                        - log: fine
                """);
        Files.writeString(routes.resolve("payroll-broken.yaml"), """
                - route:
                    id: broken
                    from:
                      uri: timer:broken
                      steps:
                        - setBody:
                            constant: "x"
                         - log: misindented
                """);
        try (PackagedApp app = PackagedApp.start(work, Map.of())) {
            int exit = app.awaitExit(START);

            assertNotEquals(0, exit);
            String output = app.output();
            assertTrue(output.contains("config/routes/payroll-broken.yaml, line 8"), output);
        }
    }

    @Test
    void oneRouteThatCannotStartDoesNotKeepTheOthersFromStarting() throws Exception {
        Path work = TestServers.scratchDir("supervised-");
        Path routes = Files.createDirectories(work.resolve("config/routes"));
        Files.writeString(routes.resolve("cannot-start.yaml"), """
                - route:
                    id: cannot-start
                    from:
                      uri: file:missing-inbox
                      parameters:
                        autoCreate: false
                        startingDirectoryMustExist: true
                      steps:
                        - log: never
                """);
        Files.writeString(routes.resolve("healthy.yaml"), """
                - route:
                    id: healthy
                    from:
                      uri: timer:healthy
                      parameters:
                        repeatCount: 1
                      steps:
                        - setBody:
                            constant: "healthy ran"
                        - to:
                            uri: file:out
                            parameters:
                              fileName: healthy.txt
                """);
        try (PackagedApp app = PackagedApp.start(work, Map.of())) {
            app.awaitReady(START);
            Path out = work.resolve("out/healthy.txt");
            await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(out));
            assertEquals("healthy ran", Files.readString(out));
            assertTrue(app.output().contains("cannot-start"), app.output());
        }
    }

    /**
     * Hostile or mistaken parameters of an upstream route file in config/routes: every one is named at start, with its
     * route, and erphub does not start. (All files are read in one start-up, which lists every problem at once.)
     * Columns: parameter, value, the problem erphub reports.
     */
    static final String[][] HOSTILE_PARAMETERS = {
            { "upstreamId", "../../etc/passwd", "upstreamId '../../etc/passwd' does not match" },
            { "upstreamId", "payroll-exports", "upstreamId payroll-exports is declared twice" },
            { "baseUrl", "file:///etc/passwd", "baseUrl 'file:///etc/passwd' is not an http(s) URL" },
            { "tokenUrl", "gopher://127.0.0.1:25/", "tokenUrl 'gopher://127.0.0.1:25/' is not an http(s) URL" },
            { "paging", "all", "paging 'all' is not one of none, next-link, cursor, page" },
            { "destinations", "erp-api,ftp", "names destination 'ftp'" },
            { "erpApiMethod", "DELETE", "erpApiMethod 'DELETE' is not one of POST, PUT" },
            { "validNamePattern", "(", "validNamePattern '(' is not a regular expression" },
            { "sinceOverlap", "yesterday", "sinceOverlap 'yesterday' is not an ISO-8601 duration" },
            { "itemsPath", "$[", "itemsPath '$[' is not a JSONPath" },
            { "checksumAlgorithm", "NOPE-1", "checksumAlgorithm 'NOPE-1' is not one of" },
            { "maxFileSize", "-1", "maxFileSize '-1' is less than 1" },
            { "pageSize", "lots", "pageSize 'lots' is not a whole number" },
            { "colour", "blue", "unknown parameter 'colour'" },
    };

    private static String hostileStartOutput;

    static Stream<Arguments> hostileParameters() {
        return Stream.of(HOSTILE_PARAMETERS).map(row -> Arguments.of(row[0], row[1], row[2]));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("hostileParameters")
    void aHostileUpstreamRouteParameterStopsStartUpNamingIt(String parameter, String value, String problem) throws Exception {
        String output = hostileStart();
        String route = "hostile-" + java.util.stream.IntStream.range(0, HOSTILE_PARAMETERS.length)
                .filter(i -> HOSTILE_PARAMETERS[i][0].equals(parameter) && HOSTILE_PARAMETERS[i][1].equals(value))
                .findFirst().orElseThrow();
        // "<file>:<line>: <problem>", the file being config/routes/<routeId>.yaml
        assertTrue(output.lines().anyMatch(l -> l.contains("/" + route + ".yaml:") && l.contains(problem)),
                route + ": " + problem + " in\n" + output);
    }

    /** One start-up with every hostile route file; its output (the start fails). */
    private static synchronized String hostileStart() throws Exception {
        if (hostileStartOutput == null) {
            Path work = TestServers.scratchDir("hostile-routes-");
            Path routes = Files.createDirectories(work.resolve("config/routes"));
            for (int i = 0; i < HOSTILE_PARAMETERS.length; i++) {
                Map<String, String> params = new java.util.LinkedHashMap<>();
                params.put("upstreamId", "hostile-" + i);
                params.put("pollInterval", "60000");
                params.put("baseUrl", "http://127.0.0.1:9/files");
                params.put("listPath", "/{tenant}/list");
                params.put("itemsPath", "$.items");
                params.put("idPath", "$.id");
                params.put("namePath", "$.name");
                params.put("versionPath", "$.etag");
                params.put("downloadUrlTemplate", "/files/{id}");
                params.put("tokenUrl", "http://127.0.0.1:9/token");
                params.put("credential", "hostile");
                params.put(HOSTILE_PARAMETERS[i][0], HOSTILE_PARAMETERS[i][1]);
                StringBuilder yaml = new StringBuilder("- templatedRoute:\n    routeTemplateRef: erphub-upstream-source\n"
                        + "    routeId: hostile-" + i + "\n    prefixId: hostile-" + i + "-\n    parameters:\n");
                params.forEach((k, v) -> yaml.append("      - {name: ").append(k).append(", value: '").append(v)
                        .append("'}\n"));
                Files.writeString(routes.resolve("hostile-" + i + ".yaml"), yaml);
            }
            try (PackagedApp app = PackagedApp.start(work, Map.of())) {
                assertNotEquals(0, app.awaitExit(START), "erphub started with hostile route files");
                hostileStartOutput = app.output();
            }
        }
        return hostileStartOutput;
    }

    /**
     * With the JVM options of the image (Dockerfile.jvm), an OutOfMemoryError ends the process, so the orchestrator
     * restarts it: a JVM living on after one may answer no probe and ignore SIGTERM. An operator route allocates past
     * a small heap.
     */
    @Test
    void anOutOfMemoryErrorEndsTheProcessWithTheImagesJvmOptions() throws Exception {
        Matcher opts = Pattern.compile("ENV JAVA_OPTS_APPEND=\"([^\"]*)\"")
                .matcher(Files.readString(Path.of("src/main/docker/Dockerfile.jvm")));
        assertTrue(opts.find(), "Dockerfile.jvm sets JAVA_OPTS_APPEND");
        List<String> jvm = new ArrayList<>(List.of(opts.group(1).trim().split("\\s+")));
        jvm.add("-Xmx128m");
        Path work = TestServers.scratchDir("oom-");
        Path routes = Files.createDirectories(work.resolve("config/routes"));
        Files.writeString(routes.resolve("hog.yaml"), """
                - route:
                    id: hog
                    from:
                      uri: timer:hog
                      parameters:
                        repeatCount: 1
                        delay: 2000
                      steps:
                        - bean:
                            beanType: java.util.ArrayList
                            method: ensureCapacity(400000000)
                """);
        try (PackagedApp app = PackagedApp.start(work, Map.of(), jvm.toArray(String[]::new))) {
            // The hog runs two seconds after its route starts, which on a loaded machine can be before erphub is
            // ready: what counts is that the process ends with the JVM's OOM exit code, not that it was ready first.
            int exit = app.awaitExit(START.plusSeconds(60));
            assertEquals(3, exit, "the JVM's exit code for -XX:+ExitOnOutOfMemoryError:\n" + app.output());
            assertTrue(app.output().contains("Terminating due to java.lang.OutOfMemoryError"), app.output());
        }
    }

    private static String get(String url) throws IOException, InterruptedException {
        return HttpClient.newHttpClient()
                .send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }
}
