package erphub.testing;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
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
    private Map<String, String> exposeAs = Map.of();

    /** Init args name further properties to set to the token endpoint URL (the values are ignored). */
    @Override
    public void init(Map<String, String> args) {
        exposeAs = Map.copyOf(args);
    }

    @Override
    public Map<String, String> start() {
        server = new MockOAuth2Server();
        try {
            server.start(InetAddress.getByName(TestServers.LOOPBACK), TestServers.freePort());
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
        Map<String, String> config = new HashMap<>();
        config.put("test.oauth2.token-url", server.tokenEndpointUrl(ISSUER).toString());
        config.put("test.oauth2.jwks-url", server.jwksUrl(ISSUER).toString());
        config.put("test.oauth2.issuer", server.issuerUrl(ISSUER).toString());
        exposeAs.keySet().forEach(property -> config.put(property, server.tokenEndpointUrl(ISSUER).toString()));
        return config;
    }

    /**
     * The environment that points a packaged app's management API at one issuer of this token server, as an operator
     * points it at an identity provider (ERPHUB_API_JWKS_URL, ERPHUB_API_ISSUER).
     */
    public static Map<String, String> apiEnvironment(MockOAuth2Server server, String issuer) {
        return Map.of("ERPHUB_API_JWKS_URL", server.jwksUrl(issuer).toString(),
                "ERPHUB_API_ISSUER", server.issuerUrl(issuer).toString());
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
