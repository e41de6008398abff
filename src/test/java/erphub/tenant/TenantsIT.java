package erphub.tenant;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;

import erphub.testing.BesideTheApplication;
import erphub.testing.ExampleUpstreams;
import erphub.testing.ExampleUpstreams.RemoteFile;
import erphub.testing.PackagedApp;
import erphub.testing.OAuth2ServerResource;
import erphub.testing.ServersBesideTheApp;
import erphub.testing.SftpServerResource;
import erphub.testing.SftpServerResource.SftpServer;
import erphub.testing.TestServers;
import erphub.testing.TestTenants;
import io.quarkus.test.junit.QuarkusTestProfile.TestResourceEntry;
import no.nav.security.mock.oauth2.MockOAuth2Server;

/**
 * The tenant registry at work, with the real pipeline: 250 tenants loaded at start, a large tenant's backlog
 * not starving a small one, tenants with colliding remote ids and file names kept apart, tenants added,
 * disabled and a broken registry rejected while erphub runs, and no secret in the log of the whole run.
 * Servers: WireMock upstream, OAuth2 server, MINA SSHD; the archive is a local folder, the ledger H2. The packaged jar
 * runs it (embedded default) beside the {@code @QuarkusTest} classes; the ledger is read over H2's automatic mixed
 * mode (the app serves its database file to this JVM), the registry and health through the management API.
 */
@BesideTheApplication(seconds = 90)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TenantsIT {

    static final String REGISTRY_NAME = "tenants-it";
    static final Path REGISTRY = Path.of("target", "test-registries", REGISTRY_NAME + ".yaml").toAbsolutePath();
    static final Path LOG = Path.of("target", "test-logs", "tenants-it.log").toAbsolutePath();
    static final Path ARCHIVE = Path.of("target", "test-data", "archive-tenants-it").toAbsolutePath();
    static final String ISSUER = "erphub";
    private static final ObjectMapper JSON = new ObjectMapper();
    static final int FILLERS = 246;
    static final String PAYROLL = ExampleUpstreams.PAYROLL;
    static final String INVOICES = ExampleUpstreams.INVOICES;

    /** big and small share payroll-exports (to the in-process Kafka bus); the twins and fillers supplier-invoices (SFTP). */
    static TestTenants registry(boolean withLate, boolean lateEnabled) {
        TestTenants r = new TestTenants()
                .entry("- id: big\n  upstreams: {payroll-exports: }\n  limits: {maxConcurrentDownloads: 2}")
                .entry("- id: small\n  upstreams: {payroll-exports: }")
                .entry("- id: twin-a\n  upstreams: {supplier-invoices: }")
                .entry("- id: twin-b\n  name: Twin B\n  upstreams: {supplier-invoices: }\n  destinations: {sftp: {folder: b-drop}}");
        for (int i = 0; i < FILLERS; i++) {
            r.entry(String.format("- id: filler-%03d%n  upstreams: {supplier-invoices: }", i));
        }
        if (withLate) {
            r.entry("- id: late\n  enabled: " + lateEnabled + "\n  upstreams: {payroll-exports: {credential: late-onboarded}}");
        }
        return r;
    }

    static List<String> secrets() {
        List<String> all = new ArrayList<>(List.of("secret-payroll-big", "secret-payroll-small", "secret-procurement-twin-a",
                "secret-procurement-twin-b", "late-onboarded-secret", SftpServerResource.PASSWORD));
        IntStream.range(0, FILLERS).forEach(i -> all.add(String.format("secret-procurement-filler-%03d", i)));
        return all;
    }

    /** The configuration the packaged jar starts with, besides the servers' own. */
    static Map<String, String> config() {
        TestTenants tenants = registry(false, false);
        // The secrets exist before the tenant is onboarded, as a Kubernetes Secret would.
        // late's client is late-payroll (the upstream serves each tenant's bytes to its own client), under a
        // reference of another name, as an operator may choose.
        tenants.config("erphub.credentials.late-onboarded.client-id", "late-payroll")
                .config("erphub.credentials.late-onboarded.client-secret", "late-onboarded-secret");
        for (String t : List.of("big", "small")) {
            tenants.client(t + "-payroll", "secret-payroll-" + t);
        }
        for (String t : List.of("twin-a", "twin-b")) {
            tenants.client(t + "-procurement", "secret-procurement-" + t);
        }
        IntStream.range(0, FILLERS).forEach(i -> tenants.client(String.format("filler-%03d-procurement", i),
                String.format("secret-procurement-filler-%03d", i)));
        Map<String, String> config = new HashMap<>(tenants.write(REGISTRY_NAME));
        config.put("erphub.upstreams.payroll-exports.poll-interval", "1000");
        config.put("erphub.upstreams.supplier-invoices.poll-cron", "0/2 * * * * ?");
        // payroll-exports to the in-process Kafka stand-in (a seda queue), supplier-invoices over SFTP.
        config.put("erphub.upstreams.payroll-exports.destinations", "kafka");
        config.put("erphub.upstreams.supplier-invoices.destinations", "sftp");
        config.put("erphub.tenants.reload-interval", "500");
        // aPollListsSeveralTenantsAtOnceAndNoMoreThanTheNodeAllows
        config.put("erphub.intake.listing-concurrency", "4");
        config.put("erphub.intake.node-listing-concurrency", "3");
        config.put("erphub.archive.uri", "file:" + ARCHIVE + "?tempPrefix=.part-");
        config.putAll(SftpServerResource.asDestination());
        config.put("quarkus.log.file.enabled", "true");
        config.put("quarkus.log.file.path", LOG.toString());
        return config;
    }

    static ServersBesideTheApp servers;
    static WireMockServer upstream;
    static SftpServer sftp;
    static PackagedApp app;
    static String jdbcUrl;
    static String admin;
    static ExampleUpstreams upstreams;

    @BeforeAll
    static void startServersAndErphub() throws Exception {
        List<TestResourceEntry> entries = new ArrayList<>(ExampleUpstreams.servers());
        entries.add(new TestResourceEntry(SftpServerResource.class));
        servers = ServersBesideTheApp.start(entries);
        Map<String, String> config = new HashMap<>(servers.config());
        upstream = servers.get(WireMockServer.class);
        sftp = servers.get(SftpServer.class);
        MockOAuth2Server oauth2 = servers.get(MockOAuth2Server.class);
        config.putAll(config());
        Path work = TestServers.scratchDir("tenants-");
        // H2's automatic mixed mode: the app opens the file and serves it; this JVM's connections reach it over TCP.
        jdbcUrl = "jdbc:h2:file:" + work.resolve("data/state/erphub").toAbsolutePath()
                + ";AUTO_SERVER=TRUE;WRITE_DELAY=0";
        config.put("quarkus.datasource.\"h2\".jdbc.url", jdbcUrl);
        Map<String, String> environment = OAuth2ServerResource.apiEnvironment(oauth2, ISSUER);
        admin = oauth2.issueToken(ISSUER, "ops-tess", "erphub-api", Map.of("groups", List.of("erphub-admin")), 3600)
                .serialize();
        app = PackagedApp.start(work, config, environment);
        app.awaitReady(Duration.ofSeconds(120));
    }

    @AfterAll
    static void stopErphubAndServers() {
        if (app != null) {
            app.close();
        }
        if (servers != null) {
            servers.close();
        }
    }

    @Test
    @Order(1)
    void aRegistryOf250TenantsIsInForceFromTheStart() {
        upstreams = new ExampleUpstreams(upstream);
        // The fillers' lists are empty: they are polled like any tenant and have nothing new.
        upstream.stubFor(get(urlPathEqualTo("/invoices/api/documents")).atPriority(10).willReturn(aResponse()
                .withHeader("Content-Type", "application/json").withBody("{\"page\":1,\"items\":[]}")));
        assertEquals(250, tenantViews().size());
        assertEquals(248, subscribed(INVOICES).size());
        assertEquals(List.of("big", "small"), subscribed(PAYROLL));
        assertEquals("b-drop", tenantView("twin-b").get("sftpFolder"));
        assertEquals(2, maxConcurrentDownloads("big"));
        assertEquals(4, maxConcurrentDownloads("small"), "the default");
        Map<String, Object> health = registryHealth();
        assertEquals("UP", health.get("status"));
        assertEquals(null, health.get("data"), "tenant ids and counts are behind the API, not on the open health endpoint");
    }

    @Test
    @Order(2)
    void aSmallTenantIsDeliveredBeforeALargeTenantsBacklogIsHalfDone() throws Exception {
        // Every answer of the upstream takes 10 ms, as across a network: big's two downloads at a time then drain at
        // most ~200 files a second. On loopback the packaged jar drained three quarters of the backlog before the
        // small tenant's next poll had listed its files, and the test no longer tested a backlog.
        upstream.setGlobalFixedDelay(10);
        List<RemoteFile> backlog;
        List<RemoteFile> few;
        try {
            backlog = upstreams.serveMorePayroll(List.of("big"), "bulk", 3000);
            await().atMost(Duration.ofMinutes(2)).until(() -> count("big", null) == backlog.size());
            few = upstreams.serveMorePayroll(List.of("small"), "few", 30);
            await().atMost(Duration.ofMinutes(2)).until(() -> count("small", "DELIVERED") == few.size());
        } finally {
            upstream.setGlobalFixedDelay(0);
        }

        // The ledger in sequence: from the moment the small tenant's first file was claimed (its poll listed it) to
        // its last delivery, how many of the big tenant's files were delivered, against how many of them were still
        // waiting then. Behind a first-come queue the small tenant would wait for all of those; a fair one interleaves.
        // (Counting big's deliveries from the start instead made the outcome depend on how fast big drained while the
        // small tenant waited for its next poll: a faster upstream made that figure grow without anything unfair.)
        List<String[]> ledger = new ArrayList<>();
        try (Connection c = ledger(); PreparedStatement s = c.prepareStatement(
                "SELECT v.tenant, t.to_state FROM file_transition t JOIN file_version v ON v.id = t.file_id"
                        + " WHERE (v.tenant = 'big' AND v.remote_id LIKE 'bulk-%' OR v.tenant = 'small' AND v.remote_id LIKE 'few-%')"
                        + " AND t.to_state IN ('DISCOVERED', 'DELIVERED') ORDER BY t.id");
                ResultSet rows = s.executeQuery()) {
            while (rows.next()) {
                ledger.add(new String[] { rows.getString(1), rows.getString(2) });
            }
        }
        int smallListed = indexOf(ledger, "small", "DISCOVERED", false);
        int smallDone = indexOf(ledger, "small", "DELIVERED", true);
        long bigDeliveredBefore = ledger.subList(0, smallListed).stream()
                .filter(e -> e[0].equals("big") && e[1].equals("DELIVERED")).count();
        long bigWaiting = backlog.size() - bigDeliveredBefore;
        long bigMeanwhile = ledger.subList(smallListed, smallDone).stream()
                .filter(e -> e[0].equals("big") && e[1].equals("DELIVERED")).count();
        System.out.printf("[TenantsIT] small's 30 files were listed with %d of big's %d files waiting and delivered"
                + " after %d of them%n", bigWaiting, backlog.size(), bigMeanwhile);
        assertTrue(bigWaiting >= backlog.size() / 4,
                "only " + bigWaiting + " of big's files were left when small's were listed: the test no longer tests a backlog");
        assertTrue(bigMeanwhile < bigWaiting / 2, "small waited for " + bigMeanwhile + " of big's " + bigWaiting + " waiting files");
        for (RemoteFile f : few) {
            assertEquals("DELIVERED", record(f).state());
        }
    }

    @Test
    @Order(3)
    void tenantsWithCollidingIdsAndNamesGetOnlyTheirOwnBytes() throws Exception {
        List<String> twins = List.of("twin-a", "twin-b");
        List<RemoteFile> served = upstreams.serve(twins, 10).files().stream()
                .filter(f -> twins.contains(f.tenant()) && f.upstream().equals(INVOICES)).toList();
        assertEquals(20, served.size());
        await().atMost(Duration.ofMinutes(2)).until(() -> count("twin-a", "DELIVERED") == 10
                && count("twin-b", "DELIVERED") == 10);
        for (RemoteFile f : served) {
            RemoteFile twin = served.stream().filter(o -> !o.tenant().equals(f.tenant())
                    && o.remoteId().equals(f.remoteId())).findFirst().orElseThrow();
            assertEquals(twin.name(), f.name(), "same remote id and file name in both tenants");
            assertFalse(java.util.Arrays.equals(twin.content(), f.content()));
            String folder = f.tenant().equals("twin-b") ? "b-drop" : "twin-a";
            assertArrayEquals(f.content(), Files.readAllBytes(sftp.root().resolve(folder).resolve(INVOICES).resolve(f.name())));
            Row r = record(f);
            assertTrue(r.archiveKey().startsWith(f.tenant() + "/" + INVOICES + "/"), r.archiveKey());
            assertArrayEquals(f.content(), Files.readAllBytes(ARCHIVE.resolve(r.archiveKey())));
        }
    }

    /**
     * Replaces the registry file in one step, as Kubernetes swaps a mounted ConfigMap: written in place, the
     * reloader could read it half-written (it rejects that and reads it again on its next tick, but the test
     * would see the half-written file's problem first).
     */
    private static void writeRegistry(String yaml) throws java.io.IOException {
        java.nio.file.Path next = REGISTRY.resolveSibling(REGISTRY.getFileName() + ".next");
        Files.writeString(next, yaml, StandardCharsets.UTF_8);
        Files.move(next, REGISTRY, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    @Order(4)
    void aTenantAddedWhileRunningIsPolledAndDeliveredOnTheNextCycle() throws Exception {
        List<RemoteFile> lateFiles = upstreams.serveMorePayroll(List.of("late"), "first", 5);
        writeRegistry(registry(true, true).yaml());
        await().atMost(Duration.ofSeconds(30)).until(() -> count("late", "DELIVERED") == 5);
        assertEquals(251, tenantViews().size());
        for (RemoteFile f : lateFiles) {
            assertEquals("DELIVERED", record(f).state());
        }
    }

    @Test
    @Order(5)
    void aBrokenRegistryIsRejectedAndTheTenantsInForceStay() throws Exception {
        String broken = registry(true, true).yaml().replace("- id: small\n    upstreams: {payroll-exports: }",
                "- id: small\n    upstreams: {payroll-export: }");
        assertTrue(!broken.equals(registry(true, true).yaml()));
        writeRegistry(broken);
        await().atMost(Duration.ofSeconds(30)).until(() -> "DOWN".equals(registryHealth().get("status")));
        assertEquals(null, registryHealth().get("data"), "the problems are for operators (GET /api/health), not strangers");
        String problems = String.valueOf(registryCheckForOperators().get("problems"));
        assertTrue(problems.contains("unknown upstream 'payroll-export'"), problems);
        assertTrue(problems.contains(REGISTRY + ":"), "the problem names the file and line: " + problems);
        assertEquals(List.of("big", "late", "small"), subscribed(PAYROLL), "the tenants in force stay");
    }

    @Test
    @Order(6)
    void aDisabledTenantGetsNoNewClaims() throws Exception {
        writeRegistry(registry(true, false).yaml());
        await().atMost(Duration.ofSeconds(30)).until(() -> "UP".equals(registryHealth().get("status"))
                && !subscribed(PAYROLL).contains("late"));
        upstreams.serveMorePayroll(List.of("late"), "second", 5);
        // Three polls of payroll-exports later (small's poll record moves on), late still has only its first five.
        for (int cycle = 0; cycle < 3; cycle++) {
            Instant before = lastPollStarted(PAYROLL, "small");
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> lastPollStarted(PAYROLL, "small").isAfter(before));
        }
        assertEquals(5, count("late", null));
    }

    @Test
    @Order(7)
    void theLogOfTheWholeRunHoldsNoSecret() throws Exception {
        String log = Files.readString(LOG, StandardCharsets.UTF_8);
        assertTrue(log.contains("Tenant registry") && log.contains("{late=added}"), "the log file captured the run");
        for (String secret : secrets()) {
            assertFalse(log.contains(secret), "a secret is in the log: " + secret.substring(0, 4) + "...");
        }
    }

    /**
     * A poll lists several tenants at once, and no more than the node's {@code erphub.intake.node-listing-concurrency}
     * (3 here) even where the poll's own {@code erphub.intake.listing-concurrency} (4) allows more: with every answer
     * of the upstream taking 300 ms, as across a WAN, 246 fillers one after the other would take 74 s a cycle. Read
     * from the upstream's request log: a list request was in flight at least from its arrival to the end of the delay
     * WireMock added to its answer (less than its whole time in flight, so the count can only come out low, never high).
     * Counting the requests that arrived less than 300 ms apart instead failed once (4): a request answered without the
     * delay (one matched before the delay was set but logged in the same millisecond, or one no stub matches, which
     * WireMock answers at once) frees its slot for another within the window. (A poll's own limit, below the node's, is
     * PipelineIT's graceful stop's.)
     */
    @Test
    @Order(8)
    void aPollListsSeveralTenantsAtOnceAndNoMoreThanTheNodeAllows() {
        int answerMillis = 300;
        upstream.setGlobalFixedDelay(answerMillis);
        try {
            long since = System.currentTimeMillis();
            await().atMost(Duration.ofSeconds(60)).until(() -> lists(since, true).size() >= 60);
            List<long[]> fillerLists = lists(since, true);
            List<long[]> allLists = lists(since, false);
            int fillers = mostAtOnce(fillerLists);
            int all = mostAtOnce(allLists);
            System.out.printf("[TenantsIT] at most %d filler lists in flight together, %d lists of both upstreams%n",
                    fillers, all);
            assertTrue(fillers >= 2, "the fillers were listed one after the other");
            assertTrue(all <= 3, all + " lists in flight together, more than node-listing-concurrency: "
                    + allLists.stream().limit(60).map(l -> l[0] - since + "-" + (l[1] - since) + " ms").toList());
        } finally {
            upstream.setGlobalFixedDelay(0);
        }
    }

    /** The most list requests in flight at one moment, each from its arrival to the end of its added delay. */
    private static int mostAtOnce(List<long[]> lists) {
        int most = 0;
        for (long[] list : lists) {
            long at = list[0];
            most = Math.max(most, (int) lists.stream().filter(l -> l[0] <= at && at < l[1]).count());
        }
        return most;
    }

    /**
     * The list requests (the fillers' only, or both upstreams') that arrived since {@code since}, each as {arrival,
     * end of the delay added to its answer} in ms (a request not answered yet: its arrival only).
     */
    private List<long[]> lists(long since, boolean fillersOnly) {
        return upstream.getAllServeEvents().stream()
                .filter(e -> {
                    var r = e.getRequest();
                    return r.getUrl().startsWith("/invoices/api/documents?")
                            ? !fillersOnly || r.queryParameter("org").firstValue().startsWith("filler-")
                            : !fillersOnly && r.getUrl().startsWith("/payroll/v2/tenants/");
                })
                .filter(e -> e.getRequest().getLoggedDate().getTime() >= since)
                .map(e -> {
                    long arrived = e.getRequest().getLoggedDate().getTime();
                    Integer delayed = e.getTiming() == null ? null : e.getTiming().getAddedDelay();
                    return new long[] { arrived, arrived + Math.max(1, delayed == null ? 0 : delayed) };
                })
                .sorted(java.util.Comparator.comparingLong(l -> l[0])).toList();
    }

    /** The erphub-tenant-registry check, as the operator reads it from /q/health/well. */
    private static Map<String, Object> registryHealth() {
        Map<String, Object> well = read(fetch("/q/health/well", null), new TypeReference<>() {
        });
        return checkNamed(well.get("checks"), "erphub-tenant-registry");
    }

    /** The same check's details, as operators read them behind the API (GET /api/health). */
    private static Map<String, Object> registryCheckForOperators() {
        Object data = checkNamed(read(fetch("/api/health", admin), new TypeReference<List<Object>>() {
        }), "erphub-tenant-registry").get("data");
        @SuppressWarnings("unchecked")
        Map<String, Object> details = data == null ? Map.of() : (Map<String, Object>) data;
        return details;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> checkNamed(Object checks, String name) {
        return ((List<Map<String, Object>>) checks).stream().filter(c -> name.equals(c.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError("no check " + name + " in " + checks));
    }

    /** The tenants in force, as GET /api/tenants lists them. */
    private static List<Map<String, Object>> tenantViews() {
        return read(fetch("/api/tenants", admin), new TypeReference<>() {
        });
    }

    private static Map<String, Object> tenantView(String id) {
        return tenantViews().stream().filter(t -> id.equals(t.get("id"))).findFirst()
                .orElseThrow(() -> new AssertionError("no tenant " + id));
    }

    private static int maxConcurrentDownloads(String tenant) {
        @SuppressWarnings("unchecked")
        Map<String, Object> limits = (Map<String, Object>) tenantView(tenant).get("limits");
        return ((Number) limits.get("maxConcurrentDownloads")).intValue();
    }

    /** The enabled tenants subscribed to the upstream, by id. */
    @SuppressWarnings("unchecked")
    private static List<String> subscribed(String upstream) {
        return tenantViews().stream().filter(t -> Boolean.TRUE.equals(t.get("enabled")))
                .filter(t -> ((Map<String, Object>) t.get("upstreamCredentials")).containsKey(upstream))
                .map(t -> (String) t.get("id")).sorted().toList();
    }

    private static <T> T read(String json, TypeReference<T> type) {
        try {
            return JSON.readValue(json, type);
        } catch (IOException e) {
            throw new AssertionError("not the JSON expected: " + json, e);
        }
    }

    private static String fetch(String path, String token) {
        return app.get(path, token).body();
    }

    /** A connection to the app's ledger (H2 in automatic mixed mode). */
    private static Connection ledger() throws SQLException {
        return DriverManager.getConnection(jdbcUrl, "erphub", "");
    }

    /** The file's ledger row: its state and archive key. */
    private record Row(String state, String archiveKey) {
    }

    private static Row record(RemoteFile f) throws SQLException {
        try (Connection c = ledger(); PreparedStatement s = c.prepareStatement("SELECT state, archive_key FROM file_version"
                + " WHERE tenant = ? AND upstream = ? AND remote_id = ? AND version = ?")) {
            s.setString(1, f.tenant());
            s.setString(2, f.upstream());
            s.setString(3, f.remoteId());
            s.setString(4, f.version());
            try (ResultSet rows = s.executeQuery()) {
                if (!rows.next()) {
                    throw new AssertionError("no ledger row for " + f);
                }
                return new Row(rows.getString(1), rows.getString(2));
            }
        }
    }

    private static Instant lastPollStarted(String upstreamId, String tenant) throws SQLException {
        try (Connection c = ledger(); PreparedStatement s = c.prepareStatement(
                "SELECT last_started_at FROM upstream_poll WHERE upstream = ? AND tenant = ?")) {
            s.setString(1, upstreamId);
            s.setString(2, tenant);
            try (ResultSet rows = s.executeQuery()) {
                if (!rows.next()) {
                    throw new AssertionError("no poll of " + tenant + " at " + upstreamId);
                }
                return rows.getObject(1, java.time.OffsetDateTime.class).toInstant();
            }
        }
    }

    /** The first (or last) entry of the tenant reaching the state in the ledger extract. */
    private static int indexOf(List<String[]> ledger, String tenant, String state, boolean last) {
        int found = -1;
        for (int i = 0; i < ledger.size(); i++) {
            if (ledger.get(i)[0].equals(tenant) && ledger.get(i)[1].equals(state)) {
                found = i;
                if (!last) {
                    break;
                }
            }
        }
        assertTrue(found >= 0, tenant + " never reached " + state);
        return found;
    }

    private long count(String tenant, String state) throws Exception {
        try (Connection c = ledger(); PreparedStatement s = c.prepareStatement(
                "SELECT COUNT(*) FROM file_version WHERE tenant = ?" + (state == null ? "" : " AND state = ?"))) {
            s.setString(1, tenant);
            if (state != null) {
                s.setString(2, state);
            }
            try (ResultSet rows = s.executeQuery()) {
                rows.next();
                return rows.getLong(1);
            }
        }
    }
}
