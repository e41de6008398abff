package erphub.testing;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import no.nav.security.mock.oauth2.MockOAuth2Server;
import okhttp3.mockwebserver.RecordedRequest;

/** Counts what an OAuth2 test server was asked for. */
public final class TokenRequests {

    private TokenRequests() {
    }

    /** Takes every request the server recorded so far; returns how many were token requests. */
    public static int drain(MockOAuth2Server server) {
        return drain(server, clientId -> true);
    }

    /**
     * Takes every request the server recorded so far; returns how many were token requests of the clients
     * {@code counted} accepts (the client id from HTTP Basic or the form's client_id): the count of one test when
     * others' clients use the same server.
     */
    public static int drain(MockOAuth2Server server, Predicate<String> counted) {
        int n = 0;
        while (true) {
            RecordedRequest r;
            try {
                r = server.takeRequest(300, TimeUnit.MILLISECONDS);
            } catch (RuntimeException noMoreRequests) {
                return n;
            }
            if (r == null) {
                return n;
            }
            if (r.getPath() != null && r.getPath().endsWith("/token") && counted.test(clientId(r))) {
                n++;
            }
        }
    }

    static String clientId(RecordedRequest r) {
        String authorization = r.getHeader("Authorization");
        if (authorization != null && authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            String pair = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
            return URLDecoder.decode(pair.substring(0, Math.max(0, pair.indexOf(':'))), StandardCharsets.UTF_8);
        }
        for (String field : r.getBody().clone().readUtf8().split("&")) {
            if (field.startsWith("client_id=")) {
                return URLDecoder.decode(field.substring("client_id=".length()), StandardCharsets.UTF_8);
            }
        }
        return "";
    }
}
