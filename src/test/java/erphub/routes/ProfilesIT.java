package erphub.routes;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import erphub.testing.BesideTheApplication;
import erphub.testing.KafkaBrokerResource;
import erphub.testing.PackagedApp;
import erphub.testing.PostgresResource;
import erphub.testing.S3ServerResource;
import erphub.testing.TestServers;
import io.restassured.path.json.JsonPath;

/** The one packaged jar serves both profiles: the embedded default, and prod configured by environment. */
@BesideTheApplication(seconds = 50)
class ProfilesIT {

    @Test
    void prodProfileRunsOnPostgresqlKafkaAndS3ConfiguredByEnvironmentVariables() throws Exception {
        PostgresResource postgres = new PostgresResource();
        KafkaBrokerResource kafka = new KafkaBrokerResource();
        S3ServerResource s3 = new S3ServerResource();
        Map<String, String> db = postgres.start();
        try {
            String brokers = kafka.start().get("test.kafka.bootstrap-servers");
            Map<String, String> store = s3.start();
            s3.client().createBucket(b -> b.bucket("erphub-archive-prod"));
            Path work = TestServers.scratchDir("prod-");
            Map<String, String> env = new HashMap<>(Map.of(
                    "QUARKUS_PROFILE", "prod",
                    "ERPHUB_DB_URL", db.get("quarkus.datasource.\"postgresql\".jdbc.url"),
                    "ERPHUB_DB_USER", "postgres",
                    "ERPHUB_DB_PASSWORD", "unused-with-trust-auth",
                    "ERPHUB_JOLOKIA_PASSWORD", "jolokia-in-prod-" + System.nanoTime(),
                    "ERPHUB_KAFKA_BOOTSTRAP_SERVERS", brokers,
                    "ERPHUB_S3_BUCKET", "erphub-archive-prod",
                    "ERPHUB_S3_ENDPOINT", store.get("test.s3.endpoint"),
                    "ERPHUB_S3_OVERRIDE_ENDPOINT", "true",
                    "ERPHUB_S3_PATH_STYLE", "true"));
            env.putAll(Map.of("ERPHUB_S3_REGION", store.get("test.s3.region"),
                    "AWS_ACCESS_KEY_ID", store.get("test.s3.access-key"),
                    "AWS_SECRET_ACCESS_KEY", store.get("test.s3.secret-key")));
            int jolokia = TestServers.freePort();
            Map<String, String> props = new HashMap<>(PackagedApp.SANDBOX_AS_THE_PROFILE_SAYS);
            props.put("erphub.jolokia.enabled", "true");
            props.put("quarkus.camel.jolokia.server.port", String.valueOf(jolokia));
            props.put("erphub.console.enabled", "");
            // The demo tenants' registry is present, as in a checkout: prod must still start no sandbox.
            Files.createDirectories(work.resolve("config"));
            Files.writeString(work.resolve("config/tenants.yaml"), "tenants: []\n");
            try (PackagedApp app = PackagedApp.start(work, props, env)) {
                app.awaitReady(Duration.ofSeconds(60));

                String ready = HttpClient.newHttpClient().send(
                        HttpRequest.newBuilder(URI.create(app.url("/q/health/ready"))).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertTrue(ready.contains("\"postgresql\": \"UP\""), ready);
                // Readiness covers what an instance cannot take traffic without: the database, Kafka and the S3 archive.
                assertEquals("UP", new JsonPath(ready).getString("checks.find { it.name == 'erphub-kafka' }.status"), ready);
                assertEquals("UP", new JsonPath(ready).getString("checks.find { it.name == 'erphub-archive' }.status"), ready);
                assertFalse(ready.contains(brokers) || ready.contains("erphub-archive-prod"),
                        "brokers and bucket are not told on the open health endpoint: " + ready);
                assertFalse(ready.contains("\"h2\""), "the embedded database is inactive in prod: " + ready);
                assertTrue(app.output().contains("Profile prod activated"), app.output());
                assertFalse(Files.exists(work.resolve("data/state")), "prod keeps no local state");
                assertFalse(app.output().contains("unused-with-trust-auth"), "the database password is never logged");
                int sandbox = HttpClient.newHttpClient().send(
                        HttpRequest.newBuilder(URI.create(app.url("/sandbox/oauth2/jwks"))).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode();
                assertTrue(sandbox == 404, "no sandbox endpoints in prod: " + sandbox);
                assertFalse(app.output().contains("with its sandbox") || app.output().contains("sandbox progress"),
                        "no sandbox banner or progress in prod");
                assertFalse(Files.exists(work.resolve("data/sandbox")), "no sandbox files in prod");
                int swagger = HttpClient.newHttpClient().send(
                        HttpRequest.newBuilder(URI.create(app.url("/q/swagger-ui/"))).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode();
                assertTrue(swagger == 404, "no Swagger UI in prod: " + swagger);

                // Route inspection in prod: Jolokia answers only with the Secret's credentials, and only to an allowed
                // origin (a page in the operator's browser cannot use the browser's credentials); no embedded console.
                URI version = URI.create("http://127.0.0.1:" + jolokia + "/jolokia/version");
                HttpResponse<String> anonymous = HttpClient.newHttpClient().send(HttpRequest.newBuilder(version)
                        .header("Origin", "http://localhost:8090").build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(401, anonymous.statusCode(), anonymous.body());
                String basic = Base64.getEncoder().encodeToString(
                        ("hawtio:" + env.get("ERPHUB_JOLOKIA_PASSWORD")).getBytes(StandardCharsets.UTF_8));
                HttpResponse<String> operator = HttpClient.newHttpClient().send(HttpRequest.newBuilder(version)
                        .header("Authorization", "Basic " + basic).header("Origin", "http://localhost:8090").build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, operator.statusCode(), operator.body());
                assertTrue(operator.body().contains("\"agent\""), operator.body());
                for (String foreign : List.of("http://evil.example", "null")) {
                    HttpResponse<String> page = HttpClient.newHttpClient().send(HttpRequest.newBuilder(version)
                            .header("Authorization", "Basic " + basic).header("Origin", foreign).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertTrue(page.statusCode() == 403 || page.body().contains("\"status\":403"),
                            foreign + ": " + page.statusCode() + " " + page.body());
                }
                assertFalse(app.output().contains(env.get("ERPHUB_JOLOKIA_PASSWORD")), "the Jolokia password is never logged");
                assertFalse(app.output().contains("Hawtio console at"), "no embedded Hawtio console in prod");

                // Kafka goes away: this instance can take no work, and readiness says so (liveness stays UP).
                kafka.stop();
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).until(() -> HttpClient
                        .newHttpClient().send(HttpRequest.newBuilder(URI.create(app.url("/q/health/ready"))).build(),
                                HttpResponse.BodyHandlers.ofString()).statusCode() == 503);
                String down = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(app.url("/q/health/ready")))
                        .build(), HttpResponse.BodyHandlers.ofString()).body();
                assertEquals("DOWN", new JsonPath(down).getString("checks.find { it.name == 'erphub-kafka' }.status"), down);
                assertEquals("UP", new JsonPath(down).getString("checks.find { it.name == 'erphub-archive' }.status"), down);
                assertEquals(200, HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(app.url("/q/health/live")))
                        .build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            }
        } finally {
            kafka.stop();
            s3.stop();
            postgres.stop();
        }
    }

    /**
     * A management surface configured to listen beyond loopback without authentication stops the start, in the
     * profile the jar was built with as in any other: the process exits and says which setting to fix.
     */
    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
            "quarkus.camel.jolokia.server.host | 0.0.0.0         | the Jolokia agent would listen on 0",
            "quarkus.camel.jolokia.server.host | ::              | the Jolokia agent would listen on 0:0:0:0:0:0:0:0",
            "erphub.console.host               | 0.0.0.0         | the embedded Hawtio console would listen on 0.0.0.0",
            "erphub.jolokia.allowed-origins    | *               | erphub.jolokia.allowed-origins: '*' is not an origin",
    })
    void aManagementSurfaceExposedWithoutAuthenticationStopsTheStart(String setting, String value, String problem) {
        Path work = TestServers.scratchDir("exposed-");
        Map<String, String> props = new HashMap<>(Map.of(setting, value, "erphub.jolokia.enabled", "true",
                "quarkus.camel.jolokia.server.port", String.valueOf(TestServers.freePort()),
                "erphub.console.port", String.valueOf(TestServers.freePort())));
        if (setting.startsWith("erphub.console")) {
            props.put("erphub.console.enabled", "true");
        }
        try (PackagedApp app = PackagedApp.start(work, props)) {
            int exit = app.awaitExit(Duration.ofSeconds(60));
            assertTrue(exit != 0, "exit code " + exit);
            assertTrue(app.output().contains(problem), app.output());
            assertFalse(app.output().contains("Routes startup"), "no route started: " + app.output());
        }
    }
}
