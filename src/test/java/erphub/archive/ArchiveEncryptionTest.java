package erphub.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.aws2.s3.AWS2S3Component;
import org.apache.camel.component.aws2.s3.AWS2S3Constants;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import erphub.archive.ArchiveEncryption.Mode;
import erphub.archive.ArchiveEncryption.Settings;
import erphub.testing.BesideTheApplication;
import erphub.testing.S3ServerResource;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
import software.amazon.awssdk.services.s3.model.ServerSideEncryptionRule;

/**
 * Server-side encryption of the S3 archive against a real S3-compatible server (s3proxy 4.1, which keeps each
 * object's encryption and answers it on HEAD, like S3). The bucket's own default is SSE-KMS with another key, so an
 * object that reports AES256 or erphub's key was written with the headers erphub sent, not by the bucket default.
 * Camel's aws2-s3 component is configured the way {@link ArchiveEncryption} configures it in the application
 * (FanOutTest shows it there: every archived file of its run is SSE-KMS with the configured key).
 */
@BesideTheApplication
class ArchiveEncryptionTest {

    static final String BUCKET = "erphub-sse-test";
    static final String KMS_KEY = "arn:aws:kms:eu-central-1:111122223333:key/0f7d3c1e-erphub-archive";
    static final String BUCKET_DEFAULT_KEY = "bucket-default-key";
    static final int PART_SIZE = 5 * 1024 * 1024;

    static final S3ServerResource SERVER = new S3ServerResource();
    static Map<String, String> server;

    @BeforeAll
    static void start() {
        server = SERVER.start();
        SERVER.client().createBucket(b -> b.bucket(BUCKET));
        SERVER.client().putBucketEncryption(b -> b.bucket(BUCKET).serverSideEncryptionConfiguration(c -> c.rules(
                ServerSideEncryptionRule.builder().applyServerSideEncryptionByDefault(d -> d
                        .sseAlgorithm(ServerSideEncryption.AWS_KMS).kmsMasterKeyID(BUCKET_DEFAULT_KEY)).build())));
    }

    @AfterAll
    static void stop() {
        SERVER.stop();
    }

    String archiveUri() {
        return "aws2-s3://" + BUCKET + "?overrideEndpoint=true&uriEndpointOverride=" + server.get("test.s3.endpoint")
                + "&forcePathStyle=true&region=" + server.get("test.s3.region") + "&accessKey=RAW("
                + server.get("test.s3.access-key") + ")&secretKey=RAW(" + server.get("test.s3.secret-key") + ")"
                + "&multiPartUpload=true&partSize=" + PART_SIZE;
    }

    /** Archives each body under its key through a Camel context whose aws2-s3 component has the settings. */
    void archive(Settings settings, Map<String, byte[]> files) throws Exception {
        AWS2S3Component component = new AWS2S3Component();
        settings.applyTo(component.getConfiguration());
        try (CamelContext camel = new DefaultCamelContext()) {
            camel.addComponent("aws2-s3", component);
            camel.start();
            ProducerTemplate producer = camel.createProducerTemplate();
            for (Map.Entry<String, byte[]> file : files.entrySet()) {
                producer.send(archiveUri(), e -> {
                    e.getIn().setBody(new ByteArrayInputStream(file.getValue()));
                    e.getIn().setHeader(AWS2S3Constants.KEY, file.getKey());
                    e.getIn().setHeader(AWS2S3Constants.CONTENT_LENGTH, (long) file.getValue().length);
                });
            }
            // Reading needs nothing: the server decrypts for an allowed caller.
            for (Map.Entry<String, byte[]> file : files.entrySet()) {
                InputStream read = producer.request(archiveUri() + "&operation=getObject",
                        e -> e.getIn().setHeader(AWS2S3Constants.KEY, file.getKey())).getMessage().getBody(InputStream.class);
                assertArrayEquals(file.getValue(), read.readAllBytes(), file.getKey());
            }
        }
    }

    static byte[] bytes(int size) {
        byte[] b = new byte[size];
        new Random(size).nextBytes(b);
        return b;
    }

    HeadObjectResponse head(String key) {
        return SERVER.client().headObject(b -> b.bucket(BUCKET).key(key));
    }

    @Test
    void sseKmsWritesSinglePutsAndMultipartUploadsWithTheConfiguredKey() throws Exception {
        Settings kms = Settings.of(archiveUri(), "sse-kms", Optional.of(KMS_KEY));
        archive(kms, Map.of("acme/payroll-exports/2026/11/30/1", bytes(10_000),
                "acme/payroll-exports/2026/11/30/2", bytes(PART_SIZE + 1_000_000)));
        for (String key : new String[] {"acme/payroll-exports/2026/11/30/1", "acme/payroll-exports/2026/11/30/2"}) {
            assertEquals(ServerSideEncryption.AWS_KMS, head(key).serverSideEncryption(), key);
            assertEquals(KMS_KEY, head(key).ssekmsKeyId(), key);
        }
    }

    @Test
    void sseS3WritesWithS3ManagedKeysInsteadOfTheBucketDefault() throws Exception {
        archive(Settings.of(archiveUri(), "SSE-S3", Optional.empty()), Map.of("globex/invoices/2026/11/30/1", bytes(20_000),
                "globex/invoices/2026/11/30/2", bytes(PART_SIZE + 10)));
        for (String key : new String[] {"globex/invoices/2026/11/30/1", "globex/invoices/2026/11/30/2"}) {
            assertEquals(ServerSideEncryption.AES256, head(key).serverSideEncryption(), key);
            assertNull(head(key).ssekmsKeyId(), key);
        }
    }

    @Test
    void noneLeavesItToTheBucketDefault() throws Exception {
        archive(Settings.of(archiveUri(), "none", Optional.empty()), Map.of("initech/payroll/2026/11/30/1", bytes(1_000)));
        assertEquals(ServerSideEncryption.AWS_KMS, head("initech/payroll/2026/11/30/1").serverSideEncryption());
        assertEquals(BUCKET_DEFAULT_KEY, head("initech/payroll/2026/11/30/1").ssekmsKeyId());
    }

    @Test
    void settingsThatCannotDoWhatTheySayStopStartUpNamingTheSetting() {
        String s3 = archiveUri();
        assertEquals(Mode.NONE, Settings.of("file:data/archive", "none", Optional.empty()).mode());
        assertEquals("erphub.archive.encryption must be none, sse-s3 or sse-kms, not 'aes'",
                assertThrows(IllegalStateException.class, () -> Settings.of(s3, "aes", Optional.empty())).getMessage());
        assertTrue(assertThrows(IllegalStateException.class, () -> Settings.of(s3, "sse-kms", Optional.of(" ")))
                .getMessage().startsWith("erphub.archive.encryption=sse-kms needs erphub.archive.kms-key-id"));
        assertTrue(assertThrows(IllegalStateException.class, () -> Settings.of(s3, "none", Optional.of(KMS_KEY)))
                .getMessage().startsWith("erphub.archive.kms-key-id is set but erphub.archive.encryption is none"));
        // A key id that would add a header of its own.
        assertTrue(assertThrows(IllegalStateException.class, () -> Settings.of(s3, "sse-kms",
                Optional.of("alias/erphub\r\nx-amz-server-side-encryption: AES256"))).getMessage()
                .startsWith("erphub.archive.kms-key-id is not a KMS key id, ARN or alias"));
        assertEquals("erphub.archive.encryption=sse-s3 is server-side encryption of an S3 archive, but erphub.archive.uri"
                + " is not an aws2-s3: endpoint", assertThrows(IllegalStateException.class,
                        () -> Settings.of("file:data/archive", "sse-s3", Optional.empty())).getMessage());
        assertEquals(Optional.of("alias/aws/s3"), Settings.of(s3, "sse-kms", Optional.of("alias/aws/s3")).kmsKeyId());
    }
}
