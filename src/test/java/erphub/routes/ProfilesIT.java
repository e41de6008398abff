package erphub.routes;

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
import java.util.Map;

import org.junit.jupiter.api.Test;

import erphub.testing.PackagedApp;
import erphub.testing.PostgresResource;
import erphub.testing.TestServers;

/** The one packaged jar serves both profiles: the embedded default, and prod configured by environment. */
class ProfilesIT {

    @Test
    void prodProfileRunsOnPostgresqlConfiguredByEnvironmentVariables() throws Exception {
        PostgresResource postgres = new PostgresResource();
        Map<String, String> db = postgres.start();
        try {
            Path work = TestServers.scratchDir("prod-");
            Map<String, String> env = Map.of(
                    "QUARKUS_PROFILE", "prod",
                    "ERPHUB_DB_URL", db.get("quarkus.datasource.\"postgresql\".jdbc.url"),
                    "ERPHUB_DB_USER", "postgres",
                    "ERPHUB_DB_PASSWORD", "unused-with-trust-auth",
                    "ERPHUB_JOLOKIA_PASSWORD", "jolokia-in-prod-" + System.nanoTime());
            int jolokia = TestServers.freePort();
            Map<String, String> props = new HashMap<>(PackagedApp.SANDBOX_AS_THE_PROFILE_SAYS);
            props.put("quarkus.camel.jolokia.server.auto-start", "true");
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

                // Route inspection in prod: Jolokia answers only with the Secret's credentials; no embedded console.
                URI version = URI.create("http://127.0.0.1:" + jolokia + "/jolokia/version");
                HttpResponse<String> anonymous = HttpClient.newHttpClient().send(HttpRequest.newBuilder(version).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(401, anonymous.statusCode(), anonymous.body());
                String basic = Base64.getEncoder().encodeToString(
                        ("hawtio:" + env.get("ERPHUB_JOLOKIA_PASSWORD")).getBytes(StandardCharsets.UTF_8));
                HttpResponse<String> operator = HttpClient.newHttpClient().send(HttpRequest.newBuilder(version)
                        .header("Authorization", "Basic " + basic).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, operator.statusCode(), operator.body());
                assertTrue(operator.body().contains("\"agent\""), operator.body());
                assertFalse(app.output().contains(env.get("ERPHUB_JOLOKIA_PASSWORD")), "the Jolokia password is never logged");
                assertFalse(app.output().contains("Hawtio console at"), "no embedded Hawtio console in prod");
            }
        } finally {
            postgres.stop();
        }
    }
}
