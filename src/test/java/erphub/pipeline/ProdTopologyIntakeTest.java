package erphub.pipeline;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.github.tomakehurst.wiremock.WireMockServer;

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
import erphub.testing.PostgresResource;
import erphub.testing.S3ServerResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The intake in the production topology: the hand-off between the poll routes and the intake route over
 * a Kafka topic, the archive in an S3-compatible store (Camel aws2-s3), the ledger on PostgreSQL.
 */
@QuarkusTest
@TestProfile(ProdTopologyIntakeTest.KafkaS3Postgres.class)
class ProdTopologyIntakeTest {

    static final List<String> TENANTS = List.of("acme", "globex", "chunky", "bigco");
    static final String BUCKET = "erphub-archive-test";

    public static class KafkaS3Postgres implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> config = new HashMap<>(ExampleUpstreams.tenantConfig(TENANTS));
            config.put("erphub.intake.handoff-uri", "kafka:erphub.intake?brokers={{test.kafka.bootstrap-servers}}");
            config.put("erphub.intake.consumer-uri", "kafka:erphub.intake?brokers={{test.kafka.bootstrap-servers}}"
                    + "&groupId=erphub-intake&consumersCount=2&autoOffsetReset=earliest");
            String s3 = "aws2-s3://" + BUCKET + "?overrideEndpoint=true"
                    + "&uriEndpointOverride={{test.s3.endpoint}}&forcePathStyle=true&region={{test.s3.region}}"
                    + "&accessKey=RAW({{test.s3.access-key}})&secretKey=RAW({{test.s3.secret-key}})";
            config.put("erphub.archive.uri", s3 + "&autoCreateBucket=true&multiPartUpload=true&partSize=5242880");
            config.put("erphub.archive.read-uri", s3 + "&operation=getObject");
            return config;
        }

        @Override
        public List<TestResourceEntry> testResources() {
            List<TestResourceEntry> servers = new java.util.ArrayList<>(ExampleUpstreams.servers());
            servers.add(new TestResourceEntry(KafkaBrokerResource.class));
            servers.add(new TestResourceEntry(S3ServerResource.class));
            servers.add(new TestResourceEntry(PostgresResource.class));
            return servers;
        }
    }

    @InjectTestServer
    WireMockServer upstream;

    @InjectTestServer
    S3Client s3;

    @Inject
    LedgerQueries store;

    @Inject
    ClaimStore claims;

    @Inject
    FileLedger ledger;

    @Test
    void filesHandedOffOverKafkaAreArchivedInS3ByteIdentical() {
        List<RemoteFile> files = new ExampleUpstreams(upstream).serve(List.of("acme", "globex"), 60).files();

        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> files.stream()
                .allMatch(f -> store.find(key(f)).map(r -> r.state() == FileState.ARCHIVED).orElse(false)));

        for (RemoteFile f : files) {
            FileRecord row = store.find(key(f)).orElseThrow();
            byte[] stored = s3.getObjectAsBytes(b -> b.bucket(BUCKET).key(row.archiveKey())).asByteArray();
            assertArrayEquals(f.content(), stored, f.toString());
        }
        assertEquals(files.size(), s3.listObjectsV2(b -> b.bucket(BUCKET).prefix("acme/")).keyCount()
                + s3.listObjectsV2(b -> b.bucket(BUCKET).prefix("globex/")).keyCount());
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

    private static FileKey key(RemoteFile f) {
        return new FileKey(f.tenant(), f.upstream(), f.remoteId(), f.version());
    }
}
