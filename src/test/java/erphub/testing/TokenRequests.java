package erphub.testing;

import java.util.concurrent.TimeUnit;

import no.nav.security.mock.oauth2.MockOAuth2Server;
import okhttp3.mockwebserver.RecordedRequest;

/** Counts what an OAuth2 test server was asked for. */
public final class TokenRequests {

    private TokenRequests() {
    }

    /** Takes every request the server recorded so far; returns how many were token requests. */
    public static int drain(MockOAuth2Server server) {
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
            if (r.getPath() != null && r.getPath().endsWith("/token")) {
                n++;
            }
        }
    }
}
