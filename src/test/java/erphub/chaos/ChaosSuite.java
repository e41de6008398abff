package erphub.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import erphub.testing.ErpApiResource;
import erphub.testing.PackagedApp;
import erphub.testing.PayrollFileServer;
import erphub.testing.ProdEnvironment;
import erphub.testing.Percentiles;
import erphub.testing.ProdServers;
import erphub.testing.SftpServerResource;
import erphub.testing.TestServers;
import erphub.testing.TestTenants;
import erphub.testing.TokenRevocation;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import software.amazon.awssdk.services.s3.model.CreateBucketRequest;

/**
 * Replicas under fire ({@code ./mvnw -Pchaos verify}; not part of the default test run): packaged erphub JVMs in
 * {@code prod} over one PostgreSQL and one Kafka broker, with the real servers of the benchmark on 127.0.0.1.
 * <ol>
 * <li>Throughput with 1, 2 and 3 replicas, each on a clean ledger, nothing failing.</li>
 * <li>The chaos run, three replicas: the ERP answers 30 % of its requests 503; the SFTP server goes away for 20 s
 * (stopped, its sessions dropped, then back on the same port and key); every token issued so far is revoked at the
 * upstream and the ERP; ten {@code kill -9} of random replicas, three of them the one holding the most poll leases,
 * each replaced at once (alternately under the same node id, as a restarted process, and under a new one, as a
 * Deployment's new pod); then a rolling restart.</li>
 * </ol>
 * It prints files lost, duplicates at each destination, the longest wait of a file a killed replica held, the list
 * calls per poll cycle, and the throughputs; it writes {@code target/chaos/chaos.json}. Sizes:
 * {@code -Dchaos.files} (5000), {@code -Dchaos.tenants} (50), {@code -Dchaos.kills} (10), {@code -Dchaos.seed}; the
 * throughput runs {@code -Dchaos.throughput=1,2,3} (empty: none).
 */
class ChaosSuite {

    static final int FILES = Integer.getInteger("chaos.files", 5000);
    static final int TENANTS = Integer.getInteger("chaos.tenants", 50);
    static final int KILLS = Integer.getInteger("chaos.kills", 10);
    static final long SEED = Long.getLong("chaos.seed", System.nanoTime());
    static final long FILE_SIZE = 8 * 1024;
    static final String HEAP = "-Xmx512m";
    static final Duration POLL = Duration.ofSeconds(1);
    /** In the chaos run, the files arrive evenly over this long ({@code -Dchaos.arrival-seconds}). */
    static final Duration ARRIVAL = Duration.ofSeconds(Long.getLong("chaos.arrival-seconds", 800));

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private static ProdServers servers;
    private static Path work;

    @BeforeAll
    static void startServers() throws Exception {
        work = TestServers.scratchDir("chaos-");
        servers = ProdServers.start(work, Set.of(new DefaultOAuth2TokenCallback("upstream"),
                new DefaultOAuth2TokenCallback("erp")));
    }

    @AfterAll
    static void stopServers() {
        servers.close();
    }

    @Test
    void replicasLoseNothingAndDuplicateNothingThroughKillsOutagesAndRevokedTokens() throws Exception {
        System.out.printf("[chaos] %d files of %d KiB over %d tenants, %d kills, seed %d%n", FILES, FILE_SIZE / 1024,
                TENANTS, KILLS, SEED);
        Map<String, Object> report = new LinkedHashMap<>();
        Map<Integer, Double> throughput = new LinkedHashMap<>();
        for (String count : System.getProperty("chaos.throughput", "1,2,3").split(",")) {
            if (count.isBlank()) {
                continue;
            }
            int replicas = Integer.parseInt(count.trim());
            try (Cluster cluster = new Cluster("throughput-" + replicas)) {
                cluster.addFiles();
                for (int i = 1; i <= replicas; i++) {
                    cluster.start("r" + i, "r" + i);
                }
                cluster.awaitReady();
                cluster.awaitDelivered(Duration.ofMinutes(15));
                // From the first claim to the last delivery.
                double seconds = Duration.between(cluster.firstClaim(), cluster.lastDelivery()).toMillis() / 1000.0;
                Outcome outcome = cluster.outcome();
                assertEquals(0, outcome.lost(), "throughput run with " + replicas + " replicas: " + outcome);
                throughput.put(replicas, FILES / seconds);
                System.out.printf("[chaos] %d replica(s): %d files in %.1f s, %.1f files/s; %s%n", replicas, FILES,
                        seconds, FILES / seconds, outcome);
            }
        }
        report.put("throughputFilesPerSecond", throughput);

        Random random = new Random(SEED);
        try (Cluster cluster = new Cluster("chaos")) {
            List<String> slots = List.of("r1", "r2", "r3");
            servers.erp().api().failureRate(0.3);
            slots.forEach(slot -> cluster.start(slot, slot));
            cluster.awaitReady();
            Instant t0 = Instant.now();
            cluster.started = t0;

            // The timeline, from the moment all three are ready. The files arrive at a steady rate over ARRIVAL (as
            // exports do; all at once, the last kill found thousands queued and "the wait after it" measured only how
            // fast two cores drain a backlog). Kills evenly from 20 s to a minute before the last file arrives, of a
            // ready replica (one still starting holds nothing); the SFTP outage at 60-80 s; the tokens revoked at
            // 100 s; then a rolling restart.
            Thread feeder = new Thread(() -> cluster.feed(t0, ARRIVAL), "chaos-feeder");
            feeder.start();
            Thread outage = new Thread(() -> {
                sleepUntil(t0.plusSeconds(60));
                cluster.sftp.stop();
                System.out.printf("[chaos] %5.1f s: SFTP server down (sessions dropped)%n", since(t0));
                sleepUntil(t0.plusSeconds(80));
                cluster.sftp.start();
                System.out.printf("[chaos] %5.1f s: SFTP server back%n", since(t0));
            }, "chaos-sftp-outage");
            outage.start();
            Thread revocation = new Thread(() -> {
                sleepUntil(t0.plusSeconds(100));
                cluster.revocation.revokeAll();
                System.out.printf("[chaos] %5.1f s: every token issued so far revoked%n", since(t0));
            }, "chaos-revocation");
            revocation.start();
            List<Kill> kills = new ArrayList<>();
            for (int k = 0; k < KILLS; k++) {
                sleepUntil(t0.plusSeconds(20 + k * (ARRIVAL.toSeconds() - 60) / KILLS));
                List<String> ready = cluster.awaitAnyReady();
                String leader = cluster.pollLeader();
                String victim = k % 3 == 0 && ready.contains(leader) ? leader : ready.get(random.nextInt(ready.size()));
                kills.add(cluster.kill(victim, k, victim.equals(leader), t0));
                // Replaced at once: alternately the same node id (a restarted process) and a new one (a new pod).
                cluster.start(victim, k % 2 == 0 ? cluster.nodeId(victim) : victim + "-k" + (k + 1));
            }
            outage.join();
            revocation.join();
            feeder.join();
            Instant lastKill = kills.get(kills.size() - 1).at();
            cluster.awaitReady();
            for (String slot : slots) {
                cluster.stop(slot);
                cluster.start(slot, cluster.nodeId(slot));
                cluster.awaitReady();
                System.out.printf("[chaos] %5.1f s: rolling restart, %s back%n", since(t0), slot);
            }
            cluster.awaitDelivered(Duration.ofMinutes(15));
            Instant done = cluster.lastDelivery();

            // Every file a killed replica held, from its kill to its delivery.
            double longestAfterLastKill = 0;
            double longestAfterAnyKill = 0;
            List<Map<String, Object>> killReport = new ArrayList<>();
            for (Kill kill : kills) {
                double wait = cluster.longestWait(kill);
                longestAfterAnyKill = Math.max(longestAfterAnyKill, wait);
                if (kill == kills.get(kills.size() - 1)) {
                    longestAfterLastKill = wait;
                }
                killReport.add(Map.of("kill", kill.number() + 1, "replica", kill.node(), "pollLeader", kill.leader(),
                        "at", Duration.between(t0, kill.at()).toMillis() / 1000.0, "filesHeld", kill.files().size(),
                        "longestWaitSeconds", wait));
            }
            double longestAfterLastKillAnyFile = cluster.longestWaitAfter(lastKill);
            longestAfterLastKill = Math.max(longestAfterLastKill, longestAfterLastKillAnyFile);
            List<Double> latencies = cluster.latencies();
            Outcome outcome = cluster.outcome();
            double listCallsPerCycle = cluster.listCallsPerCycle(Duration.ofSeconds(10));

            Map<String, Object> chaos = new LinkedHashMap<>();
            chaos.put("files", FILES);
            chaos.put("tenants", TENANTS);
            chaos.put("seed", SEED);
            chaos.put("filesLost", outcome.lost());
            chaos.put("erpImportsOfOneFileUnderTwoKeys", outcome.erpDuplicateImports());
            chaos.put("erpAcceptancesPerKeyAboveOne", outcome.erpKeysAcceptedTwice());
            chaos.put("erpRepeatsCaughtByTheKey", outcome.erpRepeats());
            chaos.put("erp503", outcome.erp503());
            chaos.put("sftpDuplicatesByHash", outcome.sftpDuplicates());
            chaos.put("kafkaDuplicatesByFile", outcome.kafkaDuplicates());
            chaos.put("tokensRefused", cluster.revocation.refused());
            chaos.put("longestWaitAfterLastKillSeconds", longestAfterLastKill);
            chaos.put("longestWaitAfterAnyKillSeconds", longestAfterAnyKill);
            chaos.put("fileLatencySecondsP50", Percentiles.of(latencies, 50));
            chaos.put("fileLatencySecondsP99", Percentiles.of(latencies, 99));
            chaos.put("fileLatencySecondsMax", Percentiles.of(latencies, 100));
            chaos.put("arrivalSeconds", ARRIVAL.toSeconds());
            chaos.put("lastKillToLastDeliverySeconds", Duration.between(lastKill, done).toMillis() / 1000.0);
            chaos.put("wholeRunSeconds", Duration.between(t0, done).toMillis() / 1000.0);
            chaos.put("listCallsPerCycle", listCallsPerCycle);
            chaos.put("pairs", TENANTS);
            chaos.put("kills", killReport);
            report.put("chaos", chaos);
            report.put("command", "./mvnw -Pchaos verify");
            report.put("date", Instant.now().toString());
            report.put("machine", Runtime.getRuntime().availableProcessors() + " cores, " + HEAP + " per replica");

            System.out.printf("%n[chaos] %s%n", outcome);
            System.out.printf("[chaos] files lost: %d of %d%n", outcome.lost(), FILES);
            System.out.printf("[chaos] duplicates: ERP %d files imported under two keys, %d keys accepted twice (%d"
                    + " repeats answered 409 by the key, %d requests answered 503); SFTP %d by hash; Kafka %d by file%n",
                    outcome.erpDuplicateImports(), outcome.erpKeysAcceptedTwice(), outcome.erpRepeats(), outcome.erp503(),
                    outcome.sftpDuplicates(), outcome.kafkaDuplicates());
            System.out.printf("[chaos] tokens: %d requests refused after the revocation%n", cluster.revocation.refused());
            System.out.printf("[chaos] longest wait of any file after the last kill: %.1f s; of a file a killed replica"
                    + " held, from its kill: %.1f s; last kill to last delivery %.1f s; whole run %.1f s (files arriving"
                    + " over %d s)%n", longestAfterLastKill, longestAfterAnyKill,
                    Duration.between(lastKill, done).toMillis() / 1000.0, Duration.between(t0, done).toMillis() / 1000.0,
                    ARRIVAL.toSeconds());
            System.out.printf("[chaos] listed to delivered, every file: p50 %.1f s, p99 %.1f s, max %.1f s%n",
                    Percentiles.of(latencies, 50), Percentiles.of(latencies, 99), Percentiles.of(latencies, 100));
            System.out.printf("[chaos] upstream list calls per poll cycle: %.2f for %d (upstream, tenant) pairs, 3"
                    + " replicas%n", listCallsPerCycle, TENANTS);
            System.out.printf("[chaos] throughput (files/s): %s%n", throughput);
            killReport.forEach(k -> System.out.println("[chaos] " + k));
            Path out = Path.of("target", "chaos", "chaos.json");
            Files.createDirectories(out.getParent());
            JSON.writeValue(out.toFile(), report);
            System.out.println("[chaos] written " + out.toAbsolutePath());

            assertEquals(0, outcome.lost(), "files lost: " + outcome);
            assertEquals(0, outcome.erpDuplicateImports() + outcome.erpKeysAcceptedTwice(), "ERP duplicates: " + outcome);
            assertEquals(0, outcome.sftpDuplicates(), "SFTP duplicates: " + outcome);
            assertEquals(0, outcome.kafkaDuplicates(), "Kafka duplicates: " + outcome);
            assertTrue(cluster.revocation.refused() > 0, "the revocation refused tokens in use");
            assertTrue(longestAfterLastKill <= 120, "longest wait after the last kill: " + longestAfterLastKill + " s");
            assertTrue(listCallsPerCycle <= TENANTS * 1.25, listCallsPerCycle + " list calls per cycle for " + TENANTS
                    + " pairs");
        }
    }

    /** A kill: which replica (its node id then), when, whether it held the most poll leases, the files it held. */
    record Kill(int number, String node, Instant at, boolean leader, List<Long> files) {
    }

    /** What reached the destinations, against what the upstream offered. */
    record Outcome(long lost, long erpDuplicateImports, long erpKeysAcceptedTwice, long erpRepeats, long erp503,
            long sftpDuplicates, long kafkaDuplicates, Map<String, Long> states) {
    }

    /** One run's servers, database, topics and replicas. */
    private static final class Cluster implements AutoCloseable {
        final String name;
        final Path dir;
        final PayrollFileServer upstream;
        final SftpServerResource.SftpServer sftp;
        final TokenRevocation revocation = new TokenRevocation();
        final String databaseUrl;
        final String filesTopic;
        final ProdEnvironment prod;
        final Connection db;
        final Map<String, PackagedApp> replicas = new TreeMap<>();
        final Map<String, String> nodeIds = new HashMap<>();
        final Map<String, String> expected = new java.util.concurrent.ConcurrentHashMap<>(); // file name -> sha256
        Instant started;

        Cluster(String name) throws Exception {
            this.name = name;
            dir = Files.createDirectories(work.resolve(name));
            upstream = new PayrollFileServer();
            upstream.honour(revocation);
            servers.erp().api().reset();
            servers.erp().api().honour(revocation);
            sftp = new SftpServerResource.SftpServer(dir.resolve("sftp"));
            sftp.start();
            databaseUrl = servers.newDatabase("chaos_" + name.replace('-', '_'));
            String bucket = "chaos-" + name;
            servers.s3().client().createBucket(CreateBucketRequest.builder().bucket(bucket).build());
            String prefix = "chaos-" + name;
            filesTopic = prefix + "-files";
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers.bootstrap()))) {
                admin.createTopics(List.of(new NewTopic(prefix + "-intake", 12, (short) 1), new NewTopic(filesTopic, 3,
                        (short) 1), new NewTopic(prefix + "-events", 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            TestTenants registry = new TestTenants();
            for (String tenant : tenants()) {
                registry.tenant(tenant, Map.of("payroll-exports", "payroll")).client(tenant + "-erp", "chaos-" + tenant + "-erp");
            }
            prod = ProdEnvironment.of(new ProdEnvironment.Servers(databaseUrl, servers.bootstrap(), prefix,
                    servers.s3Config(), bucket, sftp, servers.erp().api().baseUrl(),
                    servers.oauth2().tokenEndpointUrl("erp").toString(), upstream.baseUrl(),
                    servers.oauth2().tokenEndpointUrl("upstream").toString()), registry, "chaos-" + name, dir);
            db = DriverManager.getConnection(databaseUrl, "postgres", "");
        }

        static List<String> tenants() {
            return IntStream.rangeClosed(1, TENANTS).mapToObj(i -> String.format("t%03d", i)).toList();
        }

        /** The upstream offers every file before the replicas start (adding 5,000 took a minute beside them). */
        void addFiles() {
            started = Instant.now();
            for (int i = 0; i < FILES; i++) {
                addFile(i);
            }
        }

        /** The files arrive one by one, evenly over {@code over} from {@code t0}. */
        void feed(Instant t0, Duration over) {
            for (int i = 0; i < FILES; i++) {
                sleepUntil(t0.plusMillis(over.toMillis() * i / FILES));
                addFile(i);
            }
        }

        private void addFile(int i) {
            List<String> tenants = tenants();
            String tenant = tenants.get(i % tenants.size());
            PayrollFileServer.GeneratedFile f = upstream.add(tenant, String.format("%s-%05d", tenant, i), FILE_SIZE);
            expected.put(f.name(), f.sha256());
        }

        void start(String slot, String nodeId) {
            Map<String, String> props = new HashMap<>(prod.properties());
            props.put("erphub.node-id", nodeId);
            props.put("erphub.upstreams.payroll-exports.poll-interval", String.valueOf(POLL.toMillis()));
            nodeIds.put(slot, nodeId);
            replicas.put(slot, PackagedApp.start(dir.resolve("app-" + slot), props, prod.environment(), HEAP));
        }

        String nodeId(String slot) {
            return nodeIds.get(slot);
        }

        void awaitReady() {
            // A replica starting beside the others at work took over two minutes on two cores.
            replicas.values().forEach(app -> app.awaitReady(Duration.ofMinutes(5)));
        }

        /** The slots whose replica is ready, once one is. */
        List<String> awaitAnyReady() {
            return org.awaitility.Awaitility.await("a ready replica").atMost(Duration.ofMinutes(5))
                    .pollInterval(Duration.ofMillis(200)).until(() -> replicas.entrySet().stream()
                            .filter(e -> e.getValue().isReady()).map(Map.Entry::getKey).toList(), ready -> !ready.isEmpty());
        }

        /** kill -9; the files and deliveries the replica's run held at that moment. */
        Kill kill(String slot, int number, boolean leader, Instant t0) throws Exception {
            String node = nodeIds.get(slot);
            String owner = node.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "#%";
            replicas.get(slot).kill();
            Instant at = Instant.now();
            List<Long> held = longs("SELECT id FROM file_version WHERE claimed_by LIKE ? ESCAPE '!' AND state IN"
                    + " ('DISCOVERED', 'DOWNLOADED', 'ARCHIVED', 'VALIDATED') UNION SELECT file_id FROM file_delivery"
                    + " WHERE claimed_by LIKE ? ESCAPE '!' AND state IN ('PENDING', 'RETRYING')", owner, owner);
            System.out.printf("[chaos] %5.1f s: kill -9 #%d of %s (%s)%s, holding %d files%n", since(t0), number + 1, slot,
                    node, leader ? ", the poll leader" : "", held.size());
            return new Kill(number, node, at, leader, held);
        }

        void stop(String slot) {
            replicas.get(slot).close();
        }

        /** The slot whose replica holds the most live poll leases, or null. */
        String pollLeader() throws Exception {
            List<String> holders = strings("SELECT holder FROM poll_lease WHERE lease_until > CURRENT_TIMESTAMP"
                    + " GROUP BY holder ORDER BY COUNT(*) DESC");
            if (holders.isEmpty()) {
                return null;
            }
            String node = holders.get(0).substring(0, holders.get(0).lastIndexOf('#'));
            return nodeIds.entrySet().stream().filter(e -> e.getValue().equals(node)).map(Map.Entry::getKey).findFirst()
                    .orElse(null);
        }

        /** Until every file is DELIVERED; fails when nothing moved for three minutes. */
        void awaitDelivered(Duration timeout) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            long last = -1;
            long lastMoved = System.nanoTime();
            while (true) {
                long delivered = single("SELECT COUNT(*) FROM file_version WHERE state = 'DELIVERED'");
                if (delivered == FILES) {
                    return;
                }
                if (delivered != last) {
                    last = delivered;
                    lastMoved = System.nanoTime();
                }
                if (System.nanoTime() > deadline || System.nanoTime() - lastMoved > TimeUnit.MINUTES.toNanos(3)) {
                    System.out.println("[chaos] not delivered: " + states() + "\n" + strings("SELECT remote_id || ' '"
                            + " || state || ' ' || COALESCE(reason, '') FROM file_version WHERE state <> 'DELIVERED'"
                            + " FETCH FIRST 10 ROWS ONLY"));
                    return;
                }
                Thread.sleep(500);
            }
        }

        Instant firstClaim() throws Exception {
            return Instant.ofEpochMilli(single("SELECT CAST(EXTRACT(EPOCH FROM MIN(created_at)) * 1000 AS BIGINT)"
                    + " FROM file_version"));
        }

        Instant lastDelivery() throws Exception {
            return Instant.ofEpochMilli(single("SELECT CAST(EXTRACT(EPOCH FROM MAX(occurred_at)) * 1000 AS BIGINT)"
                    + " FROM file_transition WHERE to_state = 'DELIVERED'"));
        }

        /** From the kill to the last delivery of a file the killed replica held (0 if it held none). */
        double longestWait(Kill kill) throws Exception {
            if (kill.files().isEmpty()) {
                return 0;
            }
            double longest = 0;
            long slowest = -1;
            for (Long id : kill.files()) {
                long delivered = single("SELECT COALESCE(CAST(EXTRACT(EPOCH FROM MAX(occurred_at)) * 1000 AS BIGINT), -1)"
                        + " FROM file_transition WHERE file_id = " + id + " AND to_state = 'DELIVERED'");
                double wait = delivered < 0 ? Double.POSITIVE_INFINITY : (delivered - kill.at().toEpochMilli()) / 1000.0;
                if (wait > longest) {
                    longest = wait;
                    slowest = id;
                }
            }
            if (slowest >= 0) {
                System.out.printf("[chaos] kill #%d: the slowest of its %d files, %d, waited %.1f s:%n%s%n",
                        kill.number() + 1, kill.files().size(), slowest, longest, history(slowest, kill.at()));
            }
            return longest;
        }

        /** The longest a file delivered after {@code at} waited from its listing or {@code at}, the later. */
        double longestWaitAfter(Instant at) throws Exception {
            try (PreparedStatement ps = db.prepareStatement("SELECT COALESCE(MAX(EXTRACT(EPOCH FROM (d.at - GREATEST(f.first_at,"
                    + " ?)))), 0) FROM (SELECT file_id, MIN(occurred_at) AS first_at FROM file_transition GROUP BY file_id) f"
                    + " JOIN (SELECT file_id, MAX(occurred_at) AS at FROM file_transition WHERE to_state = 'DELIVERED'"
                    + " GROUP BY file_id) d ON d.file_id = f.file_id WHERE d.at > ?")) {
                ps.setTimestamp(1, java.sql.Timestamp.from(at));
                ps.setTimestamp(2, java.sql.Timestamp.from(at));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getDouble(1);
                }
            }
        }

        /** Every file's seconds from listed to delivered. */
        List<Double> latencies() throws Exception {
            List<Double> out = new ArrayList<>();
            try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("SELECT EXTRACT(EPOCH FROM (d.at -"
                    + " f.first_at)) FROM (SELECT file_id, MIN(occurred_at) AS first_at FROM file_transition GROUP BY"
                    + " file_id) f JOIN (SELECT file_id, MAX(occurred_at) AS at FROM file_transition WHERE to_state ="
                    + " 'DELIVERED' GROUP BY file_id) d ON d.file_id = f.file_id")) {
                while (rs.next()) {
                    out.add(rs.getDouble(1));
                }
            }
            out.sort(null);
            return out;
        }

        /** A file's transitions and its deliveries', in seconds from {@code from}: where a wait went. */
        String history(long fileId, Instant from) throws Exception {
            StringBuilder out = new StringBuilder();
            try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("SELECT occurred_at, '-' AS"
                    + " destination, node, to_state, detail FROM file_transition WHERE file_id = " + fileId + " UNION ALL"
                    + " SELECT occurred_at, destination, node, to_state, detail FROM delivery_transition WHERE file_id = "
                    + fileId + " ORDER BY occurred_at")) {
                while (rs.next()) {
                    out.append(String.format("  %+8.1f s %-8s %-10s %-15s %s%n",
                            Duration.between(from, rs.getTimestamp(1).toInstant()).toMillis() / 1000.0, rs.getString(2),
                            rs.getString(3), rs.getString(4), rs.getString(5)));
                }
            }
            return out.toString();
        }

        /** Upstream list calls per poll interval over a quiet window (every file delivered: lists only). */
        double listCallsPerCycle(Duration window) throws Exception {
            upstream.resetCounts();
            long t0 = System.nanoTime();
            Thread.sleep(window.toMillis());
            long calls = tenants().stream().mapToLong(upstream::requests).sum();
            return calls / ((System.nanoTime() - t0) / (double) POLL.toNanos());
        }

        Outcome outcome() throws Exception {
            // ERP API: each file once under one key; repeats of a key answered 409.
            Map<String, Set<String>> keysByFile = new HashMap<>();
            Map<String, Long> acceptedPerKey = new HashMap<>();
            Map<String, String> erpReceived = new HashMap<>();
            long repeats = 0;
            long unavailable = 0;
            for (ErpApiResource.Received r : servers.erp().api().received()) {
                if (r.status() == 201) {
                    keysByFile.computeIfAbsent(r.tenant() + "/" + r.fileName(), k -> new java.util.HashSet<>())
                            .add(r.idempotencyKey());
                    acceptedPerKey.merge(r.idempotencyKey(), 1L, Long::sum);
                    erpReceived.put(r.fileName(), r.sha256());
                } else if (r.status() == 409) {
                    repeats++;
                } else if (r.status() == 503) {
                    unavailable++;
                }
            }
            long erpDuplicateImports = keysByFile.values().stream().filter(keys -> keys.size() > 1).count();
            long keysTwice = acceptedPerKey.values().stream().filter(n -> n > 1).count();
            // SFTP: by content; a file's name more than once, or its bytes under two names, is a duplicate.
            Map<String, String> sftpFiles = new HashMap<>();
            Map<String, Long> perHash = new HashMap<>();
            try (Stream<Path> files = Files.walk(sftp.root())) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    String hash = TestServers.sha256(f);
                    perHash.merge(hash, 1L, Long::sum);
                    sftpFiles.put(URLDecoder.decode(f.getFileName().toString(), StandardCharsets.UTF_8), hash);
                }
            }
            long sftpDuplicates = perHash.values().stream().filter(n -> n > 1).mapToLong(n -> n - 1).sum();
            // Kafka: one file.available record per delivery (its Idempotency-Key header).
            Map<String, Long> recordsPerKey = new HashMap<>();
            Map<String, Long> fileOfKey = new HashMap<>();
            Set<String> kafkaNames = new java.util.HashSet<>();
            for (ConsumerRecord<String, String> r : records(filesTopic)) {
                JsonNode event = JSON.readTree(r.value());
                var header = r.headers().lastHeader("Idempotency-Key");
                String key = header == null ? "file " + event.path("fileId").asLong()
                        : new String(header.value(), StandardCharsets.UTF_8);
                recordsPerKey.merge(key, 1L, Long::sum);
                fileOfKey.put(key, event.path("fileId").asLong());
                kafkaNames.add(event.path("fileName").asText());
            }
            long kafkaDuplicates = recordsPerKey.values().stream().filter(n -> n > 1).mapToLong(n -> n - 1).sum();
            for (Map.Entry<String, Long> twice : recordsPerKey.entrySet()) {
                if (twice.getValue() > 1) {
                    System.out.printf("[chaos] %d records on %s under Idempotency-Key %s:%n%s%n", twice.getValue(),
                            filesTopic, twice.getKey(), history(fileOfKey.get(twice.getKey()), started));
                }
            }
            // Lost: a file the upstream offered that one of the destinations does not have, byte-identical.
            long lost = expected.entrySet().stream().filter(e -> !e.getValue().equals(erpReceived.get(e.getKey()))
                    || !e.getValue().equals(sftpFiles.get(e.getKey())) || !kafkaNames.contains(e.getKey())).count();
            return new Outcome(lost, erpDuplicateImports, keysTwice, repeats, unavailable, sftpDuplicates, kafkaDuplicates,
                    states());
        }

        private List<ConsumerRecord<String, String>> records(String topic) {
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers.bootstrap());
            p.put(ConsumerConfig.GROUP_ID_CONFIG, "chaos-verify-" + topic + "-" + System.nanoTime());
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            List<ConsumerRecord<String, String>> out = new ArrayList<>();
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
                consumer.subscribe(List.of(topic));
                long quietSince = System.nanoTime();
                while (System.nanoTime() - quietSince < TimeUnit.SECONDS.toNanos(out.size() >= FILES ? 3 : 20)) {
                    var batch = consumer.poll(Duration.ofMillis(500));
                    batch.forEach(out::add);
                    if (!batch.isEmpty()) {
                        quietSince = System.nanoTime();
                    }
                }
            }
            return out;
        }

        Map<String, Long> states() throws Exception {
            Map<String, Long> out = new TreeMap<>();
            try (Statement s = db.createStatement();
                    ResultSet rs = s.executeQuery("SELECT state, COUNT(*) FROM file_version GROUP BY state")) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getLong(2));
                }
            }
            return out;
        }

        private long single(String sql) throws Exception {
            try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                rs.next();
                return rs.getLong(1);
            }
        }

        private List<Long> longs(String sql, String... params) throws Exception {
            List<Long> out = new ArrayList<>();
            try (PreparedStatement ps = db.prepareStatement(sql)) {
                for (int i = 0; i < params.length; i++) {
                    ps.setString(i + 1, params[i]);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getLong(1));
                    }
                }
            }
            return out;
        }

        private List<String> strings(String sql) throws Exception {
            List<String> out = new ArrayList<>();
            try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        }

        @Override
        public void close() throws Exception {
            replicas.values().forEach(PackagedApp::close);
            db.close();
            sftp.stop();
            upstream.close();
        }
    }

    private static double since(Instant t0) {
        return Duration.between(t0, Instant.now()).toMillis() / 1000.0;
    }

    private static void sleepUntil(Instant at) {
        long millis = Duration.between(Instant.now(), at).toMillis();
        if (millis > 0) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

}
