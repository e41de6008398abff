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
import java.util.Map;

import org.junit.jupiter.api.Test;

import erphub.testing.PackagedApp;
import erphub.testing.TestServers;

/**
 * Operator routes against the packaged jar, started with {@code java -jar} as an operator would:
 * a YAML file dropped into {@code config/routes/} runs after a restart, without a rebuild.
 */
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

    private static String get(String url) throws IOException, InterruptedException {
        return HttpClient.newHttpClient()
                .send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }
}
