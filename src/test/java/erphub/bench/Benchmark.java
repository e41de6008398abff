package erphub.bench;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.apache.kafka.clients.admin.Admin;
import org.awaitility.core.ConditionTimeoutException;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import erphub.testing.ErpApiResource;
import erphub.testing.LatencyProxy;
import erphub.testing.PackagedApp;
import erphub.testing.PayrollFileServer;
import erphub.testing.ProdEnvironment;
import erphub.testing.Percentiles;
import erphub.testing.ProdServers;
import erphub.testing.ProcessMemory;
import erphub.testing.PrometheusText;
import erphub.testing.S3ServerResource;
import erphub.testing.SftpServerResource;
import erphub.testing.TestServers;
import erphub.testing.TestTenants;
import com.nimbusds.oauth2.sdk.TokenRequest;

import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import no.nav.security.mock.oauth2.token.OAuth2TokenCallback;
import software.amazon.awssdk.services.s3.model.CreateBucketRequest;

/**
 * erphub against the legacy pattern and the raw I/O limit, side by side, in one run on this machine
 * ({@code ./mvnw -Pbench verify}; not part of the default test run). Real servers on 127.0.0.1: a streaming HTTP
 * upstream, mock-oauth2-server, s3proxy on disk, MINA SSHD, an HTTP ERP API, a Kafka broker, PostgreSQL.
 * <ul>
 * <li>erphub: the packaged jar in {@code prod} (PostgreSQL ledger, S3 archive, Kafka hand-off), list → claim →
 * download → archive → ERP API + SFTP + Kafka.</li>
 * <li>legacy and raw: {@link BaselineClient}.</li>
 * </ul>
 * Every run is checked at the destinations (counts and SHA-256 of every file in S3, at the ERP API, on the SFTP
 * server; Kafka record counts) before its figures count. Prints a table and writes
 * {@code target/benchmark/benchmark.json}.
 */
class Benchmark {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final List<String> SYSTEMS = List.of("erphub", "legacy", "raw");
    private static final String HEAP = "-Xmx512m";
    private static final int RAW_WORKERS = 16;
    /** Files per tenant the legacy pattern moves in workload (d): 250 in all, about four minutes at its pace. */
    private static final int LEGACY_SAMPLE = Integer.getInteger("bench.legacy.sample", 5);

    /**
     * A workload: tenants × files of a size, or (upstreams > 0) tenants × upstreams polls with nothing new; run
     * {@code rounds} times, each system's median round counting (c lasts about ten seconds: one round of it varied
     * by a quarter between runs of the same code). {@code roundTripMillis} > 0 puts a {@link LatencyProxy} with that
     * round trip in front of the upstream, the token server, the ERP API and the SFTP server (not S3, Kafka or the
     * database: erphub's own infrastructure sits next to it). {@code legacyFilesPerTenant} > 0 lets the legacy
     * pattern move only that many of each tenant's files: its items/s is a steady rate, one file after the other,
     * and the whole workload would take it most of an hour.
     */
    record Workload(String id, String title, int tenants, int filesPerTenant, long fileSize, int upstreams, int rounds,
            int roundTripMillis, int legacyFilesPerTenant) {
        List<String> tenantIds() {
            return java.util.stream.IntStream.rangeClosed(1, tenants).mapToObj(i -> String.format("%s%03d", id, i)).toList();
        }

        long items() {
            return upstreams > 0 ? (long) tenants * upstreams : (long) tenants * filesPerTenant;
        }

        /** The workload as {@code system} runs it (the legacy pattern's sample, see above). */
        Workload of(String system) {
            return "legacy".equals(system) && legacyFilesPerTenant > 0
                    ? new Workload(id, title, tenants, legacyFilesPerTenant, fileSize, upstreams, rounds, roundTripMillis, 0)
                    : this;
        }
    }

    /** {@code -Dbench.quick=true}: the same workloads, small, to try the harness itself in a minute or two. */
    static final List<Workload> WORKLOADS = Boolean.getBoolean("bench.quick")
            ? List.of(new Workload("a", "quick: 50 files of 10 KiB, 5 tenants", 5, Integer.getInteger("bench.quick.files", 10), 10 * 1024, 0, 1, 0, 0),
                    new Workload("b", "quick: 2 files of 5 MiB", 2, 1, 5L << 20, 0, 1, 0, 0),
                    new Workload("c", "quick: poll of 60 pairs", 10, 0, 0, 6, 2, 0, 0),
                    new Workload("d", "quick: (a) with 20 ms more per round trip", 5, Integer.getInteger("bench.quick.files", 10), 10 * 1024, 0, 1, 20, 2))
            : List.of(new Workload("a", "5,000 files of 10 KiB, 50 tenants", 50, 100, 10 * 1024, 0, 1, 0, 0),
                    new Workload("b", "20 files of 50 MiB", 4, 5, 50L << 20, 0, 1, 0, 0),
                    new Workload("c", "poll of 12,000 (tenant, upstream) pairs, nothing new", 200, 0, 0, 60, 3, 0, 0),
                    new Workload("d", "(a) over a WAN: 20 ms more per round trip to the upstream, token server, ERP API"
                            + " and SFTP server", 50, 100, 10 * 1024, 0, 1, 20, LEGACY_SAMPLE));

    /** One system's figures for one workload. */
    record Figures(String workload, String system, long items, long bytes, double wallSeconds, double p50Millis,
            double p99Millis, long tokenRequests, double cpuSeconds, long peakHeapBytes, long peakRssKiB) {
        double itemsPerSecond() {
            return items / wallSeconds;
        }

        double mibPerSecond() {
            return bytes / 1048576.0 / wallSeconds;
        }
    }

    private static String postgresUrl;
    private static String bootstrap;
    private static S3ServerResource s3;
    private static Path s3Store;
    private static Map<String, String> s3Config;
    private static MockOAuth2Server oauth2;
    private static ErpApiResource erp;
    private static Path work;

    private static ProdServers servers;

    @BeforeAll
    static void startServers() throws Exception {
        work = TestServers.scratchDir("bench-");
        servers = ProdServers.start(work, Set.of(new CountingTokens("upstream"), new CountingTokens("erp")));
        postgresUrl = servers.postgresUrl();
        bootstrap = servers.bootstrap();
        s3 = servers.s3();
        s3Store = servers.s3Store();
        s3Config = servers.s3Config();
        oauth2 = servers.oauth2();
        erp = servers.erp();
    }

    @AfterAll
    static void stopServers() {
        servers.close();
    }

    @Test
    void erphubAgainstTheLegacyPatternAndTheRawLimit() throws Exception {
        long started = System.nanoTime();
        List<Figures> runs = new ArrayList<>();
        // -Dbench.workloads=a,b -Dbench.systems=erphub,raw: a part of the benchmark, reported with the ratios it has
        // (to benchmark-partial.json, so the whole benchmark's figures stay).
        List<String> onlyWorkloads = List.of(System.getProperty("bench.workloads", "a,b,c,d").split(","));
        List<String> onlySystems = List.of(System.getProperty("bench.systems", String.join(",", SYSTEMS)).split(","));
        List<Figures> rounds = new ArrayList<>();
        for (Workload w : WORKLOADS) {
            List<String> systems = SYSTEMS.stream().filter(onlySystems::contains).toList();
            if (!onlyWorkloads.contains(w.id())) {
                continue;
            }
            for (int round = 1; round <= w.rounds(); round++) {
                // Each round starts with another system, so none always runs first or last.
                List<String> order = new ArrayList<>(systems);
                java.util.Collections.rotate(order, -(round - 1));
                for (String system : order) {
                    Figures f = run(w, system, round);
                    System.out.println("[bench] round " + round + ": " + f);
                    rounds.add(f);
                }
            }
            for (String system : systems) {
                List<Figures> mine = rounds.stream().filter(f -> f.workload().equals(w.id()) && f.system().equals(system))
                        .sorted(java.util.Comparator.comparingDouble(Figures::itemsPerSecond)).toList();
                Figures median = mine.get(mine.size() / 2);
                System.out.println("[bench] " + median);
                runs.add(median);
            }
        }
        if (!"false".equals(System.getProperty("bench.startup"))) {
            measureStartup();
        }
        double minutes = (System.nanoTime() - started) / 60e9;
        report(runs, rounds, minutes, runs.size() < WORKLOADS.size() * SYSTEMS.size());
    }

    private Figures run(Workload all, String system, int round) throws Exception {
        Workload w = all.of(system);
        String name = w.id() + "-" + system + (round > 1 ? "-r" + round : "");
        Path runDir = Files.createDirectories(work.resolve(name));
        List<LatencyProxy> proxies = new ArrayList<>();
        try (PayrollFileServer upstream = new PayrollFileServer()) {
            Map<String, String> expected = new HashMap<>(); // file name -> sha256
            for (String tenant : w.tenantIds()) {
                for (int i = 1; i <= w.filesPerTenant(); i++) {
                    String id = String.format("%s-%04d", tenant, i);
                    expected.put(id + ".bin", PayrollFileServer.sha256(id, w.fileSize()));
                }
            }
            SftpServerResource.SftpServer sftp = new SftpServerResource.SftpServer(runDir.resolve("sftp"));
            sftp.start();
            erp.api().reset();
            String bucket = "bench-" + name;
            s3.client().createBucket(CreateBucketRequest.builder().bucket(bucket).build());
            String filesTopic = "bench-" + name + "-files";
            createTopics(Map.of(filesTopic, 1, "bench-" + name + "-intake", 8, "bench-" + name + "-events", 1));
            drainTokenRequests();
            Endpoints endpoints = w.roundTripMillis() == 0 ? Endpoints.direct(upstream, sftp)
                    : Endpoints.behind(upstream, sftp, Duration.ofMillis(w.roundTripMillis()), runDir, proxies);
            Destinations destinations = new Destinations(upstream, sftp, bucket, filesTopic, endpoints);
            Figures f = "erphub".equals(system)
                    ? erphub(w, name, runDir, destinations, expected)
                    : baseline(w, system, runDir, destinations, expected);
            if (!proxies.isEmpty()) {
                System.out.println("[bench] " + name + " through " + proxies.stream().map(p -> p + ": "
                        + p.connections() + " connections").toList());
            }
            if (w.upstreams() == 0) {
                verify(name, destinations, expected);
            }
            sftp.stop();
            deleteTree(runDir.resolve("sftp"));
            deleteTree(s3Store.resolve(bucket));
            return f;
        } finally {
            proxies.forEach(LatencyProxy::close);
        }
    }

    private record Destinations(PayrollFileServer upstream, SftpServerResource.SftpServer sftp, String bucket,
            String filesTopic, Endpoints endpoints) {
    }

    /**
     * Where a system finds the servers a WAN would separate it from: the servers themselves, or {@link LatencyProxy}s
     * in front of each (the SFTP server's known_hosts entry then names the proxy's port, the same host key).
     */
    private record Endpoints(String upstreamUrl, String upstreamTokenUrl, String erpUrl, String erpTokenUrl,
            int sftpPort, Path sftpKnownHosts) {

        static Endpoints direct(PayrollFileServer upstream, SftpServerResource.SftpServer sftp) {
            return new Endpoints(upstream.baseUrl(), oauth2.tokenEndpointUrl("upstream").toString(), erp.api().baseUrl(),
                    oauth2.tokenEndpointUrl("erp").toString(), sftp.port(), sftp.knownHosts());
        }

        static Endpoints behind(PayrollFileServer upstream, SftpServerResource.SftpServer sftp, Duration roundTrip,
                Path runDir, List<LatencyProxy> proxies) throws IOException {
            Endpoints direct = direct(upstream, sftp);
            LatencyProxy up = proxy("upstream", direct.upstreamUrl(), roundTrip, proxies);
            LatencyProxy tokens = proxy("tokens", direct.upstreamTokenUrl(), roundTrip, proxies);
            LatencyProxy erpApi = proxy("erp", direct.erpUrl(), roundTrip, proxies);
            LatencyProxy drop = new LatencyProxy("sftp", sftp.port(), roundTrip);
            proxies.add(drop);
            Path knownHosts = runDir.resolve("known_hosts_behind_proxy");
            Files.writeString(knownHosts, Files.readString(sftp.knownHosts())
                    .replace("]:" + sftp.port() + " ", "]:" + drop.port() + " "));
            return new Endpoints(up.url(direct.upstreamUrl()), tokens.url(direct.upstreamTokenUrl()),
                    erpApi.url(direct.erpUrl()), tokens.url(direct.erpTokenUrl()), drop.port(), knownHosts);
        }

        private static LatencyProxy proxy(String name, String url, Duration roundTrip, List<LatencyProxy> proxies)
                throws IOException {
            LatencyProxy p = new LatencyProxy(name, URI.create(url).getPort(), roundTrip);
            proxies.add(p);
            return p;
        }
    }

    // ------------------------------------------------------------------------------------------------ erphub

    private Figures erphub(Workload w, String name, Path runDir, Destinations d, Map<String, String> expected)
            throws Exception {
        String dbUrl = servers.newDatabase("bench_" + name.replace('-', '_'));

        List<String> upstreams = new ArrayList<>();
        Path routes = Files.createDirectories(runDir.resolve("routes"));
        if (w.upstreams() > 0) {
            for (int u = 1; u <= w.upstreams(); u++) {
                String id = String.format("bench-u%02d", u);
                upstreams.add(id);
                Files.writeString(routes.resolve(id + ".yaml"), operatorRoute(id, d.endpoints().upstreamUrl(),
                        d.endpoints().upstreamTokenUrl()));
            }
        } else {
            upstreams.add("payroll-exports");
        }
        TestTenants registry = new TestTenants();
        for (String tenant : w.tenantIds()) {
            Map<String, String> subscriptions = new LinkedHashMap<>();
            upstreams.forEach(u -> subscriptions.put(u, "payroll"));
            registry.tenant(tenant, subscriptions).client(tenant + "-erp", "bench-" + tenant + "-erp");
        }
        Endpoints e = d.endpoints();
        ProdEnvironment prod = ProdEnvironment.of(new ProdEnvironment.Servers(dbUrl, bootstrap, "bench-" + name, s3Config,
                d.bucket(), d.sftp(), e.erpUrl(), e.erpTokenUrl(), e.upstreamUrl(), e.upstreamTokenUrl()), registry,
                "bench-" + name, runDir);
        Map<String, String> props = new HashMap<>(prod.properties());
        Map<String, String> env = new HashMap<>(prod.environment());
        env.put("ERPHUB_SFTP_PORT", String.valueOf(e.sftpPort()));
        env.put("ERPHUB_SFTP_KNOWN_HOSTS", e.sftpKnownHosts().toString());
        int jolokia = TestServers.freePort();
        props.put("erphub.jolokia.enabled", "true");
        props.put("quarkus.camel.jolokia.server.port", String.valueOf(jolokia));
        props.put("erphub.routes.dir", routes.toString());
        props.put("erphub.upstreams.payroll-exports.poll-interval", "1000");
        props.put("erphub.sandbox.enabled", "");

        // JDK Flight Recorder (its default, low-overhead settings) on every erphub run: where the CPU went.
        Path recording = runDir.resolve("erphub.jfr").toAbsolutePath();
        String jfr = "-XX:StartFlightRecording=filename=" + recording + ",settings=default,dumponexit=true";
        Figures figures;
        try (PackagedApp app = PackagedApp.start(runDir.resolve("app"), props, env, HEAP, jfr)) {
            app.awaitReady(Duration.ofMinutes(2));
            JolokiaHeap heap = new JolokiaHeap(jolokia, env.get("ERPHUB_JOLOKIA_PASSWORD"));
            try (Connection db = DriverManager.getConnection(dbUrl, "postgres", "")) {
                figures = w.upstreams() > 0 ? erphubPolls(w, app, db, heap) : erphubFiles(w, app, db, heap, d);
            } finally {
                heap.stop();
            }
        }
        if (Files.isRegularFile(recording)) {
            Map<String, Object> hot = HotMethods.of(recording, 15, measured[0], measured[1]);
            PROFILES.put(w.id(), hot);
            System.out.println("[bench] erphub profile, workload " + w.id() + " (the measured window, JFR): "
                    + JSON.writeValueAsString(hot));
        }
        return figures;
    }

    // ------------------------------------------------------------------------------------------------ start-up

    /** How long a start-up may idle before its resident memory is read (the first polls and timers are over). */
    private static final Duration IDLE = Duration.ofSeconds(30);
    /** Per profile: start to ready and idle RSS, the median of {@link #STARTS} starts ({@code startup} in the JSON). */
    private static final Map<String, Object> STARTUP = new LinkedHashMap<>();
    private static final int STARTS = 3;

    /**
     * Start to ready (process start to /q/health/ready UP) and resident memory after {@link #IDLE} with nothing to
     * do: the prod profile over PostgreSQL, S3 and Kafka (a fresh database, bucket and topics each start, as a new
     * replica finds them migrated: the first start migrates), the same with the Kubernetes Deployment's JVM options
     * and memory limit ({@link #deployedJvmOptions()}), and the embedded default with its sandbox and Hawtio console,
     * as the README starts it. prod and embedded run as {@code java -jar} does on this machine, no heap limit.
     */
    private void measureStartup() throws Exception {
        for (String profile : List.of("prod", "deployed", "embedded")) {
            List<Double> ready = new ArrayList<>();
            List<Double> idleRss = new ArrayList<>();
            String dbUrl = null;
            boolean prod = !"embedded".equals(profile);
            String[] jvm = "deployed".equals(profile) ? deployedJvmOptions() : new String[0];
            if (prod) {
                dbUrl = servers.newDatabase("bench_startup_" + profile);
                createTopics(Map.of("bench-" + profile + "-files", 1, "bench-" + profile + "-intake", 8,
                        "bench-" + profile + "-events", 1));
            }
            for (int i = 1; i <= STARTS; i++) {
                Path dir = Files.createDirectories(work.resolve("startup-" + profile + "-" + i));
                Map<String, String> props = new HashMap<>();
                Map<String, String> env = Map.of();
                if (prod) {
                    String bucket = "bench-" + profile + "-" + i;
                    s3.client().createBucket(CreateBucketRequest.builder().bucket(bucket).build());
                    SftpServerResource.SftpServer sftp = new SftpServerResource.SftpServer(dir.resolve("sftp"));
                    TestTenants registry = new TestTenants();
                    registry.tenant("acme", Map.of("payroll-exports", "payroll")).client("acme-erp", "bench-acme-erp");
                    try (PayrollFileServer upstream = new PayrollFileServer()) {
                        ProdEnvironment environment = ProdEnvironment.of(new ProdEnvironment.Servers(dbUrl, bootstrap,
                                "bench-" + profile, s3Config, bucket, sftp, erp.api().baseUrl(),
                                oauth2.tokenEndpointUrl("erp").toString(), upstream.baseUrl(),
                                oauth2.tokenEndpointUrl("upstream").toString()), registry, "bench-" + profile, dir);
                        props.putAll(environment.properties());
                        props.put("erphub.sandbox.enabled", "");
                        env = environment.environment();
                        measureOneStart(dir, props, env, ready, idleRss, jvm);
                    }
                } else {
                    Files.createDirectories(dir.resolve("config"));
                    Files.copy(Path.of("config/tenants.yaml"), dir.resolve("config/tenants.yaml"));
                    props.putAll(PackagedApp.SANDBOX_AS_THE_PROFILE_SAYS);
                    props.put("erphub.sandbox.sftp-port", String.valueOf(TestServers.freePort()));
                    props.put("erphub.jolokia.enabled", "true");
                    props.put("quarkus.camel.jolokia.server.port", String.valueOf(TestServers.freePort()));
                    props.put("erphub.console.enabled", "true");
                    props.put("erphub.console.port", String.valueOf(TestServers.freePort()));
                    measureOneStart(dir, props, env, ready, idleRss, jvm);
                }
            }
            Map<String, Object> figures = new LinkedHashMap<>();
            figures.put("startToReadySeconds", median(ready));
            figures.put("idleRssMiB", median(idleRss));
            figures.put("samples", Map.of("startToReadySeconds", ready, "idleRssMiB", idleRss));
            figures.put("jvmOptions", List.of(jvm));
            STARTUP.put(profile, figures);
            System.out.println("[bench] start-up, " + profile + ": " + figures);
        }
    }

    /**
     * The JVM options of the Kubernetes Deployment ({@code JAVA_OPTS_APPEND} in kubernetes/base/deployment.yaml, read
     * from there) and {@code -XX:MaxRAM} at its memory limit, which is what the JVM sizes its heap by in the pod (here
     * the machine's 24 GiB would be). The collector is still this machine's choice: the image's run-java.sh and the
     * pod's 2 CPUs / 1 GiB may choose another.
     */
    static String[] deployedJvmOptions() throws IOException {
        String deployment = Files.readString(Path.of("kubernetes/base/deployment.yaml"));
        java.util.regex.Matcher opts = java.util.regex.Pattern.compile("name: JAVA_OPTS_APPEND, value: \"([^\"]*)\"")
                .matcher(deployment);
        java.util.regex.Matcher limit = java.util.regex.Pattern.compile("limits: \\{cpu: \"?[0-9.]+\"?, memory: (\\d+)Gi\\}")
                .matcher(deployment);
        if (!opts.find() || !limit.find()) {
            throw new IllegalStateException("kubernetes/base/deployment.yaml: no JAVA_OPTS_APPEND or memory limit in Gi");
        }
        List<String> jvm = new ArrayList<>(List.of(opts.group(1).trim().split("\\s+")));
        jvm.add("-XX:MaxRAM=" + limit.group(1) + "g");
        return jvm.toArray(String[]::new);
    }

    private static void measureOneStart(Path dir, Map<String, String> props, Map<String, String> env, List<Double> ready,
            List<Double> idleRss, String... jvm) throws InterruptedException {
        try (PackagedApp app = PackagedApp.start(dir.resolve("app"), props, env, jvm)) {
            ready.add(app.awaitReady(Duration.ofMinutes(2)).toMillis() / 1000.0);
            // Deliberately idle for a fixed time (the figure is memory after idling), not waiting for a condition.
            Thread.sleep(IDLE.toMillis());
            idleRss.add(app.residentKiB() / 1024.0);
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    /** Per workload, where erphub's CPU went (JFR execution samples) while it was measured. */
    private static final Map<String, Object> PROFILES = new LinkedHashMap<>();
    /** The last erphub workload's measured window: from its first item to its last one. */
    private final Instant[] measured = {Instant.MIN, Instant.MAX};

    private Figures erphubFiles(Workload w, PackagedApp app, Connection db, JolokiaHeap heap, Destinations d)
            throws Exception {
        drainTokenRequests();
        long cpuBefore = cpuNanos(app.pid());
        Instant t0 = Instant.now();
        for (String tenant : w.tenantIds()) {
            for (int i = 1; i <= w.filesPerTenant(); i++) {
                d.upstream().add(tenant, String.format("%s-%04d", tenant, i), w.fileSize());
            }
        }
        long n = w.items();
        awaitUntil(Duration.ofMinutes(10), app, () -> {
            long failed = single(db, "SELECT COUNT(*) FROM file_version WHERE state IN ('REJECTED', 'DEAD_LETTERED',"
                    + " 'PARTIALLY_DELIVERED')");
            if (failed > 0) {
                throw new IllegalStateException(failed + " files failed: " + rows(db, "SELECT remote_id, state, reason"
                        + " FROM file_version WHERE state <> 'DELIVERED' FETCH FIRST 5 ROWS ONLY"));
            }
            return single(db, "SELECT COUNT(*) FROM file_version WHERE state = 'DELIVERED'") == n;
        });
        long cpu = cpuNanos(app.pid()) - cpuBefore;
        Instant t1 = Instant.ofEpochMilli(single(db, "SELECT CAST(EXTRACT(EPOCH FROM MAX(occurred_at)) * 1000 AS BIGINT)"
                + " FROM file_transition WHERE to_state = 'DELIVERED'"));
        measured[0] = t0;
        measured[1] = t1;
        List<Double> latencies = doubles(db, "SELECT EXTRACT(EPOCH FROM (d.at - f.first_at)) * 1000"
                + " FROM (SELECT file_id, MIN(occurred_at) AS first_at FROM file_transition GROUP BY file_id) f"
                + " JOIN (SELECT file_id, MAX(occurred_at) AS at FROM file_transition WHERE to_state = 'DELIVERED'"
                + " GROUP BY file_id) d ON d.file_id = f.file_id");
        return new Figures(w.id(), "erphub", n, n * w.fileSize(), Duration.between(t0, t1).toNanos() / 1e9,
                Percentiles.of(latencies, 50), Percentiles.of(latencies, 99), drainTokenRequests(), cpu / 1e9, heap.peak(),
                peakRssKiB(app.pid()));
    }

    /**
     * Steady state: after every (tenant, upstream) pair has been polled once (that first round fetched the tokens),
     * the next 12,000 successful list calls, as counted in erphub's own metric. The upstreams poll every 5 s, faster
     * than a round takes, so erphub polls flat out and the window measures how fast it gets through all pairs.
     */
    private Figures erphubPolls(Workload w, PackagedApp app, Connection db, JolokiaHeap heap) throws Exception {
        long pairs = w.items();
        awaitUntil(Duration.ofMinutes(5), app, () -> single(db,
                "SELECT COUNT(*) FROM upstream_poll WHERE last_success_at IS NOT NULL") == pairs);
        drainTokenRequests();
        heap.reset();
        long cpuBefore = cpuNanos(app.pid());
        double failedBefore = listCalls(app, "failed");
        double before = listCalls(app, "succeeded");
        long t0 = System.nanoTime();
        measured[0] = Instant.now();
        awaitUntil(Duration.ofMinutes(5), app, () -> listCalls(app, "succeeded") >= before + pairs);
        double wall = (System.nanoTime() - t0) / 1e9;
        measured[1] = Instant.now();
        long cpu = cpuNanos(app.pid()) - cpuBefore;
        assertEquals(failedBefore, listCalls(app, "failed"), "no list call failed");
        // The latest poll of every pair: from its start to its recorded success.
        List<Double> latencies = doubles(db, "SELECT EXTRACT(EPOCH FROM (last_success_at - last_started_at)) * 1000"
                + " FROM upstream_poll WHERE last_success_at >= last_started_at");
        return new Figures(w.id(), "erphub", pairs, 0, wall, Percentiles.of(latencies, 50), Percentiles.of(latencies, 99),
                drainTokenRequests(), cpu / 1e9, heap.peak(), peakRssKiB(app.pid()));
    }

    /** erphub's own count of list calls with this outcome, over all upstreams ({@code /q/metrics}). */
    private static double listCalls(PackagedApp app, String outcome) throws Exception {
        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(app.url("/q/metrics"))).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return PrometheusText.sum(metrics, "erphub_list_duration_seconds_count", "outcome=\"" + outcome + "\"");
    }

    /** A benchmark upstream (workload c): the payroll format, polled every 5 s. */
    private static String operatorRoute(String id, String baseUrl, String tokenUrl) {
        return PayrollFileServer.operatorRoute(id, 5000, baseUrl, tokenUrl,
                "payroll", "erp-api,sftp,kafka", "/imports/payroll/{tenant}");
    }

    // ------------------------------------------------------------------------------------------------ baselines

    private Figures baseline(Workload w, String system, Path runDir, Destinations d, Map<String, String> expected)
            throws Exception {
        for (String tenant : w.tenantIds()) {
            for (int i = 1; i <= w.filesPerTenant(); i++) {
                d.upstream().add(tenant, String.format("%s-%04d", tenant, i), w.fileSize());
            }
        }
        Properties settings = new Properties();
        settings.setProperty("tenants", String.join(",", w.tenantIds()));
        if (w.upstreams() > 0) {
            settings.setProperty("upstreams", String.valueOf(w.upstreams()));
        }
        settings.setProperty("workers", String.valueOf(RAW_WORKERS));
        settings.setProperty("token-url", d.endpoints().upstreamTokenUrl());
        settings.setProperty("upstream.base-url", d.endpoints().upstreamUrl());
        settings.setProperty("erp.base-url", d.endpoints().erpUrl());
        settings.setProperty("s3.endpoint", s3Config.get("test.s3.endpoint"));
        settings.setProperty("s3.region", s3Config.get("test.s3.region"));
        settings.setProperty("s3.access-key", s3Config.get("test.s3.access-key"));
        settings.setProperty("s3.secret-key", s3Config.get("test.s3.secret-key"));
        settings.setProperty("s3.bucket", d.bucket());
        settings.setProperty("sftp.host", TestServers.LOOPBACK);
        settings.setProperty("sftp.port", String.valueOf(d.endpoints().sftpPort()));
        settings.setProperty("sftp.username", SftpServerResource.USER);
        settings.setProperty("sftp.password", SftpServerResource.PASSWORD);
        settings.setProperty("sftp.known-hosts", d.endpoints().sftpKnownHosts().toString());
        settings.setProperty("kafka.bootstrap-servers", bootstrap);
        settings.setProperty("kafka.topic", d.filesTopic());
        Path file = runDir.resolve("baseline.properties");
        try (var out = Files.newOutputStream(file)) {
            settings.store(out, system);
        }
        Path log = runDir.resolve("baseline.log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), HEAP, "-cp",
                System.getProperty("java.class.path"), BaselineClient.class.getName(), system, file.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException(system + " did not finish in 10 minutes: " + Files.readString(log));
        }
        String output = Files.readString(log);
        String line = output.lines().filter(l -> l.startsWith(BaselineClient.RESULT)).findFirst()
                .orElseThrow(() -> new IllegalStateException(system + " failed (exit " + p.exitValue() + "):\n" + output));
        JsonNode r = JSON.readTree(line.substring(BaselineClient.RESULT.length()));
        System.out.println("[bench] " + system + " " + w.id() + " time by step (s, all workers): " + r.path("stepSeconds"));
        List<Double> latencies = new ArrayList<>();
        r.path("latenciesMillis").forEach(v -> latencies.add(v.asDouble()));
        return new Figures(w.id(), system, r.path("files").asLong(), r.path("bytes").asLong(),
                r.path("wallSeconds").asDouble(), Percentiles.of(latencies, 50), Percentiles.of(latencies, 99),
                drainTokenRequests(), r.path("cpuSeconds").asDouble(), r.path("peakHeapBytes").asLong(),
                r.path("peakRssKiB").asLong());
    }

    // ------------------------------------------------------------------------------------------------ verification

    /** Every file, byte-identical, at every destination: or the run's figures do not count. */
    private void verify(String run, Destinations d, Map<String, String> expected) throws Exception {
        // ERP API: one accepted import per file, with the file's bytes.
        Map<String, String> erpReceived = new HashMap<>();
        erp.api().accepted().forEach(r -> erpReceived.put(r.fileName(), r.sha256()));
        assertEquals(expected, erpReceived, run + ": the ERP API received every file, byte-identical");
        // SFTP: every file in the drop folders, no temporary file left.
        assertEquals(expected, hashes(d.sftp().root()), run + ": the SFTP server holds every file, byte-identical");
        // S3: the archive holds every file's bytes (keys differ by system; the contents must not).
        List<String> archived = new ArrayList<>();
        try (Stream<Path> files = Files.walk(s3Store.resolve(d.bucket()))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                archived.add(TestServers.sha256(f));
            }
        }
        archived.sort(null);
        List<String> wanted = new ArrayList<>(expected.values());
        wanted.sort(null);
        assertEquals(wanted, archived, run + ": the S3 archive holds every file, byte-identical");
        // Kafka: one record per file.
        assertEquals(expected.size(), countRecords(d.filesTopic(), expected.size()), run + ": one Kafka record per file");
    }

    private static Map<String, String> hashes(Path root) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String name = f.getFileName().toString();
                assertTrue(out.put(URLDecoder.decode(name, StandardCharsets.UTF_8), TestServers.sha256(f)) == null,
                        "one file named " + name + " under " + root);
            }
        }
        return out;
    }

    private static long countRecords(String topic, long expected) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-verify-" + topic);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        long count = 0;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                count += consumer.poll(Duration.ofMillis(500)).count();
                if (count >= expected) {
                    // one more poll: more records than files would be a finding too
                    count += consumer.poll(Duration.ofMillis(500)).count();
                    break;
                }
            }
        }
        return count;
    }

    // ------------------------------------------------------------------------------------------------ report

    private static void report(List<Figures> runs, List<Figures> rounds, double minutes, boolean partial)
            throws IOException {
        StringBuilder table = new StringBuilder();
        table.append(String.format("%n%-3s %-7s %8s %9s %8s %10s %8s %9s %9s %7s %7s %9s %8s%n", "wl", "system",
                "items", "MiB", "wall s", "items/s", "MiB/s", "p50 ms", "p99 ms", "tokens", "CPU s", "heap MiB",
                "RSS MiB"));
        for (Figures f : runs) {
            table.append(String.format("%-3s %-7s %8d %9.1f %8.2f %10.1f %8.1f %9.1f %9.1f %7d %7.2f %9.0f %8.0f%n",
                    f.workload(), f.system(), f.items(), f.bytes() / 1048576.0, f.wallSeconds(), f.itemsPerSecond(),
                    f.mibPerSecond(), f.p50Millis(), f.p99Millis(), f.tokenRequests(), f.cpuSeconds(),
                    f.peakHeapBytes() / 1048576.0, f.peakRssKiB() / 1024.0));
        }
        Map<String, Map<String, Map<String, Double>>> ratios = new LinkedHashMap<>();
        table.append(String.format("%nratios (erphub / baseline)%n%-3s %-9s %10s %9s %9s %9s %7s %9s %8s%n", "wl", "vs",
                "items/s", "p50", "p99", "tokens/i", "CPU/i", "heap", "RSS"));
        for (Workload w : WORKLOADS) {
            Figures erphub = find(runs, w.id(), "erphub").orElse(null);
            for (String baseline : List.of("raw", "legacy")) {
                Figures b = find(runs, w.id(), baseline).orElse(null);
                if (erphub == null || b == null) {
                    continue; // not in this (partial) run
                }
                Map<String, Double> r = new LinkedHashMap<>();
                r.put("itemsPerSecond", erphub.itemsPerSecond() / b.itemsPerSecond());
                r.put("p50", erphub.p50Millis() / b.p50Millis());
                r.put("p99", erphub.p99Millis() / b.p99Millis());
                // Per item: the legacy pattern moves a sample of (d)'s files, and a system's CPU and tokens grow with
                // what it moved.
                r.put("tokenRequests", b.tokenRequests() == 0 ? Double.NaN
                        : ((double) erphub.tokenRequests() / erphub.items()) / ((double) b.tokenRequests() / b.items()));
                r.put("cpuSeconds", (erphub.cpuSeconds() / erphub.items()) / (b.cpuSeconds() / b.items()));
                r.put("peakHeap", (double) erphub.peakHeapBytes() / b.peakHeapBytes());
                r.put("peakRss", (double) erphub.peakRssKiB() / b.peakRssKiB());
                ratios.computeIfAbsent(w.id(), k -> new LinkedHashMap<>()).put(baseline, r);
                table.append(String.format("%-3s %-9s %10.2f %9.2f %9.2f %9.3f %7.2f %9.2f %8.2f%n", w.id(), baseline,
                        r.get("itemsPerSecond"), r.get("p50"), r.get("p99"), r.get("tokenRequests"),
                        r.get("cpuSeconds"), r.get("peakHeap"), r.get("peakRss")));
            }
        }
        table.append(String.format("%nstart-up (median of %d: process start to ready; resident memory after %d s idle)%n",
                STARTS, IDLE.toSeconds()));
        STARTUP.forEach((profile, figures) -> {
            Map<?, ?> f = (Map<?, ?>) figures;
            table.append(String.format("%-9s %6.2f s to ready %8.0f MiB idle RSS%n", profile, f.get("startToReadySeconds"),
                    f.get("idleRssMiB")));
        });
        table.append(String.format("%nwhole benchmark: %.1f min%n", minutes));
        System.out.println(table);

        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("command", "./mvnw -Pbench verify" + (partial ? " -Dbench.workloads=" + System.getProperty(
                "bench.workloads", "a,b,c,d") + " -Dbench.systems=" + System.getProperty("bench.systems",
                String.join(",", SYSTEMS)) : ""));
        doc.put("date", Instant.now().toString());
        doc.put("machine", Map.of(
                "cores", Runtime.getRuntime().availableProcessors(),
                "memoryGiB", ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                        .getTotalMemorySize() / (1L << 30),
                "os", System.getProperty("os.name") + " " + System.getProperty("os.version"),
                "java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"),
                "heapOfEachSystem", HEAP));
        doc.put("workloads", WORKLOADS);
        doc.put("units", Map.of("items", "files (a, b, d) or (tenant, upstream) polls (c)",
                "latency", "file listed to delivered to all destinations (a, b, d); one list request (c)",
                "cpuSeconds", "user + system CPU of the system's process during the workload (ratios: per item)",
                "tokenRequests", "requests at the token server during the workload (ratios: per item)",
                "peakHeap", "largest heap-in-use sample, every 100 ms", "peakRss", "VmHWM of the process"));
        doc.put("runs", runs.stream().map(f -> {
            Map<String, Object> m = new LinkedHashMap<>(JSON.convertValue(f, Map.class));
            m.put("itemsPerSecond", f.itemsPerSecond());
            m.put("mibPerSecond", f.mibPerSecond());
            return m;
        }).toList());
        doc.put("rounds", rounds.stream().map(f -> Map.of("workload", f.workload(), "system", f.system(),
                "itemsPerSecond", f.itemsPerSecond(), "cpuSeconds", f.cpuSeconds())).toList());
        doc.put("ratios", ratios);
        doc.put("startup", STARTUP);
        doc.put("erphubProfiles", PROFILES);
        doc.put("minutes", minutes);
        doc.put("table", table.toString());
        Path out = Path.of("target", "benchmark", Boolean.getBoolean("bench.quick") ? "benchmark-quick.json"
                : partial ? "benchmark-partial.json" : "benchmark.json");
        Files.createDirectories(out.getParent());
        JSON.writeValue(out.toFile(), doc);
        System.out.println("[bench] written " + out.toAbsolutePath());
    }

    private static java.util.Optional<Figures> find(List<Figures> runs, String workload, String system) {
        return runs.stream().filter(f -> f.workload().equals(workload) && f.system().equals(system)).findFirst();
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static void createTopics(Map<String, Integer> topics) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(topics.entrySet().stream().map(e -> new NewTopic(e.getKey(), e.getValue(), (short) 1))
                    .toList()).all().get(30, TimeUnit.SECONDS);
        }
    }

    /** Token requests the OAuth2 server answered since the last call. */
    private static long drainTokenRequests() {
        return TOKENS.getAndSet(0);
    }

    private static final AtomicLong TOKENS = new AtomicLong();

    /** Issues the server's default tokens for one issuer and counts them. */
    private static final class CountingTokens implements OAuth2TokenCallback {
        private final DefaultOAuth2TokenCallback tokens;

        CountingTokens(String issuer) {
            tokens = new DefaultOAuth2TokenCallback(issuer);
        }

        @Override
        public String issuerId() {
            return tokens.issuerId();
        }

        @Override
        public String subject(TokenRequest request) {
            TOKENS.incrementAndGet();
            return tokens.subject(request);
        }

        @Override
        public String typeHeader(TokenRequest request) {
            return tokens.typeHeader(request);
        }

        @Override
        public List<String> audience(TokenRequest request) {
            return tokens.audience(request);
        }

        @Override
        public Map<String, Object> addClaims(TokenRequest request) {
            return tokens.addClaims(request);
        }

        @Override
        public long tokenExpiry() {
            return tokens.tokenExpiry();
        }
    }

    interface Check {
        boolean done() throws Exception;
    }

    private static void awaitUntil(Duration timeout, PackagedApp app, Check check) {
        try {
            await().atMost(timeout).pollInterval(Duration.ofMillis(250)).until(() -> {
                if (!app.isAlive()) {
                    throw new IllegalStateException("erphub exited:\n" + tail(app.output()));
                }
                return check.done();
            });
        } catch (ConditionTimeoutException e) {
            throw new IllegalStateException("not done after " + timeout + ":\n" + tail(app.output()), e);
        }
    }

    private static String tail(String s) {
        return s.length() > 8000 ? s.substring(s.length() - 8000) : s;
    }

    private static long single(Connection db, String sql) throws Exception {
        try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static List<Double> doubles(Connection db, String sql) throws Exception {
        List<Double> out = new ArrayList<>();
        try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getDouble(1));
            }
        }
        return out;
    }

    private static String rows(Connection db, String sql) throws Exception {
        StringBuilder out = new StringBuilder();
        try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    out.append(rs.getString(i)).append(i < rs.getMetaData().getColumnCount() ? " | " : "\n");
                }
            }
        }
        return out.toString();
    }

    /** utime + stime of a process, from /proc/<pid>/stat (clock ticks of 10 ms on Linux). */
    private static long cpuNanos(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        return ticks * 10_000_000L;
    }

    private static long peakRssKiB(long pid) {
        return ProcessMemory.peakResidentKiB(String.valueOf(pid));
    }


    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** erphub's heap in use, sampled every 100 ms through its Jolokia agent (the same measure the baselines take). */
    private static final class JolokiaHeap {
        private final AtomicLong peak = new AtomicLong();
        private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        private final HttpClient http = HttpClient.newHttpClient();
        private final HttpRequest read;

        JolokiaHeap(int port, String password) {
            read = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/jolokia/read/java.lang:type=Memory/HeapMemoryUsage/used"))
                    // Jolokia answers only allowed origins (erphub.jolokia.allowed-origins, the console's by default).
                    .header("Origin", "http://localhost:8090")
                    .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                            ("hawtio:" + password).getBytes(StandardCharsets.UTF_8)))
                    .build();
            timer.scheduleAtFixedRate(this::sample, 0, 100, TimeUnit.MILLISECONDS);
        }

        private void sample() {
            try {
                JsonNode value = JSON.readTree(http.send(read, HttpResponse.BodyHandlers.ofString()).body()).path("value");
                if (value.isNumber()) {
                    peak.accumulateAndGet(value.asLong(), Math::max);
                }
            } catch (IOException | InterruptedException | RuntimeException e) {
                // a missed sample; the next one comes in 100 ms
            }
        }

        void reset() {
            peak.set(0);
        }

        long peak() {
            return peak.get();
        }

        void stop() {
            timer.shutdownNow();
        }
    }
}
