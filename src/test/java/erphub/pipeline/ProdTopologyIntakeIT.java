package erphub.pipeline;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;

import erphub.api.Caller;
import erphub.testing.BesideTheApplication;
import erphub.testing.ExampleUpstreams;
import erphub.testing.ExampleUpstreams.RemoteFile;
import erphub.testing.KafkaBrokerResource;
import erphub.testing.OAuth2ServerResource;
import erphub.testing.OtlpReceiverResource;
import erphub.testing.OtlpReceiverResource.ExportedSpan;
import erphub.testing.PackagedApp;
import erphub.testing.PostgresResource;
import erphub.testing.S3ServerResource;
import erphub.testing.ServersBesideTheApp;
import erphub.testing.TestServers;
import erphub.tracing.FileTraces;
import io.quarkus.test.junit.QuarkusTestProfile.TestResourceEntry;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The intake in the production topology: the hand-off between the poll routes and the intake route over
 * a Kafka topic, the archive in an S3-compatible store (Camel aws2-s3), the ledger on PostgreSQL; supplier
 * invoices go on to a Kafka topic. Tracing is on, exporting over OTLP to a real receiver: a file is one trace.
 * The packaged jar runs it beside the {@code @QuarkusTest} classes, configured as the test profile it had been; the
 * ledger is read on the PostgreSQL server itself.
 */
@BesideTheApplication(seconds = 60)
class ProdTopologyIntakeIT {

    static final List<String> TENANTS = List.of("acme", "globex", "chunky", "bigco", "tracy", "hoarder", "sprinter", "twice");
    /** The tenant of the tracing test: its two files are the only ones it has. */
    static final String TRACED = "tracy";
    static final String HANDOFF_TOPIC = "erphub.intake";
    static final String AUDIENCE = "erphub-api";
    static final String BUCKET = "erphub-archive-test";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The topology, as system properties of the packaged jar; the servers' own settings fill the placeholders. */
    static Map<String, String> config() {
        Map<String, String> config = new HashMap<>(ExampleUpstreams.tenantConfig(TENANTS));
        config.put("erphub.intake.handoff-uri", "kafka:erphub.intake?brokers={{test.kafka.bootstrap-servers}}");
        config.put("erphub.intake.relay-uri", "kafka:erphub.intake?brokers={{test.kafka.bootstrap-servers}}"
                + "&groupId=erphub-intake&autoOffsetReset=earliest");
        String s3 = "aws2-s3://" + BUCKET + "?overrideEndpoint=true"
                + "&uriEndpointOverride={{test.s3.endpoint}}&forcePathStyle=true&region={{test.s3.region}}"
                + "&accessKey=RAW({{test.s3.access-key}})&secretKey=RAW({{test.s3.secret-key}})";
        config.put("erphub.archive.uri", s3 + "&autoCreateBucket=true&multiPartUpload=true&partSize=5242880");
        config.put("erphub.archive.read-uri", s3 + "&operation=getObject");
        config.put("erphub.upstreams.supplier-invoices.destinations", "kafka");
        config.put("erphub.destinations.kafka.uri", "kafka:erphub.files?brokers={{test.kafka.bootstrap-servers}}");
        return config;
    }

    static List<TestResourceEntry> servers() {
        List<TestResourceEntry> servers = new ArrayList<>(ExampleUpstreams.servers());
        // The servers that take seconds to start (true) start beside the others, not one after another.
        servers.add(new TestResourceEntry(KafkaBrokerResource.class, Map.of(), true));
        servers.add(new TestResourceEntry(S3ServerResource.class, Map.of(), true));
        servers.add(new TestResourceEntry(PostgresResource.class, Map.of(), true));
        servers.add(new TestResourceEntry(OtlpReceiverResource.class));
        return servers;
    }

    static ServersBesideTheApp servers;
    static PackagedApp app;
    static String ledgerUrl;
    static WireMockServer upstream;
    static S3Client s3;
    static OtlpReceiverResource.Received otlp;
    static MockOAuth2Server oauth2;
    static KafkaBrokerResource.KafkaBroker kafka;

    @BeforeAll
    static void startServersAndErphub() {
        servers = ServersBesideTheApp.start(servers());
        upstream = servers.get(WireMockServer.class);
        s3 = servers.get(S3Client.class);
        otlp = servers.get(OtlpReceiverResource.Received.class);
        oauth2 = servers.get(MockOAuth2Server.class);
        kafka = servers.get(KafkaBrokerResource.KafkaBroker.class);
        Map<String, String> config = new HashMap<>(servers.config());
        config.putAll(config());
        ledgerUrl = config.get("quarkus.datasource.\"postgresql\".jdbc.url");
        Map<String, String> environment = OAuth2ServerResource.apiEnvironment(oauth2, OAuth2ServerResource.ISSUER);
        app = PackagedApp.start(TestServers.scratchDir("prod-topology-"), config, environment);
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

    /** A file's row in the ledger. */
    record Row(long id, String state, String archiveKey, int attempt, String reason, String traceparent) {
    }

    private static final String ROW = "SELECT id, state, archive_key, attempt, reason, traceparent FROM file_version";

    static Optional<Row> row(RemoteFile f) {
        return rows(ROW + " WHERE tenant = ? AND upstream = ? AND remote_id = ? AND version = ?",
                f.tenant(), f.upstream(), f.remoteId(), f.version()).stream().findFirst();
    }

    static Optional<Row> row(long id) {
        return rows(ROW + " WHERE id = ?", id).stream().findFirst();
    }

    private static List<Row> rows(String sql, Object... args) {
        try (Connection c = ledger(); PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                s.setObject(i + 1, args[i]);
            }
            List<Row> rows = new ArrayList<>();
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    rows.add(new Row(r.getLong(1), r.getString(2), r.getString(3), r.getInt(4), r.getString(5),
                            r.getString(6)));
                }
            }
            return rows;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    static Connection ledger() throws SQLException {
        return DriverManager.getConnection(ledgerUrl, "postgres", "");
    }

    static boolean inState(RemoteFile f, String state) {
        return row(f).map(r -> r.state().equals(state)).orElse(false);
    }

    @Test
    void filesHandedOffOverKafkaAreArchivedInS3ByteIdentical() {
        List<RemoteFile> files = new ExampleUpstreams(upstream).serve(List.of("acme", "globex"), 60).files();

        // Archived, and supplier invoices on to the Kafka destination.
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> files.stream()
                .allMatch(f -> inState(f, f.upstream().equals(ExampleUpstreams.INVOICES) ? "DELIVERED" : "ARCHIVED")));

        for (RemoteFile f : files) {
            Row row = row(f).orElseThrow();
            byte[] stored = s3.getObjectAsBytes(b -> b.bucket(BUCKET).key(row.archiveKey())).asByteArray();
            assertArrayEquals(f.content(), stored, f.toString());
        }
        assertEquals(files.size(), s3.listObjectsV2(b -> b.bucket(BUCKET).prefix("acme/")).keyCount()
                + s3.listObjectsV2(b -> b.bucket(BUCKET).prefix("globex/")).keyCount());
    }

    /**
     * The Kafka hand-off is keyed by tenant, and a partition is one queue: a tenant's backlog would hold up every
     * tenant behind it (all of them here, on the broker's one partition). The relay moves the records into this
     * replica's tenant-fair queue, which serves tenants in turn: a small tenant listed after a big one's 400 files
     * is archived long before what was left of the backlog is half done (in a partition's order it waited for all).
     */
    @Test
    void aSmallTenantIsNotHeldUpBehindABigTenantsBacklogInTheKafkaHandOff() throws Exception {
        ExampleUpstreams fixture = new ExampleUpstreams(upstream);
        // 100 ms per upstream call: the backlog takes seconds (4 downloads at a time, the tenant's limit), not less
        // than the next poll.
        upstream.setGlobalFixedDelay(100);
        List<RemoteFile> few;
        long archivedWhenServed;
        List<RemoteFile> backlog = fixture.serveMorePayroll(List.of("hoarder"), "bulk", 400);
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> count("hoarder", null) == backlog.size());
            archivedWhenServed = count("hoarder", "ARCHIVED");
            few = fixture.serveMorePayroll(List.of("sprinter"), "few", 10);
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
                    .until(() -> count("sprinter", "ARCHIVED") == few.size());
        } finally {
            upstream.setGlobalFixedDelay(0);
        }

        // The ledger's order of events: from sprinter's first claim to its last archive, how many of hoarder's files
        // were archived, against how many were left to archive at that first claim.
        List<String> events = new ArrayList<>();
        try (Connection c = ledger(); PreparedStatement s = c.prepareStatement(
                "SELECT v.tenant, t.to_state FROM file_transition t JOIN file_version v ON v.id = t.file_id"
                        + " WHERE v.tenant IN ('hoarder', 'sprinter') AND v.upstream = 'payroll-exports'"
                        + " AND t.to_state IN ('DISCOVERED', 'ARCHIVED') ORDER BY t.id");
                ResultSet rows = s.executeQuery()) {
            while (rows.next()) {
                events.add(rows.getString(1) + " " + rows.getString(2));
            }
        }
        int listed = events.indexOf("sprinter DISCOVERED");
        int done = events.lastIndexOf("sprinter ARCHIVED");
        long remaining = backlog.size() - events.subList(0, listed).stream().filter("hoarder ARCHIVED"::equals).count();
        long waitedFor = events.subList(listed, done).stream().filter("hoarder ARCHIVED"::equals).count();
        System.out.printf("[ProdTopologyIntakeIT] over the Kafka hand-off, sprinter's %d files were archived after %d"
                + " more of hoarder's files; %d of its %d were left when sprinter's were claimed (%d served before)%n",
                few.size(), waitedFor, remaining, backlog.size(), archivedWhenServed);
        assertTrue(remaining >= 40, "the backlog was a backlog: " + remaining + " left");
        assertTrue(waitedFor < remaining / 2,
                "sprinter waited for " + waitedFor + " of hoarder's " + remaining + " files");
    }

    /**
     * Kafka delivers at least once: a hand-off record can arrive twice (a consumer that died before committing, a
     * rebalance). The relay takes the claim over as a new attempt, so the copy, carrying the old attempt, is dropped:
     * the file is downloaded and archived once, while its first copy is still downloading.
     */
    @Test
    void aHandOffRecordDeliveredTwiceIsDownloadedAndArchivedOnce() throws Exception {
        // Every upstream answer takes 5 s: the listing, then the download, during which the copy arrives.
        upstream.setGlobalFixedDelay(5000);
        try {
            RemoteFile f = new ExampleUpstreams(upstream).serve(List.of("twice"), 1).files().stream()
                    .filter(r -> r.upstream().equals(ExampleUpstreams.PAYROLL)).findFirst().orElseThrow();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> row(f).isPresent());
            copyArrivesWhileDownloading(f, row(f).orElseThrow().id());
        } finally {
            upstream.setGlobalFixedDelay(0);
        }
    }

    private void copyArrivesWhileDownloading(RemoteFile f, long fileId) throws Exception {
        String content = ExampleUpstreams.payrollContentPath(f.remoteId());

        ConsumerRecord<String, String> record = handOffRecord(fileId);
        Map<String, Object> props = Map.of(org.apache.kafka.clients.producer.ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                kafka.bootstrapServers());
        try (org.apache.kafka.clients.producer.KafkaProducer<String, String> producer =
                new org.apache.kafka.clients.producer.KafkaProducer<>(props,
                        new org.apache.kafka.common.serialization.StringSerializer(),
                        new org.apache.kafka.common.serialization.StringSerializer())) {
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(HANDOFF_TOPIC, null, record.key(),
                    record.value(), record.headers())).get();
        }
        assertEquals("DISCOVERED", row(fileId).orElseThrow().state(),
                "the copy arrived while the first was still downloading");

        await().atMost(Duration.ofSeconds(60)).until(
                () -> row(fileId).map(r -> r.state().equals("ARCHIVED")).orElse(false));
        // The relay has consumed the copy once its group's committed offset is past it (auto-commit: within seconds).
        long endOffset;
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                Map.<String, Object>of("bootstrap.servers", kafka.bootstrapServers()))) {
            org.apache.kafka.common.TopicPartition partition = new org.apache.kafka.common.TopicPartition(HANDOFF_TOPIC,
                    record.partition());
            endOffset = admin.listOffsets(Map.of(partition, org.apache.kafka.clients.admin.OffsetSpec.latest()))
                    .partitionResult(partition).get().offset();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).until(() -> {
                var committed = admin.listConsumerGroupOffsets("erphub-intake").partitionsToOffsetAndMetadata().get()
                        .get(partition);
                return committed != null && committed.offset() >= endOffset;
            });
        }
        Row row = row(fileId).orElseThrow();
        assertEquals("ARCHIVED", row.state(), row.reason());
        assertEquals(2, row.attempt(), "the lister's claim, then the relay's");
        assertEquals(1, upstream.countRequestsMatching(com.github.tomakehurst.wiremock.client.WireMock
                .getRequestedFor(com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo(content))
                .withHeader("Authorization", new erphub.testing.TokenSubjectPattern("twice-payroll")).build())
                .getCount(), "downloaded once (other tenants have files of the same id)");
        assertEquals(1, archivedTransitions(fileId), "archived once");
        assertArrayEquals(f.content(), s3.getObjectAsBytes(b -> b.bucket(BUCKET).key(row.archiveKey())).asByteArray());
    }

    private ConsumerRecord<String, String> handOffRecord(long fileId) {
        Map<String, Object> props = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "copy-" + System.nanoTime(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of(HANDOFF_TOPIC));
            long until = System.currentTimeMillis() + 20_000;
            while (System.currentTimeMillis() < until) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.value().contains("\"fileId\":" + fileId + ",")) {
                        return r;
                    }
                }
            }
        }
        throw new AssertionError("no hand-off record of file " + fileId + " on " + HANDOFF_TOPIC);
    }

    private long count(String tenant, String state) throws SQLException {
        try (Connection c = ledger(); PreparedStatement s = c.prepareStatement(
                "SELECT COUNT(*) FROM file_version WHERE tenant = ? AND upstream = 'payroll-exports'"
                        + (state == null ? "" : " AND state = ?"))) {
            s.setString(1, tenant);
            if (state != null) {
                s.setString(2, state);
            }
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    @Test
    void aDownloadOfUnknownLengthIsSpooledAndStillArchivedWhole() {
        ExampleUpstreams fixture = new ExampleUpstreams(upstream).serve(List.of("chunky"), 1);
        RemoteFile f = fixture.files().stream().filter(r -> r.upstream().equals(ExampleUpstreams.PAYROLL)).findFirst()
                .orElseThrow();
        // Chunked transfer: no Content-Length for the S3 multipart upload to go by.
        upstream.stubFor(com.github.tomakehurst.wiremock.client.WireMock.get(
                com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo(ExampleUpstreams.payrollContentPath(f.remoteId())))
                .withHeader("Authorization", new erphub.testing.TokenSubjectPattern("chunky-payroll"))
                .atPriority(1)
                .willReturn(com.github.tomakehurst.wiremock.client.WireMock.aResponse().withBody(f.content())
                        .withChunkedDribbleDelay(4, 200)));

        await().atMost(Duration.ofSeconds(60)).until(() -> inState(f, "ARCHIVED"));
        Row row = row(f).orElseThrow();
        assertArrayEquals(f.content(), s3.getObjectAsBytes(b -> b.bucket(BUCKET).key(row.archiveKey())).asByteArray());
    }

    @Test
    void aLargeFileGoesToS3AsAMultipartUploadByteIdentical() {
        // 12 MiB with 5 MiB parts: three parts, streamed from the download.
        RemoteFile big = new ExampleUpstreams(upstream).serveLargePayroll("bigco", "exp-large", 12 * 1024 * 1024);

        await().atMost(Duration.ofSeconds(60)).until(() -> inState(big, "ARCHIVED"));
        Row row = row(big).orElseThrow();
        assertArrayEquals(big.content(), s3.getObjectAsBytes(b -> b.bucket(BUCKET).key(row.archiveKey())).asByteArray());
        String etag = s3.headObject(b -> b.bucket(BUCKET).key(row.archiveKey())).eTag();
        assertTrue(etag.contains("-"), "a multipart upload's ETag ends in -<parts>: " + etag);
    }

    @Test
    void readinessCoversKafkaAndTheS3ArchiveWithoutNamingThem() throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> app.get("/q/health/ready", null).statusCode() == 200);
        String body = app.get("/q/health/ready", null).body();
        JsonNode ready = JSON.readTree(body);
        for (String check : List.of("erphub-kafka", "erphub-archive")) {
            JsonNode found = null;
            for (JsonNode c : ready.path("checks")) {
                if (check.equals(c.path("name").asText())) {
                    found = c;
                }
            }
            assertNotNull(found, check + " in " + body);
            assertEquals("UP", found.path("status").asText(), body);
        }
        assertFalse(body.contains(BUCKET), "the bucket is not told to strangers");
    }

    @Test
    void aFileIsOneTraceFromItsListingThroughTheKafkaHandOffToItsDelivery() throws Exception {
        List<RemoteFile> files = new ExampleUpstreams(upstream).serve(List.of(TRACED), 1).files();
        RemoteFile invoice = files.stream().filter(f -> f.upstream().equals(ExampleUpstreams.INVOICES)).findFirst()
                .orElseThrow();
        RemoteFile payroll = files.stream().filter(f -> f.upstream().equals(ExampleUpstreams.PAYROLL)).findFirst()
                .orElseThrow();
        await().atMost(Duration.ofSeconds(60)).until(() -> inState(invoice, "DELIVERED") && inState(payroll, "ARCHIVED"));
        Row row = row(invoice).orElseThrow();
        String traceId = FileTraces.traceId(row.traceparent());
        assertNotNull(traceId, "the ledger keeps the file's trace: " + row);

        List<String> stages = List.of("LIST " + ExampleUpstreams.INVOICES, "CLAIM", "DOWNLOAD", "ARCHIVE", "VALIDATE",
                "DELIVER kafka");
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertEquals(Set.copyOf(stages),
                otlp.trace(traceId).stream().map(ExportedSpan::name).collect(Collectors.toSet()),
                "the spans of trace " + traceId + " among the " + otlp.spans().size() + " received"));
        List<ExportedSpan> trace = otlp.trace(traceId);
        Map<String, ExportedSpan> byName = new HashMap<>();
        trace.forEach(s -> byName.putIfAbsent(s.name(), s));
        assertEquals(stages.size(), trace.size(), "one span per stage, nothing retried here: " + trace);
        ExportedSpan root = byName.get("LIST " + ExampleUpstreams.INVOICES);
        assertEquals("", root.parentSpanId(), "LIST begins the file's own trace, not the poll's: " + root);
        for (String child : List.of("CLAIM", "DOWNLOAD", "VALIDATE", "DELIVER kafka")) {
            assertEquals(root.spanId(), byName.get(child).parentSpanId(), child + " is a step of the file: " + trace);
        }
        assertEquals(byName.get("DOWNLOAD").spanId(), byName.get("ARCHIVE").parentSpanId(),
                "the archive is written from the download's stream: " + trace);
        for (ExportedSpan s : trace) {
            assertEquals(String.valueOf(row.id()), s.attributes().get("erphub.file.id"), "every span names the file: " + s);
            assertEquals(TRACED, s.attributes().get("erphub.tenant"), s.toString());
            assertEquals("erphub", s.serviceName(), s.toString());
            assertFalse(s.error(), s.toString());
        }
        assertEquals("kafka", byName.get("DELIVER kafka").attributes().get("erphub.destination"));

        // The other file of the same poll has a trace of its own, without deliveries (its upstream has none here).
        String payrollTrace = FileTraces.traceId(row(payroll).orElseThrow().traceparent());
        assertNotEquals(traceId, payrollTrace);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertEquals(
                Set.of("LIST " + ExampleUpstreams.PAYROLL, "CLAIM", "DOWNLOAD", "ARCHIVE", "VALIDATE"),
                otlp.trace(payrollTrace).stream().map(ExportedSpan::name).collect(Collectors.toSet())));

        // The hand-off record on Kafka carries the trace as a W3C traceparent header.
        assertEquals(row.traceparent(), handOffTraceparent(row.id()), "the Kafka hand-off's traceparent header");

        // The API's view of the file names its trace.
        String admin = oauth2.issueToken(OAuth2ServerResource.ISSUER, "ops-alice", AUDIENCE,
                Map.of("groups", List.of(Caller.ADMIN)), 600).serialize();
        HttpResponse<String> file = app.get("/api/files/" + row.id(), admin);
        assertEquals(200, file.statusCode(), file.body());
        assertEquals(traceId, JSON.readTree(file.body()).path("file").path("traceId").asText());
    }

    private String handOffTraceparent(long fileId) {
        Header h = handOffRecord(fileId).headers().lastHeader("traceparent");
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static long archivedTransitions(long fileId) throws SQLException {
        try (Connection c = ledger(); PreparedStatement s = c.prepareStatement(
                "SELECT COUNT(*) FROM file_transition WHERE file_id = ? AND to_state = 'ARCHIVED'")) {
            s.setLong(1, fileId);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
