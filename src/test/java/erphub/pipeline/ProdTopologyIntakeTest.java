package erphub.pipeline;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.charset.StandardCharsets;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

import com.github.tomakehurst.wiremock.WireMockServer;

import erphub.api.Caller;
import erphub.state.FileKey;
import erphub.state.FileRecord;
import erphub.state.FileState;
import erphub.state.ClaimStore;
import erphub.state.FileLedger;
import erphub.state.LedgerQueries;
import erphub.testing.ExampleUpstreams;
import erphub.testing.ExampleUpstreams.RemoteFile;
import erphub.testing.InjectTestServer;
import erphub.testing.KafkaBrokerResource;
import erphub.testing.OAuth2ServerResource;
import erphub.testing.OtlpReceiverResource;
import erphub.testing.OtlpReceiverResource.ExportedSpan;
import erphub.tracing.FileTraces;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import erphub.testing.PostgresResource;
import erphub.testing.S3ServerResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The intake in the production topology: the hand-off between the poll routes and the intake route over
 * a Kafka topic, the archive in an S3-compatible store (Camel aws2-s3), the ledger on PostgreSQL; supplier
 * invoices go on to a Kafka topic. Tracing is on, exporting over OTLP to a real receiver: a file is one trace.
 */
@QuarkusTest
@TestProfile(ProdTopologyIntakeTest.KafkaS3Postgres.class)
class ProdTopologyIntakeTest {

    static final List<String> TENANTS = List.of("acme", "globex", "chunky", "bigco", "tracy", "hoarder", "sprinter", "twice");
    /** The tenant of the tracing test: its two files are the only ones it has. */
    static final String TRACED = "tracy";
    static final String HANDOFF_TOPIC = "erphub.intake";
    static final String AUDIENCE = "erphub-api";
    static final String BUCKET = "erphub-archive-test";

    public static class KafkaS3Postgres implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
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
            config.put("mp.jwt.verify.publickey.location", "${test.oauth2.jwks-url}");
            config.put("mp.jwt.verify.issuer", "${test.oauth2.issuer}");
            config.put("mp.jwt.verify.publickey", "NONE");
            return config;
        }

        @Override
        public List<TestResourceEntry> testResources() {
            List<TestResourceEntry> servers = new java.util.ArrayList<>(ExampleUpstreams.servers());
            // The servers that take seconds to start (true) start beside the others, not one after another.
            servers.add(new TestResourceEntry(KafkaBrokerResource.class, Map.of(), true));
            servers.add(new TestResourceEntry(S3ServerResource.class, Map.of(), true));
            servers.add(new TestResourceEntry(PostgresResource.class, Map.of(), true));
            servers.add(new TestResourceEntry(OtlpReceiverResource.class));
            return servers;
        }
    }

    @InjectTestServer
    WireMockServer upstream;

    @InjectTestServer
    S3Client s3;

    @InjectTestServer
    OtlpReceiverResource.Received otlp;

    @InjectTestServer
    MockOAuth2Server oauth2;

    @InjectTestServer
    KafkaBrokerResource.KafkaBroker kafka;

    @Inject
    LedgerQueries store;

    @Inject
    ClaimStore claims;

    @Inject
    FileLedger ledger;

    @Inject
    erphub.state.StateDataSource db;

    @Test
    void filesHandedOffOverKafkaAreArchivedInS3ByteIdentical() {
        List<RemoteFile> files = new ExampleUpstreams(upstream).serve(List.of("acme", "globex"), 60).files();

        // Archived, and supplier invoices on to the Kafka destination.
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> files.stream()
                .allMatch(f -> store.find(key(f)).map(r -> r.state() == (f.upstream().equals(ExampleUpstreams.INVOICES)
                        ? FileState.DELIVERED : FileState.ARCHIVED)).orElse(false)));

        for (RemoteFile f : files) {
            FileRecord row = store.find(key(f)).orElseThrow();
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
        List<String> events = new java.util.ArrayList<>();
        try (java.sql.Connection c = db.connection(); java.sql.PreparedStatement s = c.prepareStatement(
                "SELECT v.tenant, t.to_state FROM file_transition t JOIN file_version v ON v.id = t.file_id"
                        + " WHERE v.tenant IN ('hoarder', 'sprinter') AND v.upstream = 'payroll-exports'"
                        + " AND t.to_state IN ('DISCOVERED', 'ARCHIVED') ORDER BY t.id");
                java.sql.ResultSet rows = s.executeQuery()) {
            while (rows.next()) {
                events.add(rows.getString(1) + " " + rows.getString(2));
            }
        }
        int listed = events.indexOf("sprinter DISCOVERED");
        int done = events.lastIndexOf("sprinter ARCHIVED");
        long remaining = backlog.size() - events.subList(0, listed).stream().filter("hoarder ARCHIVED"::equals).count();
        long waitedFor = events.subList(listed, done).stream().filter("hoarder ARCHIVED"::equals).count();
        System.out.printf("[ProdTopologyIntakeTest] over the Kafka hand-off, sprinter's %d files were archived after %d"
                + " more of hoarder's files; %d of its %d were left when sprinter's were claimed (%d served before)%n",
                few.size(), waitedFor, remaining, backlog.size(), archivedWhenServed);
        org.junit.jupiter.api.Assertions.assertTrue(remaining >= 40, "the backlog was a backlog: " + remaining + " left");
        org.junit.jupiter.api.Assertions.assertTrue(waitedFor < remaining / 2,
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
                    .until(() -> store.find(key(f)).isPresent());
            copyArrivesWhileDownloading(f, store.find(key(f)).orElseThrow().id());
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
        org.junit.jupiter.api.Assertions.assertEquals(FileState.DISCOVERED, store.find(fileId).orElseThrow().state(),
                "the copy arrived while the first was still downloading");

        await().atMost(Duration.ofSeconds(60)).until(
                () -> store.find(fileId).map(r -> r.state() == FileState.ARCHIVED).orElse(false));
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
        FileRecord row = store.find(fileId).orElseThrow();
        assertEquals(FileState.ARCHIVED, row.state(), row.reason());
        assertEquals(2, row.attempt(), "the lister's claim, then the relay's");
        assertEquals(1, upstream.countRequestsMatching(com.github.tomakehurst.wiremock.client.WireMock
                .getRequestedFor(com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo(content))
                .withHeader("Authorization", new erphub.testing.TokenSubjectPattern("twice-payroll")).build())
                .getCount(), "downloaded once (other tenants have files of the same id)");
        assertEquals(1, store.history(fileId).stream().filter(t -> t.to() == FileState.ARCHIVED).count(), "archived once");
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

    private long count(String tenant, String state) throws java.sql.SQLException {
        try (java.sql.Connection c = db.connection(); java.sql.PreparedStatement s = c.prepareStatement(
                "SELECT COUNT(*) FROM file_version WHERE tenant = ? AND upstream = 'payroll-exports'"
                        + (state == null ? "" : " AND state = ?"))) {
            s.setString(1, tenant);
            if (state != null) {
                s.setString(2, state);
            }
            try (java.sql.ResultSet rs = s.executeQuery()) {
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

        await().atMost(Duration.ofSeconds(60)).until(
                () -> store.find(key(f)).map(r -> r.state() == FileState.ARCHIVED).orElse(false));
        FileRecord row = store.find(key(f)).orElseThrow();
        assertArrayEquals(f.content(), s3.getObjectAsBytes(b -> b.bucket(BUCKET).key(row.archiveKey())).asByteArray());
    }

    @Test
    void aLargeFileGoesToS3AsAMultipartUploadByteIdentical() {
        // 12 MiB with 5 MiB parts: three parts, streamed from the download.
        RemoteFile big = new ExampleUpstreams(upstream).serveLargePayroll("bigco", "exp-large", 12 * 1024 * 1024);

        await().atMost(Duration.ofSeconds(60)).until(
                () -> store.find(key(big)).map(r -> r.state() == FileState.ARCHIVED).orElse(false));
        FileRecord row = store.find(key(big)).orElseThrow();
        assertArrayEquals(big.content(), s3.getObjectAsBytes(b -> b.bucket(BUCKET).key(row.archiveKey())).asByteArray());
        String etag = s3.headObject(b -> b.bucket(BUCKET).key(row.archiveKey())).eTag();
        org.junit.jupiter.api.Assertions.assertTrue(etag.contains("-"), "a multipart upload's ETag ends in -<parts>: " + etag);
    }

    @Test
    void readinessCoversKafkaAndTheS3ArchiveWithoutNamingThem() {
        await().atMost(Duration.ofSeconds(30)).until(() -> io.restassured.RestAssured.get("/q/health/ready").statusCode() == 200);
        io.restassured.path.json.JsonPath ready = io.restassured.RestAssured.get("/q/health/ready").jsonPath();
        assertEquals("UP", ready.getString("checks.find { it.name == 'erphub-kafka' }.status"), ready.prettify());
        assertEquals("UP", ready.getString("checks.find { it.name == 'erphub-archive' }.status"), ready.prettify());
        org.junit.jupiter.api.Assertions.assertFalse(ready.prettify().contains(BUCKET), "the bucket is not told to strangers");
    }

    @Test
    void aFileIsOneTraceFromItsListingThroughTheKafkaHandOffToItsDelivery() throws Exception {
        List<RemoteFile> files = new ExampleUpstreams(upstream).serve(List.of(TRACED), 1).files();
        RemoteFile invoice = files.stream().filter(f -> f.upstream().equals(ExampleUpstreams.INVOICES)).findFirst()
                .orElseThrow();
        RemoteFile payroll = files.stream().filter(f -> f.upstream().equals(ExampleUpstreams.PAYROLL)).findFirst()
                .orElseThrow();
        await().atMost(Duration.ofSeconds(60)).until(() -> store.find(key(invoice)).map(r -> r.state() == FileState.DELIVERED)
                .orElse(false) && store.find(key(payroll)).map(r -> r.state() == FileState.ARCHIVED).orElse(false));
        FileRecord row = store.find(key(invoice)).orElseThrow();
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
        String payrollTrace = FileTraces.traceId(store.find(key(payroll)).orElseThrow().traceparent());
        assertNotEquals(traceId, payrollTrace);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertEquals(
                Set.of("LIST " + ExampleUpstreams.PAYROLL, "CLAIM", "DOWNLOAD", "ARCHIVE", "VALIDATE"),
                otlp.trace(payrollTrace).stream().map(ExportedSpan::name).collect(Collectors.toSet())));

        // The hand-off record on Kafka carries the trace as a W3C traceparent header.
        assertEquals(row.traceparent(), handOffTraceparent(row.id()), "the Kafka hand-off's traceparent header");

        // The API's view of the file names its trace.
        String admin = oauth2.issueToken(OAuth2ServerResource.ISSUER, "ops-alice", AUDIENCE,
                Map.of("groups", List.of(Caller.ADMIN)), 600).serialize();
        assertEquals(traceId, io.restassured.RestAssured.given().auth().oauth2(admin).get("/api/files/" + row.id())
                .then().statusCode(200).extract().jsonPath().getString("file.traceId"));
    }

    private String handOffTraceparent(long fileId) {
        Header h = handOffRecord(fileId).headers().lastHeader("traceparent");
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static FileKey key(RemoteFile f) {
        return new FileKey(f.tenant(), f.upstream(), f.remoteId(), f.version());
    }
}
