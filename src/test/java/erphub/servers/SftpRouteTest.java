package erphub.servers;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;

import jakarta.inject.Inject;

import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.junit.jupiter.api.Test;

import erphub.testing.InjectTestServer;
import erphub.testing.SftpServerResource;
import erphub.testing.SftpServerResource.SftpServer;
import erphub.testing.TestRoutes;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

@QuarkusTest
@TestProfile(SftpRouteTest.Profile.class)
class SftpRouteTest {

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return TestRoutes.include("sftp");
        }

        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(SftpServerResource.class));
        }
    }

    @InjectTestServer
    SftpServer sftp;

    @Inject
    ProducerTemplate producer;

    @Test
    void routeUploadsByteIdenticalFileToTheSftpServer() throws Exception {
        byte[] content = new byte[256 * 1024];
        new Random(42).nextBytes(content);

        producer.sendBodyAndHeader("direct:test-sftp-upload", content, Exchange.FILE_NAME, "invoice-0001.bin");

        Path uploaded = sftp.root().resolve("drop/invoice-0001.bin");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(uploaded));
        assertArrayEquals(content, Files.readAllBytes(uploaded));
        assertFalse(Files.exists(sftp.root().resolve("drop/invoice-0001.bin.part")), "temp name renamed away");
    }
}
