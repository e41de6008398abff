package erphub.servers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.Random;

import jakarta.inject.Inject;

import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.aws2.s3.AWS2S3Constants;
import org.junit.jupiter.api.Test;

import erphub.testing.InjectTestServer;
import erphub.testing.S3ServerResource;
import erphub.testing.TestRoutes;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import software.amazon.awssdk.services.s3.S3Client;

@QuarkusTest
@TestProfile(S3RouteTest.Profile.class)
class S3RouteTest {

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return TestRoutes.include("s3");
        }

        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(S3ServerResource.class));
        }
    }

    @InjectTestServer
    S3Client s3;

    @Inject
    ProducerTemplate producer;

    @Test
    void routeStoresTheBodyAsAnObjectInTheS3Server() {
        byte[] content = new byte[64 * 1024];
        new Random(7).nextBytes(content);
        String key = "acme/payroll/2026/11/22/f-1";

        producer.sendBodyAndHeader("direct:test-s3-put", content, AWS2S3Constants.KEY, key);

        byte[] stored = s3.getObjectAsBytes(b -> b.bucket("erphub-test-archive").key(key)).asByteArray();
        assertArrayEquals(content, stored);
        assertEquals(1, s3.listObjectsV2(b -> b.bucket("erphub-test-archive")).keyCount());
    }
}
