package erphub.pipeline;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;

import erphub.state.FileKey;
import erphub.state.FileRecord;
import erphub.state.FileState;
import erphub.state.ClaimStore;
import erphub.state.FileLedger;
import erphub.state.LedgerQueries;
import erphub.state.StateDataSource;
import erphub.state.Transition;
import erphub.testing.ExampleUpstreams;
import erphub.testing.ExampleUpstreams.RemoteFile;
import erphub.testing.InjectTestServer;
import erphub.testing.TestRoutes;
import erphub.testing.TestTenants;
import erphub.testing.TokenRequests;
import erphub.testing.TokenSubjectPattern;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import no.nav.security.mock.oauth2.MockOAuth2Server;

/**
 * The two built-in example upstreams, 3 tenants x 200 files each, through LIST -> CLAIM -> DOWNLOAD ->
 * ARCHIVE against a real HTTP upstream and a real OAuth2 server, on H2. On PostgreSQL the same claims and
 * versions are FileStateStoreOnPostgresTest's, and the intake end to end is ProdTopologyIntakeIT's and
 * FanOutOnPostgresTest's. The methods build on each other, in order.
 */
@QuarkusTest
@TestProfile(FileIntakeTest.ThreeTenants.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
public class FileIntakeTest {

    static final List<String> TENANTS = List.of("acme", "globex", "initech");
    /** More than one page of 50 at each upstream: the list is followed across pages. */
    static final int FILES_PER_UPSTREAM = 60;
    static final String EXAMPLE_UPSTREAMS = " AND upstream IN ('payroll-exports', 'supplier-invoices')";

    /**
     * The three tenants on both example upstreams, and {@link IntakeFailuresTest}'s troublesome upstreams (same
     * application: one boot fewer in the suite; FileStateStoreTest and KubernetesManifestsTest run in it too): acme also on {@code flaky}, {@code broken} on {@code flaky} and
     * {@code flaky-token}, with short retries and timeouts. Each class counts only its own upstreams and clients.
     */
    public static class ThreeTenants implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            TestTenants registry = new TestTenants();
            for (String tenant : TENANTS) {
                Map<String, String> credentials = new HashMap<>(ExampleUpstreams.CREDENTIALS);
                if (tenant.equals(IntakeFailuresTest.TENANT)) {
                    credentials.put(IntakeFailuresTest.UPSTREAM, "flaky");
                }
                registry.tenant(tenant, credentials);
            }
            registry.tenant("broken", Map.of(IntakeFailuresTest.UPSTREAM, "flaky", "flaky-token", "flaky"));
            Map<String, String> config = new HashMap<>(ExampleUpstreams.tenantConfig(registry, "intake"));
            // The ledger's test route: FileStateStoreTest and KubernetesManifestsTest share this application too.
            config.putAll(TestRoutes.include("flaky-upstream", "flaky-token", "ledger"));
            config.put("erphub.tokens.retry-backoff", "PT0.05S");
            config.put("erphub.intake.max-redeliveries", "2");
            // IntakeFailuresTest's cases are about one file's failures; the upstream's circuit breaker has its own test.
            config.put("erphub.circuit-breaker.failure-threshold", "100");
            config.put("erphub.intake.redelivery-delay", "100");
            config.put("erphub.intake.max-redelivery-delay", "1000");
            config.put("erphub.intake.retry-after-cap", "PT1S");
            // Under IntakeFailuresTest's slow file (3 s): a timeout, retried, then dead-lettered.
            config.put("erphub.http.read-timeout", "1500");
            config.put("erphub.archive.uri", "file:target/test-data/archive-" + getClass().getSimpleName() + "?tempPrefix=.part-");
            return config;
        }

        @Override
        public List<TestResourceEntry> testResources() {
            return ExampleUpstreams.servers();
        }
    }

    @InjectTestServer
    WireMockServer upstream;

    @InjectTestServer
    MockOAuth2Server oauth2;

    @Inject
    LedgerQueries store;

    @Inject
    ClaimStore claims;

    @Inject
    FileLedger ledger;

    @Inject
    StateDataSource db;

    @ConfigProperty(name = "erphub.archive.uri")
    String archiveUri;

    static ExampleUpstreams upstreams;
    static long startedNanos;

    @Test
    @Order(1)
    void everyFileOfEveryTenantIsArchivedOnceByteIdenticalWithACompleteLedger() throws Exception {
        startedNanos = System.nanoTime();
        upstreams = new ExampleUpstreams(upstream).serve(TENANTS, FILES_PER_UPSTREAM);
        List<RemoteFile> files = upstreams.files();
        assertEquals(TENANTS.size() * 2 * FILES_PER_UPSTREAM, files.size());

        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .until(() -> countInState(FileState.ARCHIVED) == files.size());
        double seconds = (System.nanoTime() - startedNanos) / 1e9;
        System.out.printf("[%s] %d files archived in %.1f s: %.0f files/s%n", getClass().getSimpleName(),
                files.size(), seconds, files.size() / seconds);

        for (RemoteFile f : files) {
            FileRecord row = store.find(new FileKey(f.tenant(), f.upstream(), f.remoteId(), f.version())).orElseThrow();
            assertEquals(FileState.ARCHIVED, row.state(), f.toString());
            assertTrue(row.archiveKey().startsWith(f.tenant() + "/" + f.upstream() + "/"), row.archiveKey());
            assertArrayEquals(f.content(), Files.readAllBytes(archive().resolve(row.archiveKey())), f.toString());
            assertEquals(List.of(FileState.DISCOVERED, FileState.DOWNLOADED, FileState.ARCHIVED),
                    store.history(row.id()).stream().map(Transition::to).toList());
        }
        for (RemoteFile f : files) {
            String path = f.upstream().equals(ExampleUpstreams.PAYROLL) ? ExampleUpstreams.payrollContentPath(f.remoteId())
                    : ExampleUpstreams.invoiceContentPath(f.remoteId());
            upstream.verify(1, getRequestedFor(urlPathEqualTo(path)).withHeader("Authorization",
                    new TokenSubjectPattern(ExampleUpstreams.clientIdOf(f.tenant(), path))));
        }
    }

    @Test
    @Order(2)
    void onlyOneTokenRequestPerTenantCredentialForTheWholeRun() throws Exception {
        int tokenRequests = drainTokenRequests();
        System.out.printf("[%s] token requests for %d files: %d%n", getClass().getSimpleName(),
                upstreams.files().size(), tokenRequests);
        assertEquals(TENANTS.size() * 2, tokenRequests, "one per (tenant, credential)");
    }

    @Test
    @Order(2)
    void tokenRequestsAndCacheHitsAreCountedInTheMetrics() {
        String metrics = io.restassured.RestAssured.when().get("/q/metrics").then().statusCode(200).extract().asString();
        double issued = metric(metrics, "erphub_token_requests_total{outcome=\"issued\"}");
        double hits = metric(metrics, "erphub_token_cache_hits_total");
        // One per (tenant, credential): this class's, and acme's and broken's on IntakeFailuresTest's flaky upstream.
        assertEquals(TENANTS.size() * 2 + 2, issued, 0.0, metrics);
        assertTrue(hits >= TENANTS.size() * 2 * FILES_PER_UPSTREAM, "every download and list page after the first is a hit: " + hits);
        assertTrue(metric(metrics, "erphub_files_total{outcome=\"archived\",tenant=\"acme\",upstream=\"payroll-exports\"}")
                >= FILES_PER_UPSTREAM);
    }

    private static double metric(String exposition, String series) {
        return exposition.lines().filter(l -> l.startsWith(series + " "))
                .mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1).trim()))
                .findFirst().orElseThrow(() -> new AssertionError("no " + series + " in /q/metrics"));
    }

    @Test
    @Order(3)
    void aSecondPollClaimsNothing() {
        long rows = countAll();
        int listRequests = listRequests();
        await().atMost(Duration.ofSeconds(20)).until(() -> listRequests() >= listRequests + TENANTS.size() * 2);

        assertEquals(rows, countAll(), "no new ledger rows");
        upstream.verify(TENANTS.size() * 2 * FILES_PER_UPSTREAM,
                getRequestedFor(urlPathMatching("/(payroll/v2/exports/.*/content|invoices/api/documents/.*/binary)")));
    }

    @Test
    @Order(4)
    void aChangedVersionIsProcessedAgain() throws Exception {
        RemoteFile changed = upstreams.revise("globex", "exp-00007", "2");

        FileKey key = new FileKey("globex", ExampleUpstreams.PAYROLL, "exp-00007", "2");
        await().atMost(Duration.ofSeconds(20)).until(
                () -> store.find(key).map(r -> r.state() == FileState.ARCHIVED).orElse(false));
        FileRecord row = store.find(key).orElseThrow();
        assertArrayEquals(changed.content(), Files.readAllBytes(archive().resolve(row.archiveKey())));
        assertEquals(FileState.ARCHIVED,
                store.find(new FileKey("globex", ExampleUpstreams.PAYROLL, "exp-00007", "1")).orElseThrow().state());
    }

    @Test
    @Order(5)
    void anUpstream401DropsTheTokenAndRecoversWithExactlyOneRefresh() throws Exception {
        drainTokenRequests();
        String path = ExampleUpstreams.payrollContentPath("exp-00011");
        // The upstream stops accepting initech's current token once (as at a forced expiry), then accepts the new one.
        upstream.stubFor(get(urlPathEqualTo(path)).inScenario("expiry").whenScenarioStateIs(Scenario.STARTED)
                .withHeader("Authorization", new TokenSubjectPattern("initech-payroll"))
                .willReturn(aResponse().withStatus(401)).willSetStateTo("refreshed").atPriority(1));
        RemoteFile changed = upstreams.revise("initech", "exp-00011", "2");

        FileKey key = new FileKey("initech", ExampleUpstreams.PAYROLL, "exp-00011", "2");
        await().atMost(Duration.ofSeconds(20)).until(
                () -> store.find(key).map(r -> r.state() == FileState.ARCHIVED).orElse(false));
        assertArrayEquals(changed.content(), Files.readAllBytes(archive().resolve(store.find(key).orElseThrow().archiveKey())));
        assertEquals(1, drainTokenRequests(), "exactly one refresh");
    }

    private Path archive() {
        String path = archiveUri.substring("file:".length());
        return Path.of(path.contains("?") ? path.substring(0, path.indexOf('?')) : path);
    }

    private int listRequests() {
        return upstream.findAll(getRequestedFor(urlPathMatching("/(payroll/v2/tenants/.*/exports|invoices/api/documents)")))
                .size();
    }

    /** Token requests of this class's clients (IntakeFailuresTest's share the token server). */
    private int drainTokenRequests() {
        return TokenRequests.drain(oauth2, clientId -> TENANTS.stream().anyMatch(t -> clientId.equals(t + "-payroll")
                || clientId.equals(t + "-procurement")));
    }

    private long countInState(FileState state) throws Exception {
        return count("SELECT COUNT(*) FROM file_version WHERE state = '" + state.name() + "'" + EXAMPLE_UPSTREAMS);
    }

    private long countAll() {
        try {
            return count("SELECT COUNT(*) FROM file_version WHERE 1 = 1" + EXAMPLE_UPSTREAMS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private long count(String sql) throws Exception {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql);
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
