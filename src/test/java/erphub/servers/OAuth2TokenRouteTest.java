package erphub.servers;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.SignedJWT;

import erphub.testing.HttpUpstreamResource;
import erphub.testing.InjectTestServer;
import erphub.testing.OAuth2ServerResource;
import erphub.testing.TestRoutes;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

@QuarkusTest
@TestProfile(OAuth2TokenRouteTest.Profile.class)
class OAuth2TokenRouteTest {

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> config = TestRoutes.include("oauth2-token");
            config.put("test.oauth2.client-id", "tenant-acme-payroll");
            config.put("test.oauth2.client-secret", "not-a-real-secret");
            config.put("test.oauth2.scope", "files.read");
            return config;
        }

        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(OAuth2ServerResource.class),
                    new TestResourceEntry(HttpUpstreamResource.class));
        }
    }

    @InjectTestServer
    WireMockServer upstream;

    @Inject
    ProducerTemplate producer;

    @ConfigProperty(name = "test.oauth2.jwks-url")
    String jwksUrl;

    @ConfigProperty(name = "test.oauth2.issuer")
    String issuer;

    @Test
    void routeFetchesASignedClientCredentialsTokenAndCallsTheUpstreamWithIt() throws Exception {
        upstream.stubFor(get(urlEqualTo("/files")).willReturn(aResponse()
                .withHeader("Content-Type", "application/json").withBody("{\"files\":[]}")));

        Exchange result = producer.request("direct:test-token-then-upstream", e -> {
        });

        String token = result.getProperty("accessToken", String.class);
        SignedJWT jwt = SignedJWT.parse(token);
        assertEquals(JWSAlgorithm.RS256, jwt.getHeader().getAlgorithm());
        RSAKey key = (RSAKey) JWKSet.load(new URL(jwksUrl)).getKeyByKeyId(jwt.getHeader().getKeyID());
        assertTrue(jwt.verify(new RSASSAVerifier(key)), "token signature verifies against the server's JWKS");
        assertEquals(issuer, jwt.getJWTClaimsSet().getIssuer());
        assertEquals("tenant-acme-payroll", jwt.getJWTClaimsSet().getSubject());

        assertEquals("{\"files\":[]}", result.getMessage().getBody(String.class));
        upstream.verify(1, getRequestedFor(urlEqualTo("/files")).withHeader("Authorization", equalTo("Bearer " + token)));
    }
}
