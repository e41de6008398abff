package erphub.pipeline;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;

import erphub.testing.BesideTheApplication;
import erphub.testing.ErpApiResource;
import erphub.testing.ErpApiResource.ErpApi;
import erphub.testing.ErpApiResource.Received;
import erphub.testing.PackagedApp;
import erphub.testing.OAuth2ServerResource;
import erphub.testing.PayrollFileServer;
import erphub.testing.PayrollFileServer.GeneratedFile;
import erphub.testing.PrometheusText;
import erphub.testing.TestServers;
import erphub.testing.TestTenants;
import no.nav.security.mock.oauth2.MockOAuth2Server;

/**
 * Retries that keep their promise and a circuit breaker per upstream, against a real HTTP upstream that fails on
 * purpose (503 with {@code Retry-After: 1}), a real token server and a real ERP API: a file whose download fails
 * for 10 s is delivered once it recovers, an upstream that is down costs one call per cool-down (not one per
 * file and retry) and its breaker closes by itself, and 30 % failures on both sides deliver every file exactly once.
 * The 10 s of the recovering file (another tenant's, spared the random failures) pass while the five fault runs
 * go on, so the class waits for them once. The packaged jar (embedded default, its own H2 ledger) runs it: the
 * ledger is read through the management API, with a token from the same issuer.
 */
@BesideTheApplication(seconds = 75)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UpstreamResilienceIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    static final List<String> TENANTS = List.of("acme", "globex", "initech");
    static final Duration COOL_DOWN = Duration.ofSeconds(4);
    static final String UPSTREAM = "payroll-exports";
    /**
     * Its one file's download answers 503 for 10 s, with {@code Retry-After: 1}. This class caps the backoff at
     * {@link #MAX_BACKOFF} (the defaults' 60 s and 300 s only stretch the random failures' tail, two minutes of
     * this test): eight redeliveries then wait 1 + 2 + 2 + ... = 15 s, which outlasts the 10 s. Retry-After taken as
     * the delay instead of combined with the backoff gave up after about five seconds.
     */
    static final String RECOVERING_TENANT = "hooli";
    static final Duration RECOVERING_FOR = Duration.ofSeconds(10);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(2);
    /**
     * Then the ERP refuses the file this often: the download's five or six redeliveries must not count against the
     * ERP delivery's own eight (they did, through the exchange's redelivery headers, and this file ended DEAD).
     */
    static final int ERP_REFUSALS = 4;
    static final String ISSUER = "erphub";
    static GeneratedFile recovering;
    static Instant recoveringSince;

    private static PayrollFileServer upstream;
    private static ErpApiResource erpServer;
    private static ErpApi erp;
    private static MockOAuth2Server oauth2;
    private static PackagedApp app;
    private static String admin;

    /**
     * The servers and the packaged jar, once for the class: the recovering file's 10 s pass while the fault runs go
     * on, and the breaker's state carries from one case to the next as it would in production.
     */
    @BeforeAll
    static void startServersAndErphub() throws Exception {
        upstream = new PayrollFileServer();
        oauth2 = new MockOAuth2Server();
        oauth2.start(InetAddress.getByName(TestServers.LOOPBACK), TestServers.freePort());
        erpServer = new ErpApiResource();
        erpServer.init(Map.of("erphub.destinations.erp-api.base-url", ""));
        Map<String, String> config = new HashMap<>(erpServer.start());
        erp = erpServer.api();

        TestTenants registry = new TestTenants();
        Stream.concat(TENANTS.stream(), Stream.of(RECOVERING_TENANT)).forEach(
                t -> registry.tenant(t, Map.of(UPSTREAM, "payroll")).client(t + "-erp", "erp-secret-" + t));
        config.putAll(registry.write("resilience"));
        String tokenUrl = oauth2.tokenEndpointUrl(ISSUER).toString();
        config.put("erphub.upstreams.payroll-exports.base-url", upstream.baseUrl());
        config.put("erphub.upstreams.payroll-exports.token-url", tokenUrl);
        config.put("erphub.upstreams.payroll-exports.poll-interval", "1000");
        config.put("erphub.upstreams.payroll-exports.destinations", "erp-api");
        config.put("erphub.upstreams.supplier-invoices.base-url", "http://127.0.0.1:9/unused");
        config.put("erphub.upstreams.supplier-invoices.token-url", "http://127.0.0.1:9/unused");
        config.put("erphub.destinations.erp-api.token-url", tokenUrl);
        config.put("erphub.circuit-breaker.cool-down", COOL_DOWN.toString());
        config.put("erphub.intake.max-redelivery-delay", String.valueOf(MAX_BACKOFF.toMillis()));
        config.put("erphub.destinations.erp-api.max-redelivery-delay", String.valueOf(MAX_BACKOFF.toMillis()));
        Map<String, String> environment = OAuth2ServerResource.apiEnvironment(oauth2, ISSUER);
        admin = oauth2.issueToken(ISSUER, "ops-erin", "erphub-api", Map.of("groups", List.of("erphub-admin")), 3600)
                .serialize();
        app = PackagedApp.start(TestServers.scratchDir("resilience-"), config, environment);
        app.awaitReady(Duration.ofSeconds(90));
    }

    @AfterAll
    static void stopErphubAndServers() {
        if (app != null) {
            app.close();
        }
        if (upstream != null) {
            upstream.close();
        }
        if (erpServer != null) {
            erpServer.stop();
        }
        if (oauth2 != null) {
            oauth2.shutdown();
        }
    }

        @Test
    @Order(1)
    void thirtyPercentFailuresAtTheUpstreamAndTheErpDeliverEveryFileExactlyOnceFiveRunsInARow() {
        recovering(); // its 10 s pass meanwhile (the next test checks it); the random failures spare its tenant
        upstream.failureRate(0.3, TENANTS);
        erp.failureRate(0.3);
        erp.retryAfter(1);
        try {
            for (int run = 1; run <= 5; run++) {
                Instant started = Instant.now();
                List<GeneratedFile> batch = new ArrayList<>();
                for (String tenant : TENANTS) {
                    for (int i = 0; i < 8; i++) {
                        batch.add(upstream.add(tenant, "run" + run + "-" + tenant + "-" + i, 500 + 97L * i));
                    }
                }
                awaitDelivered(batch, Duration.ofMinutes(3));
                Map<String, Row> ledger = rows(Set.copyOf(TENANTS));
                for (GeneratedFile f : batch) {
                    List<Received> got = accepted(f);
                    assertEquals(1, got.size(), f + " accepted " + got.size() + " times");
                    assertEquals(f.sha256(), got.get(0).sha256(), f.toString());
                    Row row = Optional.ofNullable(ledger.get(key(f))).orElseThrow(() -> new AssertionError(f + " has no row"));
                    assertEquals(f.sha256(), row.checksum(), "the ledger's SHA-256 of " + f);
                }
                System.out.printf("[%s] run %d: %d files through 30%% upstream and 30%% ERP failures in %.1f s%n",
                        getClass().getSimpleName(), run, batch.size(),
                        Duration.between(started, Instant.now()).toMillis() / 1000.0);
            }
            assertTrue(erp.received().stream().anyMatch(r -> r.status() == 503), "the ERP did fail requests");
        } finally {
            upstream.failureRate(0);
            erp.failureRate(0);
        }
    }

    @Test
    @Order(2)
    void aDownloadAnswering503WithRetryAfterOneForTenSecondsIsDeliveredOnceItRecovers() {
        GeneratedFile file = recovering();

        awaitDelivered(List.of(file), Duration.ofMinutes(3));

        assertTrue(Duration.between(recoveringSince, Instant.now()).compareTo(RECOVERING_FOR) >= 0,
                "it did fail for " + RECOVERING_FOR.toSeconds() + " s");
        // At least its first attempt met the 503s; later ones may not reach the server at all: the previous test's
        // 30 % failures, now with tenants listed 8 at a time, can hold the upstream's shared circuit open meanwhile.
        assertTrue(upstream.failures(RECOVERING_TENANT) >= 1,
                "failed first: " + upstream.failures(RECOVERING_TENANT) + " answers 503");
        assertEquals(1, upstream.downloads(file.id()), "downloaded whole once it recovered");
        assertEquals(1, accepted(file).size(), "delivered once");
        assertEquals(file.sha256(), accepted(file).get(0).sha256());
        String key = accepted(file).get(0).idempotencyKey();
        long refused = erp.received().stream().filter(r -> key.equals(r.idempotencyKey()) && r.status() == 503).count();
        assertTrue(refused >= ERP_REFUSALS, "the ERP refused it " + refused + " times first");
    }

    /** The recovering tenant's file, whose downloads fail for {@link #RECOVERING_FOR} from the first; added once. */
    private synchronized GeneratedFile recovering() {
        if (recovering == null) {
            recovering = upstream.add(RECOVERING_TENANT, "recovering-1", 3000);
            upstream.failDownloadFor(recovering.id(), RECOVERING_FOR);
            erp.failFirst(RECOVERING_TENANT, ERP_REFUSALS);
            recoveringSince = Instant.now();
        }
        return recovering;
    }

    @Test
    @Order(3)
    void anUpstreamThatIsDownCostsOneCallPerCoolDownPerTenantAndItsBreakerClosesByItself() {
        // Three cool-downs: a breaker that does not hold would let every 1 s tick call (and retry) instead.
        Duration outage = COOL_DOWN.multipliedBy(3);
        upstream.resetCounts();
        upstream.downFor(outage);
        Instant end = Instant.now().plus(outage);
        List<GeneratedFile> files = TENANTS.stream().map(t -> upstream.add(t, "after-outage-" + t, 1000)).toList();
        AtomicBoolean sawOpen = new AtomicBoolean();
        await().atMost(outage.plusSeconds(5)).pollInterval(Duration.ofMillis(500)).until(() -> {
            sawOpen.compareAndSet(false, "OPEN".equals(circuit()));
            return Instant.now().isAfter(end);
        });
        Map<String, Integer> failed = TENANTS.stream().collect(Collectors.toMap(t -> t, upstream::failures));
        long bound = outage.toMillis() / COOL_DOWN.toMillis() + 1;
        System.out.printf("[%s] calls per tenant during a %d s outage (cool-down %d s, bound %d): %s%n",
                getClass().getSimpleName(), outage.toSeconds(), COOL_DOWN.toSeconds(), bound, failed);
        assertTrue(sawOpen.get(), "the circuit opened during the outage (metrics)");
        failed.forEach((tenant, calls) -> assertTrue(calls <= bound, tenant + " was called " + calls + " times"));

        awaitDelivered(files, Duration.ofSeconds(60));
        await().atMost(COOL_DOWN.multipliedBy(3)).until(() -> "CLOSED".equals(circuit()));
    }

    /**
     * One tenant's listing takes 5 s under a 1 s poll interval (every tenant's listing waits for it: one tick lists
     * them one after the other). The ticks that came late meanwhile are skipped, not fired back to back after it:
     * another tenant sees about one list call a second right after (Quartz's default 60 s misfire threshold fired
     * the five late ticks at once).
     */
    @Test
    @Order(4)
    void aListingThatOverrunsTheIntervalIsFollowedByTheNextTickNotByTheLateOnesAtOnce() throws Exception {
        upstream.slowNextList("initech", Duration.ofSeconds(5));
        assertTrue(upstream.awaitSlowListAnswered(Duration.ofSeconds(20)), "the slow listing happened");
        upstream.resetCounts();
        long started = System.nanoTime();
        Thread.sleep(3000);
        double seconds = (System.nanoTime() - started) / 1e9;
        int calls = upstream.requests("acme");
        System.out.printf("[%s] list calls of another tenant in the %.1f s after a 5 s listing (1 s interval): %d%n",
                getClass().getSimpleName(), seconds, calls);
        assertTrue(calls <= seconds + 2, calls + " list calls in " + seconds + " s: the late ticks fired at once");
    }

    private void awaitDelivered(List<GeneratedFile> files, Duration atMost) {
        Set<String> tenants = files.stream().map(GeneratedFile::tenant).collect(Collectors.toSet());
        await().atMost(atMost).pollInterval(Duration.ofMillis(250)).until(() -> {
            Map<String, Row> rows = rows(tenants);
            return files.stream().allMatch(f -> {
                Row row = rows.get(key(f));
                if (row != null && ("DEAD_LETTERED".equals(row.state()) || "REJECTED".equals(row.state()))) {
                    throw new AssertionError(f + " ended " + row.state() + ": " + row.reason());
                }
                return row != null && "DELIVERED".equals(row.state());
            });
        });
    }

    private List<Received> accepted(GeneratedFile f) {
        String key = String.join(":", f.tenant(), UPSTREAM, f.id(), "1", "erp-api");
        return erp.accepted().stream().filter(r -> key.equals(r.idempotencyKey())).toList();
    }

    private static String key(GeneratedFile f) {
        return f.tenant() + "/" + f.id() + "/1";
    }

    /** One row of the ledger as {@code GET /api/files} shows it. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Row(String tenant, String remoteId, String version, String state, String reason, String checksum) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Page(List<Row> items, String next) {
    }

    /** The ledger's rows of these tenants' payroll files, by tenant/remote id/version, read through the API. */
    private static Map<String, Row> rows(Set<String> tenants) {
        Map<String, Row> rows = new HashMap<>();
        for (String tenant : tenants) {
            String cursor = null;
            do {
                Page page = page(get("/api/files?upstream=" + UPSTREAM + "&tenant=" + tenant + "&limit=1000"
                        + (cursor == null ? "" : "&cursor=" + URLEncoder.encode(cursor, StandardCharsets.UTF_8)), admin));
                page.items().forEach(r -> rows.put(r.tenant() + "/" + r.remoteId() + "/" + r.version(), r));
                cursor = page.next();
            } while (cursor != null);
        }
        return rows;
    }

    private static Page page(String json) {
        try {
            return JSON.readValue(json, Page.class);
        } catch (IOException e) {
            throw new AssertionError("not a page of files: " + json, e);
        }
    }

    /** The body of a GET of the app's path; anything but 200 fails the test. */
    private static String get(String path, String token) {
        HttpResponse<String> response = app.get(path, token);
        if (response.statusCode() != 200) {
            throw new AssertionError("GET " + path + " answered " + response.statusCode() + ": " + response.body());
        }
        return response.body();
    }

    /** The upstream's circuit as /q/metrics shows it (erphub_upstream_breaker_state: 0 closed, 1 half-open, 2 open). */
    private static String circuit() {
        double state = PrometheusText.sum(get("/q/metrics", null), "erphub_upstream_breaker_state",
                "upstream=\"" + UPSTREAM + "\"");
        return state == 2 ? "OPEN" : state == 1 ? "HALF_OPEN" : "CLOSED";
    }
}
