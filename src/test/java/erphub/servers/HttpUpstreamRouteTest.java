package erphub.servers;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.apache.camel.ProducerTemplate;
import org.junit.jupiter.api.Test;

import com.github.tomakehurst.wiremock.WireMockServer;

import erphub.testing.HttpUpstreamResource;
import erphub.testing.InjectTestServer;
import erphub.testing.TestRoutes;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

@QuarkusTest
@TestProfile(HttpUpstreamRouteTest.Profile.class)
class HttpUpstreamRouteTest {

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return TestRoutes.include("http-upstream");
        }

        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(HttpUpstreamResource.class));
        }
    }

    @InjectTestServer
    WireMockServer upstream;

    @Inject
    ProducerTemplate producer;

    @Test
    void routeReadsTheFileListFromTheUpstream() {
        String list = "{\"files\":[{\"id\":\"f-1\",\"name\":\"payroll-2026-11.csv\",\"etag\":\"\\\"v1\\\"\"}]}";
        upstream.stubFor(get(urlEqualTo("/files")).willReturn(aResponse()
                .withHeader("Content-Type", "application/json").withBody(list)));

        String body = producer.requestBody("direct:test-upstream-list", null, String.class);

        assertEquals(list, body);
        upstream.verify(1, getRequestedFor(urlEqualTo("/files")).withHeader("Accept", equalTo("application/json")));
    }
}
