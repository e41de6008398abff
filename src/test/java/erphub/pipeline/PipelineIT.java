package erphub.pipeline;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import erphub.testing.BesideTheApplication;
import erphub.testing.PackagedApp;
import erphub.testing.PayrollFileServer;
import erphub.testing.PayrollFileServer.GeneratedFile;
import erphub.testing.PostgresResource;
import erphub.testing.TestServers;
import erphub.testing.TestTenants;
import no.nav.security.mock.oauth2.MockOAuth2Server;

/**
 * The packaged jar moving files between real servers the way it runs in production: a file three times the heap
 * (384 MiB through 128 MiB), a crash in the middle of a run, and two instances sharing one PostgreSQL (and its polls).
 */
@BesideTheApplication(seconds = 140)
class PipelineIT {

    private PayrollFileServer upstream;
    private MockOAuth2Server oauth2;

    @BeforeEach
    void startServers() throws IOException {
        upstream = new PayrollFileServer();
        oauth2 = new MockOAuth2Server();
        oauth2.start(InetAddress.getByName(TestServers.LOOPBACK), TestServers.freePort());
    }

    @AfterEach
    void stopServers() {
        upstream.close();
        oauth2.shutdown();
    }

    /**
     * Three times the heap proves as 1 GiB through 256 MiB did that memory does not grow with the file. (Through 96 MiB
     * the collector ran all the time: 12 MiB/s, and no faster than the gigabyte.)
     */
    static final long FILE_SIZE = 384L << 20;
    static final String HEAP = "-Xmx128m";

    @Test
    void aFileThreeTimesTheHeapStreamsThroughAndArrivesByteIdentical() throws Exception {
        GeneratedFile big = upstream.add("big", "big-1", FILE_SIZE);
        Path work = TestServers.scratchDir("three-heaps-");
        long started = System.nanoTime();
        AtomicLong peakRss = new AtomicLong();
        // The per-file "archived as" line is DEBUG (one INFO line per file was a cost at volume): asked for here.
        Map<String, String> jsonLogs = Map.of("quarkus.log.console.json.enabled", "true",
                "quarkus.log.category.\"erphub.pipeline\".level", "DEBUG");
        try (PackagedApp app = PackagedApp.start(work, tenantConfig(List.of("big"), jsonLogs), HEAP)) {
            app.awaitReady(Duration.ofSeconds(60));
            Path tenantArchive = work.resolve("data/archive/big/payroll-exports");
            await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(250)).until(() -> {
                peakRss.accumulateAndGet(app.residentKiB(), Math::max);
                assertFalse(app.output().contains("DEAD_LETTERED"), app.output());
                return archivedFiles(tenantArchive).size() == 1;
            });
            double seconds = (System.nanoTime() - started) / 1e9;
            Path archived = archivedFiles(tenantArchive).get(0);
            assertEquals(big.size(), Files.size(archived));
            assertEquals(-1, PayrollFileServer.mismatch(big, archived), "the first byte that differs");
            assertTrue(app.isAlive());
            assertFalse(app.output().contains("OutOfMemoryError"), app.output());
            assertFalse(app.output().contains("secret-payroll-"), "client secrets never reach the log");
            assertTrue(app.output().lines().anyMatch(line -> line.startsWith("{") && line.contains("archived as")
                    && line.contains("\"tenant\":\"big\"") && line.contains("\"fileId\":\"1\"")
                    && line.contains("\"camel.routeId\":\"erphub-store\"")), "JSON log lines carry the file's MDC:\n" + app.output());
            System.out.printf("%d MiB through %s: %.1f s from start (%.0f MiB/s incl. start-up), peak RSS %d MiB%n",
                    FILE_SIZE >> 20, HEAP, seconds, (FILE_SIZE >> 20) / seconds, peakRss.get() / 1024);
        }
    }

    @Test
    void killedMidRunEveryFileEndsArchivedAndNoneTwice() throws Exception {
        int count = 400;
        for (int i = 0; i < count; i++) {
            upstream.add("crash", String.format("c-%04d", i), 64 * 1024);
        }
        PostgresResource postgres = new PostgresResource();
        String url = postgres.start().get("quarkus.datasource.\"postgresql\".jdbc.url");
        try {
            Path work = TestServers.scratchDir("crash-");
            Path archive = work.resolve("data/archive/crash/payroll-exports");
            // A ten-minute lease: the restarted process (same node id) must take its dead run's claims back at once,
            // not wait it out (it would, before erphub.state.ClaimRelease took them back at start).
            Map<String, String> config = tenantConfig(List.of("crash"), onPostgres(url, Map.of(
                    "erphub.state.claim-lease", "PT10M", "erphub.node-id", "crash-node")));
            try (PackagedApp app = PackagedApp.start(work, config)) {
                app.awaitReady(Duration.ofSeconds(60));
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                        .until(() -> archivedFiles(archive).size() >= 40);
                app.kill();
            }
            try (Connection c = DriverManager.getConnection(url, "postgres", "")) {
                long before = single(c, "SELECT COUNT(*) FROM file_version WHERE state = 'ARCHIVED'");
                assertTrue(before < count, "killed mid-run: " + before + " of " + count);
                try (PackagedApp app = PackagedApp.start(work, config)) {
                    app.awaitReady(Duration.ofSeconds(60));
                    await().atMost(Duration.ofSeconds(90)).until(
                            () -> single(c, "SELECT COUNT(*) FROM file_version WHERE state = 'ARCHIVED'") == count);
                    assertTrue(app.output().contains("that an earlier run of node crash-node left unfinished"),
                            app.output());
                }
                assertEquals(count, single(c, "SELECT COUNT(*) FROM file_version"), "one ledger row per file");
                assertEquals(0, single(c, "SELECT COUNT(*) FROM (SELECT file_id FROM file_transition WHERE to_state = 'ARCHIVED'"
                        + " GROUP BY file_id HAVING COUNT(*) > 1) twice"), "no file archived twice");
                assertEquals(count, archivedFiles(archive).size(), "every file archived under one key");
                System.out.printf("crash mid-run: %d of %d archived before the kill, %d claims resumed after it%n",
                        before, count, single(c, "SELECT COUNT(*) FROM file_version WHERE attempt > 1"));
            }
        } finally {
            postgres.stop();
        }
    }

    @Test
    void aGracefulStopHandsUnfinishedClaimsBackAtOnce() throws Exception {
        int count = 400;
        for (int i = 0; i < count; i++) {
            upstream.add("stop", String.format("g-%04d", i), 64 * 1024);
        }
        PostgresResource postgres = new PostgresResource();
        String url = postgres.start().get("quarkus.datasource.\"postgresql\".jdbc.url");
        try {
            Path work = TestServers.scratchDir("graceful-");
            Path archive = work.resolve("data/archive/stop/payroll-exports");
            // A 10-minute lease: without the release the restarted node would wait that long. Ten tenants with
            // nothing to list come after "stop" in the poll, the first of them answering slowly: the stop comes while
            // the poll is still going through its tenants.
            List<String> tenants = new java.util.ArrayList<>(List.of("stop"));
            java.util.stream.IntStream.rangeClosed(1, 10).forEach(i -> tenants.add(String.format("then-%02d", i)));
            upstream.slowNextList("then-01", Duration.ofSeconds(5));
            // Two tenants listed at a time: the other tenants wait in the poll.
            Map<String, String> config = tenantConfig(tenants, onPostgres(url, Map.of("erphub.state.claim-lease", "PT10M",
                    "erphub.intake.listing-concurrency", "2")));
            try (PackagedApp app = PackagedApp.start(work, config)) {
                app.awaitReady(Duration.ofSeconds(60));
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                        .until(() -> archivedFiles(archive).size() >= 40);
                app.close();
                // Mid-listing: the listing ends at the stop, instead of hanging until the shutdown timeout (15 s).
                assertFalse(app.output().contains("Timeout occurred during graceful shutdown"), app.output());
                // And no tenant is polled into the stopping application: the poll takes no tenant once erphub stops,
                // and the stop waits for the tenants in flight (11 failures when the stop refused every step left,
                // one per tenant in flight while stopping the quartz consumer stopped the route's processors).
                long refused = app.output().lines().filter(l -> l.contains("Failed delivery for")).count();
                assertEquals(0, refused, refused + " tenants' polls refused by the stopping application:\n" + app.output());
                assertFalse(app.output().contains("Error Occurred After Shutdown"), app.output());
                assertTrue(upstream.mostListsAtOnce() <= 2, upstream.mostListsAtOnce() + " list calls at once, with listing-concurrency 2");
            }
            try (Connection c = DriverManager.getConnection(url, "postgres", "")) {
                assertEquals(0, single(c, "SELECT COUNT(*) FROM file_version WHERE state IN ('DISCOVERED', 'DOWNLOADED')"
                        + " AND lease_until > CURRENT_TIMESTAMP"), "no unfinished claim keeps a live lease after the stop");
                try (PackagedApp app = PackagedApp.start(work, config)) {
                    app.awaitReady(Duration.ofSeconds(60));
                    await().atMost(Duration.ofSeconds(60)).until(
                            () -> single(c, "SELECT COUNT(*) FROM file_version WHERE state = 'ARCHIVED'") == count);
                }
            }
        } finally {
            postgres.stop();
        }
    }

    @Test
    void twoInstancesPollingOneUpstreamOverOnePostgresArchiveEachFileOnce() throws Exception {
        int count = 300;
        for (int i = 0; i < count; i++) {
            upstream.add("shared", String.format("s-%04d", i), 8 * 1024);
        }
        PostgresResource postgres = new PostgresResource();
        Map<String, String> db = postgres.start();
        try {
            String url = db.get("quarkus.datasource.\"postgresql\".jdbc.url");
            Map<String, String> onPostgres = onPostgres(url, Map.of("erphub.upstreams.payroll-exports.poll-interval", "300"));
            Path workA = TestServers.scratchDir("node-a-");
            Path workB = TestServers.scratchDir("node-b-");
            onPostgres.put("erphub.node-id", "node-a");
            try (PackagedApp a = PackagedApp.start(workA, tenantConfig(List.of("shared"), onPostgres))) {
                onPostgres.put("erphub.node-id", "node-b");
                try (PackagedApp b = PackagedApp.start(workB, tenantConfig(List.of("shared"), onPostgres))) {
                    a.awaitReady(Duration.ofSeconds(60));
                    b.awaitReady(Duration.ofSeconds(60));
                    await().atMost(Duration.ofSeconds(90)).until(() ->
                            archivedFiles(workA.resolve("data/archive/shared/payroll-exports")).size()
                                    + archivedFiles(workB.resolve("data/archive/shared/payroll-exports")).size() == count);

                    // One lister per (upstream, tenant): over a window, one instance lists the pair and the other
                    // none, and the upstream sees the list calls of one instance polling every 300 ms.
                    upstream.resetCounts();
                    long[] before = {listings(a), listings(b)};
                    long window = System.nanoTime();
                    Thread.sleep(4000);
                    long[] after = {listings(a), listings(b)};
                    double windowTicks = (System.nanoTime() - window) / 1e9 / 0.3;
                    int listCalls = upstream.requests("shared");
                    assertTrue((after[0] > before[0]) != (after[1] > before[1]),
                            "exactly one instance lists the pair: node-a " + before[0] + " -> " + after[0] + ", node-b "
                                    + before[1] + " -> " + after[1]);
                    assertTrue(listCalls <= windowTicks * 1.25 + 2, listCalls + " list calls in " + windowTicks + " ticks");

                    // The lister dies: the other takes the pair over once its lease ends (its next tick + 10 s).
                    PackagedApp holder = after[0] > before[0] ? a : b;
                    PackagedApp survivor = holder == a ? b : a;
                    long survivorBefore = listings(survivor);
                    holder.kill();
                    long killed = System.nanoTime();
                    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                            .until(() -> listings(survivor) > survivorBefore);
                    System.out.printf("two instances: %d list calls in %.1f ticks of one; the survivor listed %.1f s"
                            + " after the lister's kill -9%n", listCalls, windowTicks, (System.nanoTime() - killed) / 1e9);
                }
            }
            try (Connection c = DriverManager.getConnection(url, "postgres", "")) {
                assertEquals(count, single(c, "SELECT COUNT(*) FROM file_version WHERE state = 'ARCHIVED'"));
                assertEquals(0, single(c, "SELECT COUNT(*) FROM (SELECT file_id FROM file_transition WHERE to_state = 'ARCHIVED'"
                        + " GROUP BY file_id HAVING COUNT(*) > 1) twice"));
                System.out.printf("two instances: node-a claimed %d, node-b claimed %d of %d%n",
                        single(c, "SELECT COUNT(*) FROM file_version WHERE claimed_by LIKE 'node-a#%'"),
                        single(c, "SELECT COUNT(*) FROM file_version WHERE claimed_by LIKE 'node-b#%'"), count);
            }
            for (int i = 0; i < count; i++) {
                assertEquals(1, upstream.downloads(String.format("s-%04d", i)), "each file downloaded once");
            }
        } finally {
            postgres.stop();
        }
    }

    /** Listings of the payroll upstream this instance finished, from its Prometheus metrics. */
    private static long listings(PackagedApp app) throws Exception {
        HttpResponse<String> metrics = java.net.http.HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(java.net.URI.create(app.url("/q/metrics"))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metrics.statusCode());
        return metrics.body().lines()
                .filter(line -> line.startsWith("erphub_list_duration_seconds_count{")
                        && line.contains("upstream=\"payroll-exports\""))
                .mapToLong(line -> (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .sum();
    }

    private static Map<String, String> onPostgres(String url, Map<String, String> extra) {
        Map<String, String> config = new HashMap<>(extra);
        config.put("quarkus.datasource.\"h2\".active", "false");
        config.put("quarkus.datasource.\"postgresql\".active", "true");
        config.put("quarkus.datasource.\"postgresql\".jdbc.url", url);
        config.put("quarkus.datasource.\"postgresql\".username", "postgres");
        return config;
    }

    private Map<String, String> tenantConfig(List<String> tenants, Map<String, String> extra) {
        Map<String, String> config = new HashMap<>(extra);
        config.put("erphub.upstreams.payroll-exports.base-url", upstream.baseUrl());
        config.put("erphub.upstreams.payroll-exports.token-url", oauth2.tokenEndpointUrl("erphub").toString());
        config.putIfAbsent("erphub.upstreams.payroll-exports.poll-interval", "1000");
        config.put("erphub.upstreams.payroll-exports.destinations", "none");
        TestTenants registry = new TestTenants();
        tenants.forEach(tenant -> registry.tenant(tenant, Map.of("payroll-exports", "payroll")));
        config.putAll(registry.write("pipeline-it-" + String.join("-", tenants)));
        return config;
    }

    private static List<Path> archivedFiles(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        // The archive is being written while we look: temp files come and go.
        for (int attempt = 0; ; attempt++) {
            try (Stream<Path> files = Files.walk(dir)) {
                return files.filter(p -> !p.getFileName().toString().startsWith(".part-"))
                        .filter(Files::isRegularFile)
                        .toList();
            } catch (IOException | UncheckedIOException e) {
                if (attempt == 5) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }


    private static long single(Connection c, String sql) throws Exception {
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
