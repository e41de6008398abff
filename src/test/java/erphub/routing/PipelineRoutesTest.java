package erphub.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.apache.camel.builder.AdviceWith;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.quarkus.test.CamelQuarkusTestSupport;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import erphub.pipeline.ClaimedFile;
import erphub.state.Claim;
import erphub.state.ClaimStore;
import erphub.state.DeliveryLedger.DeliveryClaim;
import erphub.state.Fanout;
import erphub.state.FileKey;
import erphub.state.FileRecord;
import erphub.state.FileState;
import erphub.state.LedgerQueries;
import erphub.testing.RouteInspection;
import erphub.testing.TestRoutes;
import erphub.testing.TestTenants;
import erphub.tenant.TenantFairQueue;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * The routes' own logic, tested the Camel way (camel-quarkus-junit5: CamelQuarkusTestSupport, AdviceWith, MockEndpoint)
 * beside the end-to-end tests on real servers: the fan-out's recipient list, and the intake's answer to an open
 * circuit breaker. No upstream is reachable in this profile: nothing here may call one.
 */
@QuarkusTest
@TestProfile(PipelineRoutesTest.RoutesOnly.class)
class PipelineRoutesTest extends CamelQuarkusTestSupport {

    public static class RoutesOnly implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> config = new java.util.HashMap<>(TestRoutes.include());
            config.putAll(new TestTenants().tenant("acme", Map.of("payroll-exports", "payroll")).write("routes-only"));
            config.put("erphub.upstreams.payroll-exports.base-url", "http://127.0.0.1:9/payroll");
            config.put("erphub.upstreams.payroll-exports.token-url", "http://127.0.0.1:9/token");
            config.put("erphub.upstreams.supplier-invoices.base-url", "http://127.0.0.1:9/invoices");
            config.put("erphub.upstreams.supplier-invoices.token-url", "http://127.0.0.1:9/token");
            config.put("erphub.circuit-breaker.cool-down", "PT1S");
            config.put("erphub.upstreams.payroll-exports.destinations", "none");
            config.put("erphub.upstreams.supplier-invoices.destinations", "none");
            config.put("erphub.intake.redelivery-delay", "100");
            // Polls would only fail against port 9: none during this test.
            config.put("erphub.upstreams.payroll-exports.poll-interval", "3600000");
            config.put("erphub.upstreams.supplier-invoices.poll-cron", "0 0 0 1 1 ? 2099");
            return config;
        }
    }

    @Inject
    ClaimStore claims;

    @Inject
    LedgerQueries ledger;

    @Inject
    ObjectMapper json;

    /**
     * The test support gives the context its own shutdown timeout, 10 s, not the profile's: the circuit test's
     * download stays in flight (its token endpoint is port 9), and the suite's last 10 s went on waiting for it, idle.
     */
    PipelineRoutesTest() {
        camelContextConfiguration().withShutdownTimeout(1);
    }

    @Test
    void theFanOutSendsOneCopyToTheQueueOfEachOpenDeliveryAndNoneElsewhere() throws Exception {
        AdviceWith.adviceWith(context, "erphub-fan-out", route -> route.mockEndpointsAndSkip("seda:erphub-deliver-*"));
        context.getRouteController().startRoute("erphub-fan-out");
        MockEndpoint erp = getMockEndpoint("mock:seda:erphub-deliver-erp-api");
        MockEndpoint kafka = getMockEndpoint("mock:seda:erphub-deliver-kafka");
        MockEndpoint sftp = getMockEndpoint("mock:seda:erphub-deliver-sftp");
        erp.expectedMessageCount(1);
        erp.expectedHeaderReceived(TenantFairQueue.TENANT_HEADER, "acme");
        kafka.expectedMessageCount(1);
        sftp.expectedMessageCount(0);

        FileRecord file = new FileRecord(41, new FileKey("acme", "payroll-exports", "r-41", "1"), "a.csv", 3L, null,
                FileState.VALIDATED, 1, "n", null, "acme/payroll-exports/2026/11/30/41", null, Instant.now(), Instant.now(), null);
        template.sendBody("direct:erphub-fan-out",
                new Fanout(file, List.of(new DeliveryClaim(41, "erp-api", 1), new DeliveryClaim(41, "kafka", 1))));

        MockEndpoint.assertIsSatisfied(context, 5, TimeUnit.SECONDS);
    }

    @Test
    void aDownloadRefusedByAnOpenCircuitCallsNothingAndWaitsForTheProbeInsteadOfDyingEarly() throws Exception {
        FileKey key = new FileKey("acme", "payroll-exports", "while-open", "1");
        Claim claim = claims.claim(key, "while-open.csv", 10L, null, null).orElseThrow();
        ClaimedFile file = new ClaimedFile(claim.fileId(), claim.attempt(), "acme", "payroll-exports", "while-open", "1",
                "while-open.csv", 10L, null, "SHA-256", "http://127.0.0.1:9/payroll/while-open", 1000,
                LocalDate.now(ZoneOffset.UTC).toString(), null);
        RouteInspection routes = new RouteInspection();
        long httpCallsBefore = routes.exchanges("erphub-upstream-get", "toD");
        CircuitBreaker payrollBreaker = context.getRegistry().lookupByNameAndType("erphub-breaker-payroll-exports",
                CircuitBreaker.class);
        payrollBreaker.transitionToForcedOpenState();
        try {
            template.sendBodyAndHeader("{{erphub.intake.handoff-uri}}", json.writeValueAsString(file),
                    TenantFairQueue.TENANT_HEADER, "acme");
            // Refused twice by the breaker: the second time after a redelivery delay of (at least) the cool-down.
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
                    .until(() -> routes.describe("download-payroll-exports"),
                            described -> routes.exchanges("download-payroll-exports", "circuitBreaker") >= 2);
            FileRecord row = ledger.find(key).orElseThrow();
            assertEquals(FileState.DISCOVERED, row.state(), "still redelivered, not dead-lettered: " + row.reason());
            assertEquals(httpCallsBefore, routes.exchanges("erphub-upstream-get", "toD"),
                    "no call to the upstream while its circuit is open");
        } finally {
            payrollBreaker.transitionToClosedState();
        }
    }
}
