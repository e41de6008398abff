package erphub.testing;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;

import no.nav.security.mock.oauth2.MockOAuth2Server;

/**
 * Access tokens for the management API from a test's token server, issued once per issuer, subject, audience, claims
 * and lifetime, then handed out again while more than half of the lifetime is left, as a client keeps its token.
 * Issuing one signs it with RSA, which the tests' JVM (C1 only, docs/testing.md) does without the big-integer
 * intrinsics: RegistrationsTest asked for a token per request and spent more CPU signing tokens than anything else
 * it did (JFR, 2026-12-08). A token whose lifetime is not positive (already expired) is issued every time.
 */
public final class TestTokens {

    private record Issued(String token, long reuseUntilMillis) {
    }

    private static final Map<MockOAuth2Server, Map<List<Object>, Issued>> ISSUED =
            Collections.synchronizedMap(new WeakHashMap<>());

    private TestTokens() {
    }

    public static String issue(MockOAuth2Server server, String issuer, String subject, String audience,
            Map<String, Object> claims, long lifetimeSeconds) {
        if (lifetimeSeconds <= 0) {
            return server.issueToken(issuer, subject, audience, claims, lifetimeSeconds).serialize();
        }
        Map<List<Object>, Issued> tokens = ISSUED.computeIfAbsent(server, s -> new ConcurrentHashMap<>());
        List<Object> key = List.of(issuer, subject, audience, claims, lifetimeSeconds);
        long now = System.currentTimeMillis();
        Issued issued = tokens.get(key);
        if (issued == null || issued.reuseUntilMillis() < now) {
            issued = new Issued(server.issueToken(issuer, subject, audience, claims, lifetimeSeconds).serialize(),
                    now + lifetimeSeconds * 500);
            tokens.put(key, issued);
        }
        return issued.token();
    }
}
