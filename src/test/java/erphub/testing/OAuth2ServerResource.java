package erphub.testing;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;

import no.nav.security.mock.oauth2.MockOAuth2Server;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * A real OAuth2/OIDC server issuing RS256-signed JWTs for the client-credentials grant
 * (mock-oauth2-server, in-process on a free 127.0.0.1 port). One issuer: {@value #ISSUER}.
 */
public class OAuth2ServerResource implements QuarkusTestResourceLifecycleManager {

    public static final String ISSUER = "erphub";

    private MockOAuth2Server server;

    @Override
    public Map<String, String> start() {
        server = new MockOAuth2Server();
        try {
            server.start(InetAddress.getByName(TestServers.LOOPBACK), TestServers.freePort());
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
        return Map.of(
                "test.oauth2.token-url", server.tokenEndpointUrl(ISSUER).toString(),
                "test.oauth2.jwks-url", server.jwksUrl(ISSUER).toString(),
                "test.oauth2.issuer", server.issuerUrl(ISSUER).toString());
    }

    @Override
    public void inject(TestInjector injector) {
        TestServers.inject(injector, server);
    }

    @Override
    public void stop() {
        if (server != null) {
            server.shutdown();
        }
    }
}
