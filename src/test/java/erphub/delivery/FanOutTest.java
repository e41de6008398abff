package erphub.delivery;

import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.github.tomakehurst.wiremock.WireMockServer;

import erphub.delivery.DeliveryReplay.ReplayResult;
import erphub.state.DeliveryRecord;
import erphub.state.DeliveryState;
import erphub.state.LedgerQueries.DeadFilter;
import erphub.state.DeliveryTransition;
import erphub.state.FileKey;
import erphub.state.FileRecord;
import erphub.state.FileState;
import erphub.state.ClaimStore;
import erphub.state.FileLedger;
import erphub.state.LedgerQueries;
import erphub.state.Transition;
import erphub.testing.OnEveryDatabase;
import erphub.testing.ErpApiResource;
import erphub.testing.ErpApiResource.ErpApi;
import erphub.testing.ErpApiResource.Received;
import erphub.testing.ExampleUpstreams;
import erphub.testing.ExampleUpstreams.RemoteFile;
import erphub.testing.GrafanaDashboard;
import erphub.testing.InjectTestServer;
import erphub.testing.KafkaBrokerResource;
import erphub.testing.KafkaBrokerResource.KafkaBroker;
import erphub.testing.PgpTestKeys;
import erphub.testing.PrometheusText;
import erphub.testing.RouteInspection;
import erphub.testing.S3ServerResource;
import erphub.testing.OtlpReceiverResource;
import erphub.testing.OtlpReceiverResource.ExportedSpan;
import erphub.tracing.FileTraces;
import erphub.testing.SftpServerResource;
import erphub.testing.SftpServerResource.SftpServer;
import erphub.testing.TestTenants;
import erphub.testing.TokenSubjectPattern;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;

/**
 * FAN-OUT against real servers on 127.0.0.1: the example upstreams (WireMock) behind a real OAuth2 server,
 * the archive in an S3-compatible server, and all three destinations: an HTTP server as the ERP API, MINA
 * SSHD as the SFTP drop server and a KRaft Kafka broker. On H2 here, on PostgreSQL in
 * {@link FanOutOnPostgresTest}. The methods build on each other, in order.
 */
@QuarkusTest
@TestProfile(FanOutTest.AllDestinations.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FanOutTest {

    static final List<String> TENANTS = List.of("acme", "globex", "initech");
    static final List<String> DESTINATIONS = List.of("erp-api", "kafka", "sftp");
    static final String FILES_TOPIC = "erphub.files";
    /**
     * Files each tenant has at each upstream: 120 in all keep every destination's workers (8 ERP, 4 SFTP, 4 Kafka) busy
     * many times over and each tenant's four download slots full.
     */
    static final int PER_TENANT_AND_UPSTREAM = 20;
    static final long FILES = PER_TENANT_AND_UPSTREAM * 3L * 2L;
    static final String EVENTS_TOPIC = "erphub.events";
    /** Its SFTP deliveries are encrypted to its OpenPGP key (registry: destinations.sftp.pgpPublicKey). */
    static final String PGP_TENANT = "globex";
    /**
     * Its registry names an OpenPGP key that is valid when the registry loads and expires while the class runs: its
     * files must then not go out to SFTP at all (not in plaintext, not to the expired key). The validity starts when
     * the profile is built: long enough for the test servers and the application to start (the registry loads then,
     * 13 s in here, twice that on a slow machine), short enough that the class's earlier tests (about 50 s from the
     * profile on) leave nothing to wait for.
     */
    static final String EXPIRING_PGP_TENANT = "umbrella";
    static final Duration EXPIRING_PGP_VALIDITY = Duration.ofSeconds(45);
    static final String ARCHIVE_KMS_KEY = "arn:aws:kms:eu-central-1:111122223333:key/fan-out-archive";
    /** Every metric name /q/metrics showed during this class's run (a gauge can come and go, like dead letters). */
    static final Set<String> EXPOSED = ConcurrentHashMap.newKeySet();

    public static class AllDestinations implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            TestTenants registry = new TestTenants();
            TENANTS.forEach(tenant -> {
                registry.tenant(tenant, ExampleUpstreams.CREDENTIALS).client(tenant + "-erp", "erp-secret-" + tenant);
                if (tenant.equals(PGP_TENANT)) {
                    registry.entry("  destinations:\n    sftp: {pgpPublicKey: " + tenant + "-pgp}")
                            .config("erphub.credentials." + tenant + "-pgp.pgp-public-key", pgpKey().armoredPublicKey());
                }
            });
            registry.tenant(EXPIRING_PGP_TENANT, ExampleUpstreams.CREDENTIALS)
                    .client(EXPIRING_PGP_TENANT + "-erp", "erp-secret-" + EXPIRING_PGP_TENANT)
                    .entry("  destinations:\n    sftp: {pgpPublicKey: " + EXPIRING_PGP_TENANT + "-pgp}")
                    .config("erphub.credentials." + EXPIRING_PGP_TENANT + "-pgp.pgp-public-key", PgpTestKeys.expiringIn(
                            EXPIRING_PGP_TENANT + " <sftp@" + EXPIRING_PGP_TENANT + ".example>", EXPIRING_PGP_VALIDITY)
                            .armoredPublicKey());
            Map<String, String> config = new HashMap<>(ExampleUpstreams.tenantConfig(registry, "fan-out"));
            config.put("erphub.upstreams.payroll-exports.destinations", "erp-api,sftp,kafka");
            config.put("erphub.upstreams.supplier-invoices.destinations", "erp-api,sftp,kafka");
            config.put("erphub.destinations.erp-api.token-url", "${test.oauth2.token-url}");
            config.put("erphub.destinations.erp-api.max-redeliveries", "12");
            config.put("erphub.destinations.erp-api.redelivery-delay", "50");
            config.put("erphub.destinations.erp-api.max-redelivery-delay", "400");
            config.putAll(SftpServerResource.asDestination());
            config.put("erphub.destinations.sftp.connect-timeout", "2000");
            config.put("erphub.destinations.sftp.read-timeout", "5000");
            config.put("erphub.destinations.sftp.max-redeliveries", "40");
            config.put("erphub.destinations.sftp.redelivery-delay", "200");
            config.put("erphub.destinations.sftp.max-redelivery-delay", "1500");
            config.put("erphub.destinations.kafka.uri", "kafka:" + FILES_TOPIC + "?brokers={{test.kafka.bootstrap-servers}}");
            config.put("erphub.events.uri", "kafka:" + EVENTS_TOPIC + "?brokers={{test.kafka.bootstrap-servers}}");
            String s3 = "aws2-s3://erphub-fanout-test?overrideEndpoint=true"
                    + "&uriEndpointOverride={{test.s3.endpoint}}&forcePathStyle=true&region={{test.s3.region}}"
                    + "&accessKey=RAW({{test.s3.access-key}})&secretKey=RAW({{test.s3.secret-key}})";
            config.put("erphub.archive.uri", s3 + "&autoCreateBucket=true&multiPartUpload=true&partSize=5242880");
            config.put("erphub.archive.read-uri", s3 + "&operation=getObject");
            // The archive is encrypted server-side with a KMS key (s3proxy keeps and reports it per object).
            config.put("erphub.archive.encryption", "sse-kms");
            config.put("erphub.archive.kms-key-id", ARCHIVE_KMS_KEY);
            config.put("erphub.delivery.sweep-interval", "2000");
            config.put("erphub.delivery.replay-rate", "200");
            config.put("erphub.metrics.dead-letters-refresh", "1s");
            return config;
        }

        @Override
        public List<TestResourceEntry> testResources() {
            List<TestResourceEntry> servers = new ArrayList<>(ExampleUpstreams.servers());
            servers.add(new TestResourceEntry(ErpApiResource.class, Map.of("erphub.destinations.erp-api.base-url", "")));
            servers.add(new TestResourceEntry(SftpServerResource.class));
            // The servers that take seconds to start (true) start beside the others, not one after another.
            servers.add(new TestResourceEntry(KafkaBrokerResource.class, Map.of(), true));
            servers.add(new TestResourceEntry(S3ServerResource.class, Map.of(), true));
            servers.add(new TestResourceEntry(OtlpReceiverResource.class));
            return servers;
        }
    }

    @InjectTestServer
    WireMockServer upstream;

    @InjectTestServer
    OtlpReceiverResource.Received otlp;

    @Inject
    org.apache.camel.CamelContext camel;

    @InjectTestServer
    ErpApi erp;

    @InjectTestServer
    SftpServer sftp;

    @InjectTestServer
    KafkaBroker kafka;

    @InjectTestServer
    S3Client s3;

    @Inject
    LedgerQueries files;

    @Inject
    erphub.tenant.PgpKeys pgpKeys;

    @Inject
    ClaimStore claims;

    @Inject
    FileLedger ledger;

    @Inject
    LedgerQueries deliveries;

    @Inject
    DeliveryReplay replay;

    @Inject
    io.micrometer.core.instrument.MeterRegistry meters;

    static ExampleUpstreams upstreams;
    static final Instant STARTED = Instant.now();

    @BeforeAll
    static void noMetricsSeenYet() {
        EXPOSED.clear();
    }

    @OnEveryDatabase
    @Test
    @Order(1)
    void everyFileOfThreeTenantsReachesAllThreeDestinations() throws Exception {
        long started = System.nanoTime();
        upstreams = new ExampleUpstreams(upstream);
        upstreams.serve(List.of(EXPIRING_PGP_TENANT), 0);
        List<RemoteFile> batch = upstreams.serve(TENANTS, PER_TENANT_AND_UPSTREAM).files();
        assertEquals(FILES, batch.size());
        Map<Path, byte[]> expected = batch.stream().collect(Collectors.toMap(this::sftpPath, RemoteFile::content));
        PartialReadWatcher watcher = new PartialReadWatcher(expected);
        watcher.start();
        try {
            awaitAll(batch, FileState.DELIVERED, Duration.ofMinutes(4));
        } finally {
            watcher.stop();
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("[%s] %d files listed -> archived -> ERP API + SFTP + Kafka in %.1f s: %.0f files/s%n",
                getClass().getSimpleName(), batch.size(), seconds, batch.size() / seconds);
        for (String destination : DESTINATIONS) {
            io.micrometer.core.instrument.Timer timer = meters.find("erphub.delivery.duration")
                    .tags("destination", destination).timer();
            System.out.printf("[%s]   %s: %d deliveries, mean %.1f ms, max %.1f ms%n", getClass().getSimpleName(),
                    destination, timer.count(), timer.mean(java.util.concurrent.TimeUnit.MILLISECONDS),
                    timer.max(java.util.concurrent.TimeUnit.MILLISECONDS));
        }

        // SFTP: each tenant's folder holds its own files, byte-identical, and no temporary names are left.
        for (RemoteFile f : batch) {
            assertArrayEquals(f.content(), sftpContent(f), f.toString());
        }
        try (var walk = Files.walk(sftp.root())) {
            assertEquals(List.of(), walk.filter(p -> p.getFileName().toString().startsWith(".part-")).toList());
        }
        // The bytes went into the archive once and were never read back from it: the ERP API and SFTP deliveries
        // (Kafka carries a reference to the archive) read each small file from this node's spool.
        String m = metrics();
        assertEquals(0, metric(m, "erphub_archive_reads_total", "source=\"archive\""), "archive reads of a fresh file");
        assertTrue(metric(m, "erphub_archive_reads_total", "source=\"spool\"") >= 2 * FILES,
                "spool reads: " + metric(m, "erphub_archive_reads_total", "source=\"spool\""));
        // A consumer polling the folders during the uploads never read a partial file.
        assertTrue(watcher.complete.get() > 0, "the watcher saw files while they were being delivered");
        assertEquals(List.of(), watcher.partial, "files seen before they were complete");

        // ERP API: each file once per idempotency key, the right bytes, the tenant's own ERP client.
        Map<String, Received> byKey = uniqueByKey(erp.accepted());
        for (RemoteFile f : batch) {
            Received r = byKey.get(idempotencyKey(f, "erp-api"));
            assertEquals(ExampleUpstreams.hex("SHA-256", f.content()), r.sha256(), f.toString());
            assertEquals(f.tenant(), r.tenant());
            assertEquals(f.tenant() + "-erp", r.tokenSubject());
            assertEquals("/erp/imports/" + (f.upstream().equals(ExampleUpstreams.PAYROLL) ? "payroll/" : "invoices/")
                    + f.tenant(), r.path());
        }
        assertEquals(batch.size(), erp.received().size(), "no request was made twice");

        // Kafka: one file record per file, keyed by tenant, pointing at the archive; one event per lifecycle step.
        List<ConsumerRecord<String, String>> records = consume(FILES_TOPIC, batch.size());
        assertEquals(batch.size(), records.size());
        Set<String> recordKeys = new java.util.HashSet<>();
        for (ConsumerRecord<String, String> r : records) {
            // The delivery's idempotency key, for a consumer to drop a copy resent after a crash.
            org.apache.kafka.common.header.Header key = r.headers().lastHeader("Idempotency-Key");
            assertTrue(key != null, "an Idempotency-Key header on " + r.value());
            String k = new String(key.value(), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(k.startsWith(r.key() + ":") && k.endsWith(":kafka") && recordKeys.add(k), k);
            assertTrue(r.value().contains("\"type\":\"file.available\""), r.value());
            assertTrue(r.value().contains("\"location\":\"s3://erphub-fanout-test/" + r.key() + "/"), r.value());
            assertFalse(r.value().contains("\"content\""), "a claim check, not the bytes");
        }
        Map<String, Long> events = consume(EVENTS_TOPIC, 2 * batch.size()).stream()
                .map(r -> r.value().replaceAll(".*\"type\":\"([^\"]+)\".*", "$1"))
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
        assertEquals(Map.of("file.discovered", FILES, "file.delivered", FILES), events);

        // The ledger shows every transition, of the file and of each delivery.
        for (RemoteFile f : batch) {
            FileRecord row = row(f);
            assertEquals(List.of(FileState.DISCOVERED, FileState.DOWNLOADED, FileState.ARCHIVED, FileState.VALIDATED,
                    FileState.DELIVERED), files.history(row.id()).stream().map(Transition::to).toList(), f.toString());
            Map<String, List<DeliveryState>> steps = deliveries.deliveryHistory(row.id()).stream().collect(Collectors.groupingBy(
                    DeliveryTransition::destination, Collectors.mapping(DeliveryTransition::to, Collectors.toList())));
            assertEquals(Set.copyOf(DESTINATIONS), steps.keySet());
            steps.values().forEach(s -> assertEquals(List.of(DeliveryState.PENDING, DeliveryState.DELIVERED), s));
        }
    }

    /**
     * The pipeline as Camel runs it (its management MBeans: what Jolokia serves and Hawtio draws): every stage an
     * EIP or an endpoint that has counted the files of the run, and the endpoints each destination ended in.
     */
    @Test
    @Order(2)
    void theRoutesShowEveryStageAndTheEndpointsTheFilesWentThrough() throws Exception {
        RouteInspection routes = new RouteInspection();
        long files = FILES;
        // LIST -> SPLIT -> CLAIM -> hand-off, per upstream, each page inside the upstream's circuit breaker.
        for (String upstream : List.of("upstream-payroll-exports", "upstream-supplier-invoices")) {
            assertTrue(routes.exchanges(upstream, "loop") > 0, upstream);
            assertTrue(routes.exchanges(upstream, "circuitBreaker") > 0, upstream);
            assertTrue(routes.has(upstream, "split"), upstream);
            assertTrue(routes.exchanges(upstream, "idempotentConsumer") >= files / 2, upstream);
        }
        // DOWNLOAD + ARCHIVE: one route per upstream, inside the same breaker; Camel HTTP, then the archive endpoint.
        assertTrue(routes.exchanges("download-payroll-exports", "circuitBreaker") >= files / 2,
                routes.describe("download-payroll-exports"));
        assertTrue(routes.exchanges("download-supplier-invoices", "circuitBreaker") >= files / 2,
                routes.describe("download-supplier-invoices"));
        assertTrue(routes.exchanges("erphub-intake", "toD") >= files, "the intake route's toD of the download route");
        assertTrue(routes.exchanges("erphub-upstream-get", "toD") >= files, "Camel HTTP for lists and downloads");
        assertTrue(routes.exchanges("erphub-archive", "toD") >= files, "the archive endpoint");
        // VALIDATE, then FAN-OUT through a recipient list to one route per destination, each ending in its endpoint.
        assertTrue(routes.exchanges("erphub-store", "bean") >= files);
        assertTrue(routes.exchanges("erphub-fan-out", "recipientList") >= files);
        assertTrue(routes.exchanges("erphub-send-erp-api", "toD") >= files, "Camel HTTP to the ERP API");
        assertTrue(routes.exchanges("erphub-send-sftp", "to") >= files, "the SFTP upload route");
        assertTrue(routes.exchanges("erphub-sftp-upload", "toD") >= files, "camel-ftp's sftp endpoint");
        assertTrue(routes.exchanges("erphub-send-kafka", "to") >= files, "the kafka endpoint");
        for (String destination : DESTINATIONS) {
            assertTrue(routes.exchanges("erphub-deliver-" + destination, "to") >= files, destination);
        }
        // EVENTS are tapped off the pipeline.
        assertTrue(routes.exchanges("upstream-payroll-exports", "wireTap") > 0, "file.discovered");
        assertTrue(routes.exchanges("erphub-event-publish", "to") >= 2 * files);

        // The endpoints the stages ended in, as Camel's endpoint registry holds them (also a toD's, one per origin).
        List<String> endpoints = camel.getEndpoints().stream().map(org.apache.camel.Endpoint::getEndpointUri).toList();
        for (String prefix : List.of("http://127.0.0.1", "aws2-s3://erphub-fanout-test", "sftp://127.0.0.1",
                "kafka://" + FILES_TOPIC)) {
            assertTrue(endpoints.stream().anyMatch(e -> e.startsWith(prefix)), prefix + " in " + endpoints);
        }
        // No secret in an endpoint URI (Hawtio and Jolokia show them): the SFTP password is a bean reference.
        assertTrue(endpoints.stream().noneMatch(e -> e.contains(SftpServerResource.PASSWORD)), endpoints.toString());
        // Every route, as dumped for Hawtio, is one it can draw (BrowserConsolesIT looks at two in the browser).
        assertEquals(List.of(), routes.routesHawtioCannotDraw());

        // The ledger's checksum is the SHA-256 of the bytes, computed once, for every file of the run.
        for (RemoteFile f : upstreams.files()) {
            FileRecord row = row(f);
            if (row.state() == FileState.DELIVERED) {
                assertEquals(ExampleUpstreams.hex("SHA-256", f.content()), row.checksum(), f.toString());
            }
        }
    }

    @OnEveryDatabase
    @Test
    @Order(2)
    void anErpAnsweringThirtyPercent503StillGetsEveryFileExactlyOnce() {
        erp.reset();
        erp.failureRate(0.3);
        List<RemoteFile> batch = upstreams.serveMorePayroll(TENANTS, "flaky", 20);
        awaitAll(batch, FileState.DELIVERED, Duration.ofMinutes(2));
        erp.failureRate(0);

        assertTrue(erp.received().stream().filter(r -> r.status() == 503).count() > 0, "the ERP did fail requests");
        assertEquals(0, erp.received().stream().filter(r -> r.status() == 409).count(),
                "a delivered file was never sent again");
        Map<String, Received> byKey = uniqueByKey(erp.accepted());
        assertEquals(batch.size(), byKey.size());
        for (RemoteFile f : batch) {
            assertTrue(deliveries.deliveries(row(f).id()).stream().noneMatch(d -> d.state() == DeliveryState.DEAD));
            assertEquals(ExampleUpstreams.hex("SHA-256", f.content()), byKey.get(idempotencyKey(f, "erp-api")).sha256());
        }
    }

    @Test
    @Order(3)
    void anSftpOutageDelaysOnlyTheSftpDeliveries() throws Exception {
        sftp.stop();
        Instant down = Instant.now();
        List<RemoteFile> batch = upstreams.serveMorePayroll(TENANTS, "outage", 8);
        // ERP API deliveries go on while the SFTP server is down.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250)).until(
                () -> batch.stream().allMatch(f -> delivery(f, "erp-api").map(d -> d.state() == DeliveryState.DELIVERED)
                        .orElse(false)));
        assertTrue(batch.stream().allMatch(f -> delivery(f, "sftp").map(d -> d.state() == DeliveryState.RETRYING
                || d.state() == DeliveryState.PENDING).orElse(false)), "SFTP deliveries wait for the server");
        assertTrue(Duration.between(down, Instant.now()).toSeconds() < 10, "the ERP did not wait for the outage");

        // The server stays down until every SFTP delivery of the batch has been refused and retried.
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).until(() -> batch.stream()
                .allMatch(f -> delivery(f, "sftp").map(d -> d.tries() >= 2 && d.state() != DeliveryState.DELIVERED)
                        .orElse(false)));
        sftp.start();
        awaitAll(batch, FileState.DELIVERED, Duration.ofMinutes(2));
        for (RemoteFile f : batch) {
            assertArrayEquals(f.content(), sftpContent(f), f.toString());
            assertTrue(delivery(f, "sftp").orElseThrow().tries() > 1, "delivered after retries");
        }
    }

    @Test
    @Order(4)
    void anSftpServerWithAnotherHostKeyIsRefused() throws Exception {
        sftp.startImpostor();
        List<RemoteFile> batch = upstreams.serveMorePayroll(TENANTS, "impostor", 2);
        awaitAll(batch, FileState.PARTIALLY_DELIVERED, Duration.ofMinutes(1));
        for (RemoteFile f : batch) {
            DeliveryRecord d = delivery(f, "sftp").orElseThrow();
            assertEquals(DeliveryState.DEAD, d.state());
            assertTrue(d.lastError().contains("host key is not the one in known_hosts"), d.lastError());
            assertTrue(d.tries() <= 2, "a refused host key is not retried: " + d.tries() + " tries");
            assertFalse(Files.exists(sftpPath(f)));
        }
        // Back to the real server, the dead SFTP deliveries are replayed one file at a time.
        sftp.start();
        for (RemoteFile f : batch) {
            assertEquals(1, replay.replayFile(row(f).id(), "test", "host key restored").count());
        }
        awaitAll(batch, FileState.DELIVERED, Duration.ofMinutes(1));
        for (RemoteFile f : batch) {
            assertArrayEquals(f.content(), sftpContent(f));
        }
    }

    @OnEveryDatabase
    @Test
    @Order(5)
    void deadDeliveriesOfADestinationThatStayedDownAreReplayedByFilterFromTheArchive() {
        erp.reset();
        erp.down(true);
        Instant from = Instant.now().minusSeconds(1);
        List<RemoteFile> batch = upstreams.serveMorePayroll(TENANTS, "erpdown", 7);
        awaitAll(batch, FileState.PARTIALLY_DELIVERED, Duration.ofMinutes(2));
        for (RemoteFile f : batch) {
            DeliveryRecord d = delivery(f, "erp-api").orElseThrow();
            assertEquals(DeliveryState.DEAD, d.state());
            assertEquals(13, d.tries(), "1 attempt and 12 redeliveries");
            assertTrue(d.lastError().contains("answered 503"), d.lastError());
            assertEquals(DeliveryState.DELIVERED, delivery(f, "sftp").orElseThrow().state());
            verifyOneDownload(f);
        }

        // The dead letters waiting for a replay are a gauge by tenant and destination.
        await().atMost(Duration.ofSeconds(30)).until(() -> TENANTS.stream().allMatch(t ->
                metric(metrics(), "erphub_dead_letters", "destination=\"erp-api\"", "tenant=\"" + t + "\"") == 7));

        erp.down(false);
        double archiveReads = metric(metrics(), "erphub_archive_reads_total", "source=\"archive\"");
        DeadFilter filter = new DeadFilter(null, ExampleUpstreams.PAYROLL, "erp-api", from, null);
        ReplayResult dry = replay.replayMatching(filter, 1000, true, "test", "dry run");
        assertEquals(batch.size(), dry.count());
        assertEquals(batch.size() * 13, erp.received().size(), "nothing sent by the dry run");
        ReplayResult real = replay.replayMatching(filter, 1000, false, "ops@example.com", "ERP back after outage");
        assertEquals(dry.replayed().stream().map(d -> d.fileId() + d.destination()).toList(),
                real.replayed().stream().map(d -> d.fileId() + d.destination()).toList());

        awaitAll(batch, FileState.DELIVERED, Duration.ofMinutes(1));
        // The files had settled (PARTIALLY_DELIVERED) and left the spool: the replay read each one from the archive.
        assertTrue(metric(metrics(), "erphub_archive_reads_total", "source=\"archive\"") - archiveReads >= batch.size(),
                "a replay reads the archive");
        Map<String, Received> byKey = uniqueByKey(erp.accepted());
        for (RemoteFile f : batch) {
            assertEquals(ExampleUpstreams.hex("SHA-256", f.content()), byKey.get(idempotencyKey(f, "erp-api")).sha256());
            // Read from the archive: the upstream saw no second download.
            verifyOneDownload(f);
            long id = row(f).id();
            assertTrue(deliveries.deliveryHistory(id).stream().anyMatch(t -> t.from() == DeliveryState.DEAD
                    && t.to() == DeliveryState.PENDING && t.detail().equals("replayed by ops@example.com: ERP back after outage")));
            assertEquals(List.of(FileState.PARTIALLY_DELIVERED, FileState.VALIDATED, FileState.DELIVERED),
                    files.history(id).stream().map(Transition::to).toList().subList(4, 7));
        }
        // Each file is one trace: its 13 refused attempts, then the replay's delivery from the ledger, all under its
        // LIST span beside the SFTP delivery.
        for (RemoteFile f : batch) {
            String traceId = FileTraces.traceId(row(f).traceparent());
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertEquals(14,
                    otlp.trace(traceId).stream().filter(s -> s.name().equals("DELIVER erp-api")).count(), f.toString()));
            List<ExportedSpan> trace = otlp.trace(traceId);
            ExportedSpan root = trace.stream().filter(s -> s.name().equals("LIST " + ExampleUpstreams.PAYROLL)).findFirst()
                    .orElseThrow(() -> new AssertionError("no LIST span in " + trace));
            List<ExportedSpan> erpSpans = trace.stream().filter(s -> s.name().equals("DELIVER erp-api")).toList();
            assertEquals(13, erpSpans.stream().filter(ExportedSpan::error).count(), erpSpans.toString());
            assertTrue(erpSpans.stream().allMatch(s -> s.parentSpanId().equals(root.spanId())), trace.toString());
            assertEquals(1, trace.stream().filter(s -> s.name().equals("DELIVER sftp") && !s.error()).count(),
                    trace.toString());
        }
        assertEquals(0, replay.replayMatching(filter, 1000, true, "test", "again").count(), "nothing left dead");
    }

    @Test
    @Order(6)
    void theMetricsOfTheRunArePlausibleWithBoundedTags() {
        String m = metrics();
        double delivered = TENANTS.stream().mapToDouble(t -> metric(m, "erphub_files_total", "tenant=\"" + t + "\"",
                "outcome=\"delivered\"")).sum();
        assertTrue(delivered >= FILES, "files delivered: " + delivered);
        for (String destination : DESTINATIONS) {
            double count = metric(m, "erphub_delivery_duration_seconds_count", "destination=\"" + destination + "\"",
                    "outcome=\"delivered\"");
            assertTrue(count >= FILES, destination + " deliveries timed: " + count);
            assertTrue(m.contains("erphub_delivery_duration_seconds_bucket{destination=\"" + destination + "\""),
                    "a latency histogram for " + destination);
        }
        assertTrue(metric(m, "erphub_list_duration_seconds_count", "upstream=\"payroll-exports\"", "outcome=\"succeeded\"") > 0);
        assertTrue(m.contains("erphub_list_duration_seconds_bucket{"), "a list duration histogram");
        assertTrue(metric(m, "erphub_token_requests_total", "outcome=\"issued\"") >= 9, "a token per client at least");
        assertTrue(metric(m, "erphub_token_cache_hits_total") > metric(m, "erphub_token_requests_total", "outcome=\"issued\""),
                "most requests are served from the token cache");
        assertTrue(metric(m, "erphub_archive_bytes_total", "upstream=\"payroll-exports\"") > FILES * 512 / 2);
        assertTrue(metric(m, "camel_exchanges_total", "routeId=\"erphub-intake\"") >= FILES, "Camel route metrics");
        for (String line : m.lines().filter(l -> !l.startsWith("#")).toList()) {
            assertFalse(line.matches(".*(fileId|remoteId|fileName|exchangeId)=.*") || line.contains(".csv\"")
                    || line.contains(".json\""), "unbounded tag: " + line);
        }
    }

    @Test
    @Order(7)
    void everyArchivedFileIsEncryptedServerSideWithTheConfiguredKmsKey() {
        List<S3Object> objects = s3.listObjectsV2Paginator(b -> b.bucket("erphub-fanout-test")).contents().stream().toList();
        assertTrue(objects.size() >= FILES, "archived objects: " + objects.size());
        for (S3Object object : objects) {
            HeadObjectResponse head = s3.headObject(b -> b.bucket("erphub-fanout-test").key(object.key()));
            assertEquals(ServerSideEncryption.AWS_KMS, head.serverSideEncryption(), object.key());
            assertEquals(ARCHIVE_KMS_KEY, head.ssekmsKeyId(), object.key());
        }
    }

    @Test
    @Order(8)
    void everyQueryOfTheGrafanaDashboardReadsAMetricThisApplicationExposes() {
        EXPOSED.addAll(GrafanaDashboard.exposedNames(metrics()));
        Map<String, List<String>> unknown = new java.util.TreeMap<>();
        for (String query : GrafanaDashboard.queries(GrafanaDashboard.read())) {
            Set<String> names = GrafanaDashboard.metricNames(query);
            assertFalse(names.isEmpty(), "a query that reads no metric: " + query);
            for (String name : names) {
                if (!EXPOSED.contains(name)) {
                    unknown.computeIfAbsent(name, n -> new ArrayList<>()).add(query);
                }
            }
        }
        assertEquals(Map.of(), unknown, "dashboard queries name metrics that /q/metrics never showed");
    }

    @Test
    @Order(9)
    void aTenantsPgpKeyThatExpiredAfterTheRegistryLoadedRefusesItsSftpDeliveriesAndSendsNothing() throws Exception {
        // Valid when the registry loaded (else no test here would run); expired by now or within the validity.
        await().atMost(EXPIRING_PGP_VALIDITY.plusSeconds(10)).pollInterval(Duration.ofSeconds(1))
                .until(() -> pgpKeys.problem(EXPIRING_PGP_TENANT + "-pgp").isPresent());
        List<RemoteFile> batch = upstreams.serveMorePayroll(List.of(EXPIRING_PGP_TENANT), "expired-key", 2);
        awaitAll(batch, FileState.PARTIALLY_DELIVERED, Duration.ofMinutes(1));
        for (RemoteFile f : batch) {
            DeliveryRecord sftpDelivery = delivery(f, "sftp").orElseThrow();
            assertEquals(DeliveryState.DEAD, sftpDelivery.state(), "refused, not retried: " + sftpDelivery);
            assertTrue(sftpDelivery.lastError().contains("OpenPGP key") && sftpDelivery.lastError().contains("expired"),
                    sftpDelivery.lastError());
            assertEquals(DeliveryState.DELIVERED, delivery(f, "erp-api").orElseThrow().state());
            assertEquals(DeliveryState.DELIVERED, delivery(f, "kafka").orElseThrow().state());
        }
        try (var walk = Files.walk(sftp.root())) {
            assertEquals(List.of(), walk.filter(p -> p.toString().contains("expired-key")).toList(),
                    "nothing of the tenant's files on the SFTP server, in plaintext or encrypted");
        }
    }

    // ---------------------------------------------------------------- helpers

    static String metrics() {
        String exposition = io.restassured.RestAssured.get("/q/metrics").then().statusCode(200).extract().asString();
        EXPOSED.addAll(GrafanaDashboard.exposedNames(exposition));
        return exposition;
    }

    /** The sum of a metric's samples whose labels contain all the given label pairs. */
    static double metric(String exposition, String name, String... labels) {
        return PrometheusText.sum(exposition, name, labels);
    }

    private void verifyOneDownload(RemoteFile f) {
        String path = ExampleUpstreams.payrollContentPath(f.remoteId());
        upstream.verify(1, getRequestedFor(urlPathEqualTo(path)).withHeader("Authorization",
                new TokenSubjectPattern(ExampleUpstreams.clientIdOf(f.tenant(), path))));
    }

    private void awaitAll(List<RemoteFile> batch, FileState state, Duration atMost) {
        await().atMost(atMost).pollInterval(Duration.ofMillis(500)).until(
                () -> batch.stream().allMatch(f -> files.find(key(f)).map(r -> r.state() == state).orElse(false)));
    }

    static PgpTestKeys.TestKey pgpKey() {
        return PgpTestKeys.shared(PGP_TENANT + " <sftp@" + PGP_TENANT + ".example>");
    }

    /** Where the file lands on the SFTP server: {@code <name>.pgp} for the tenant with a PGP key. */
    private Path sftpPath(RemoteFile f) {
        Path folder = sftp.root().resolve(f.tenant()).resolve(f.upstream());
        return folder.resolve(f.tenant().equals(PGP_TENANT) ? f.name() + ".pgp" : f.name());
    }

    /** What a consumer of the SFTP folder reads, decrypted with the tenant's secret key where encrypted. */
    private byte[] sftpContent(RemoteFile f) throws Exception {
        return sftpContent(sftpPath(f), Files.readAllBytes(sftpPath(f)));
    }

    private static byte[] sftpContent(Path file, byte[] bytes) throws Exception {
        if (!file.getFileName().toString().endsWith(".pgp")) {
            return bytes;
        }
        PgpTestKeys.Decrypted plain = pgpKey().decrypt(new java.io.ByteArrayInputStream(bytes));
        byte[] content = plain.content().readAllBytes();
        assertTrue(plain.verifiedIntegrity(), file + ": integrity packet");
        assertEquals(file.getFileName().toString().replaceAll("\\.pgp$", ""), plain.fileName());
        return content;
    }

    private static FileKey key(RemoteFile f) {
        return new FileKey(f.tenant(), f.upstream(), f.remoteId(), f.version());
    }

    private FileRecord row(RemoteFile f) {
        return files.find(key(f)).orElseThrow(() -> new AssertionError("not in the ledger: " + f));
    }

    private java.util.Optional<DeliveryRecord> delivery(RemoteFile f, String destination) {
        return files.find(key(f)).flatMap(row -> deliveries.deliveries(row.id()).stream()
                .filter(d -> d.destination().equals(destination)).findFirst());
    }

    private static String idempotencyKey(RemoteFile f, String destination) {
        return String.join(":", f.tenant(), f.upstream(), f.remoteId(), f.version(), destination);
    }

    private static Map<String, Received> uniqueByKey(List<Received> accepted) {
        Map<String, Received> byKey = new HashMap<>();
        for (Received r : accepted) {
            Received before = byKey.put(r.idempotencyKey(), r);
            assertEquals(null, before, "two successful requests with the key " + r.idempotencyKey());
        }
        return byKey;
    }

    private List<ConsumerRecord<String, String>> consume(String topic, int expected) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "fanout-test-" + topic + "-" + System.nanoTime());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
            consumer.subscribe(List.of(topic));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                consumer.poll(Duration.ofMillis(500)).forEach(out::add);
                return out.size() >= expected;
            });
            // Anything beyond the expected count would be a duplicate: give it a moment to show up.
            consumer.poll(Duration.ofSeconds(1)).forEach(out::add);
        }
        return out;
    }

    /**
     * A consumer of the drop folders: keeps listing them while files arrive and reads every visible file
     * (temporary .part- names are not files to a consumer), comparing it with what the upstream served.
     */
    final class PartialReadWatcher {
        final Map<Path, byte[]> expected;
        final List<String> partial = new java.util.concurrent.CopyOnWriteArrayList<>();
        final AtomicInteger complete = new AtomicInteger();
        final Set<Path> checked = ConcurrentHashMap.newKeySet();
        final AtomicBoolean running = new AtomicBoolean(true);
        Thread thread;

        PartialReadWatcher(Map<Path, byte[]> expected) {
            this.expected = expected;
        }

        void start() {
            thread = new Thread(() -> {
                while (running.get()) {
                    try (var walk = Files.walk(sftp.root())) {
                        for (Path p : walk.filter(Files::isRegularFile).toList()) {
                            if (p.getFileName().toString().startsWith(".part-") || checked.contains(p)) {
                                continue;
                            }
                            byte[] seen = Files.readAllBytes(p);
                            byte[] want = expected.get(p);
                            if (want != null && !java.util.Arrays.equals(want, readable(p, seen))) {
                                partial.add(p + ": " + seen.length + " bytes, not the " + want.length + " served");
                            } else {
                                complete.incrementAndGet();
                            }
                            checked.add(p);
                        }
                    } catch (java.io.IOException | java.io.UncheckedIOException e) {
                        // A temporary file renamed between listing and reading: list again.
                    }
                    // A consumer polls at an interval.
                    java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
                }
            }, "sftp-folder-watcher");
            thread.start();
        }

        /** The content as its consumer gets it; a part of an encrypted file does not decrypt. */
        private byte[] readable(Path p, byte[] seen) {
            try {
                return sftpContent(p, seen);
            } catch (Exception | AssertionError e) {
                return new byte[0];
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join();
        }
    }
}
