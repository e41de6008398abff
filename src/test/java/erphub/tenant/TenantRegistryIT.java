package erphub.tenant;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

import erphub.testing.BesideTheApplication;
import erphub.testing.PackagedApp;
import erphub.testing.TestServers;

/**
 * The registry file of the packaged jar, as an operator meets it: {@code config/tenants.yaml} next to the jar's
 * working directory, credentials from environment variables. A registry with mistakes stops start-up with all
 * of them listed; a registry fixed while erphub runs is applied without a restart.
 */
@BesideTheApplication(seconds = 15)
class TenantRegistryIT {

    private static final Duration START = Duration.ofSeconds(60);

    /** Credentials of acme from the environment, as a Kubernetes Secret would give them. */
    private static final Map<String, String> ACME_SECRET_ENV = Map.of(
            "ERPHUB_CREDENTIALS_ACME_PAYROLL_CLIENT_ID", "acme-payroll",
            "ERPHUB_CREDENTIALS_ACME_PAYROLL_CLIENT_SECRET", "acme-env-secret-value");

    private static final String FIVE_MISTAKES = """
            tenants:
              - id: acme
                upstreams:
                  payroll-exports: {credential: acme-payroll}
              - id: acme
                upstreams:
                  payroll-exports: {credential: acme-payroll}
              - id: Globex
                upstreams: {supplier-invoices: }
              - id: initech
                upstreams:
                  payrol-exports: {credential: acme-payroll}
              - id: umbrella
                upstreams:
                  payroll-exports: {credential: umbrella-payroll}
                limits: {maxDeliveriesPerSecond: 0}
            """;

    @Test
    void aRegistryWithFiveMistakesStopsStartUpListingAllFive() throws Exception {
        Path work = TestServers.scratchDir("bad-registry-");
        Files.createDirectories(work.resolve("config"));
        Files.writeString(work.resolve("config/tenants.yaml"), FIVE_MISTAKES);
        // Archive only: no ERP API credentials to configure (with erp-api, each tenant also needs <id>-erp).
        Map<String, String> archiveOnly = Map.of("erphub.upstreams.payroll-exports.destinations", "none");
        try (PackagedApp app = PackagedApp.start(work, archiveOnly, ACME_SECRET_ENV)) {
            assertNotEquals(0, app.awaitExit(START));
            String output = app.output();
            assertTrue(output.contains("The tenant registry has 5 problems"), output);
            assertTrue(output.contains("config/tenants.yaml:5:5: tenants[1]: tenant id 'acme' is declared twice"), output);
            assertTrue(output.contains("config/tenants.yaml:8:9: tenants[2] (Globex): id 'Globex' is not a slug"), output);
            assertTrue(output.contains("config/tenants.yaml:12:7: tenants[3] (initech): unknown upstream 'payrol-exports'"), output);
            assertTrue(output.contains("config/tenants.yaml:15:37: tenants[4] (umbrella): credential 'umbrella-payroll' of"
                    + " upstream payroll-exports does not resolve"), output);
            assertTrue(output.contains("config/tenants.yaml:16:38: tenants[4] (umbrella).limits.maxDeliveriesPerSecond: 0 is"
                    + " out of range"), output);
            assertFalse(output.contains("acme-env-secret-value"), "the secret stays out of the output");
        }
    }

    @Test
    void aRegistryFixedWhileRunningIsAppliedWithoutARestart() throws Exception {
        Path work = TestServers.scratchDir("fixed-registry-");
        Files.createDirectories(work.resolve("config"));
        Path registry = work.resolve("config/tenants.yaml");
        Files.writeString(registry, """
                tenants:
                  - id: acme
                    upstreams: {payroll-exports: {credential: acme-payroll}}
                """);
        Map<String, String> fastReload = Map.of("erphub.tenants.reload-interval", "500",
                "erphub.upstreams.payroll-exports.destinations", "none");
        try (PackagedApp app = PackagedApp.start(work, fastReload, ACME_SECRET_ENV)) {
            app.awaitReady(START);
            assertTrue(health(app).contains("\"status\":\"UP\""), health(app));

            Files.writeString(registry, FIVE_MISTAKES);
            await().atMost(Duration.ofSeconds(20)).until(() -> health(app).contains("\"status\":\"DOWN\""));
            String rejected = health(app);
            assertFalse(rejected.contains("problems") || rejected.contains("acme") || rejected.contains("tenants.yaml"),
                    "the open health endpoint names no tenant, file or problem: " + rejected);
            assertTrue(app.output().contains("changed but is not applied; the 1 tenants in force stay"), app.output());
            assertTrue(get(app.url("/q/health/ready")).contains("\"UP\""), "a rejected registry does not cost readiness");

            Files.writeString(registry, """
                    tenants:
                      - id: acme
                        upstreams: {payroll-exports: {credential: acme-payroll}}
                      - id: globex
                        enabled: false
                        upstreams: {payroll-exports: {credential: acme-payroll}}
                    """);
            await().atMost(Duration.ofSeconds(20)).until(() -> health(app).contains("\"status\":\"UP\""));
            assertTrue(app.output().contains("Tenant registry config/tenants.yaml applied: 2 tenants (1 enabled); {globex=added}"),
                    app.output());
            assertFalse(app.output().contains("acme-env-secret-value"), "the secret stays out of the log");
        }
    }

    /** The erphub-tenant-registry check of /q/health/well, as compact JSON. */
    private static String health(PackagedApp app) throws Exception {
        java.util.Map<String, Object> check = new io.restassured.path.json.JsonPath(get(app.url("/q/health/well")))
                .getMap("checks.find { it.name == 'erphub-tenant-registry' }");
        return new io.vertx.core.json.JsonObject(check).encode();
    }

    private static String get(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
