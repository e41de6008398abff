package erphub.pipeline;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;

import erphub.config.ErphubConfig;
import erphub.token.TokenCache;
import erphub.token.TokenKey;
import erphub.token.TokenUnavailableException;

/**
 * Authenticated, streamed GETs against upstreams. Bearer tokens come from the {@link TokenCache}; a 401
 * drops that token and the call is made once more with a fresh one. Failures are classified the way
 * DESIGN.md says: timeouts, 408, 429 and 5xx are transient (with Retry-After when given), other 4xx and
 * a second 401 are permanent.
 */
@ApplicationScoped
public class UpstreamHttp {

    private final CloseableHttpClient client;
    private final TokenCache tokens;

    /** Who is calling: the token key and the secret that goes with it (never logged). */
    public record Auth(TokenKey key, String clientSecret) {
        @Override
        public String toString() {
            return key.toString();
        }
    }

    /** An open response body; the caller reads and closes it. */
    public static final class Body extends FilterInputStream {
        private final ClassicHttpResponse response;
        private final long contentLength;

        Body(ClassicHttpResponse response, InputStream in, long contentLength) {
            super(in);
            this.response = response;
            this.contentLength = contentLength;
        }

        /** The length the upstream announced, or -1. */
        public long contentLength() {
            return contentLength;
        }

        @Override
        public void close() throws IOException {
            try {
                super.close();
            } finally {
                response.close();
            }
        }
    }

    public UpstreamHttp(ErphubConfig config, TokenCache tokens) {
        this.tokens = tokens;
        this.client = newClient(config.http());
    }

    /** An HTTP client with erphub's timeouts and pool, no automatic retries (the routes retry) and no cookies. */
    public static CloseableHttpClient newClient(ErphubConfig.Http http) {
        ConnectionConfig connection = ConnectionConfig.custom()
                .setConnectTimeout(Timeout.of(http.connectTimeout()))
                .setSocketTimeout(Timeout.of(http.readTimeout()))
                .build();
        return HttpClients.custom()
                .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                        .setDefaultConnectionConfig(connection)
                        .setMaxConnTotal(http.maxConnections())
                        .setMaxConnPerRoute(http.maxConnections())
                        .build())
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setResponseTimeout(Timeout.of(http.readTimeout()))
                        .build())
                .disableAutomaticRetries()
                .disableCookieManagement()
                .evictIdleConnections(Timeout.ofMinutes(1))
                .build();
    }

    /** GET with a bearer token; returns the open 2xx body or throws a classified exception. */
    public Body get(String url, Auth auth) {
        String token = token(auth);
        ClassicHttpResponse response = execute(url, token);
        if (response.getCode() == 401) {
            closeQuietly(response);
            tokens.invalidate(auth.key(), token);
            response = execute(url, token(auth));
            if (response.getCode() == 401) {
                closeQuietly(response);
                throw new PermanentUpstreamException("GET " + url + " answered 401 with a fresh token for "
                        + auth.key().clientId() + ": the credential is not accepted", 401);
            }
        }
        int status = response.getCode();
        if (status >= 200 && status < 300) {
            HttpEntity entity = response.getEntity();
            try {
                InputStream in = entity == null ? InputStream.nullInputStream() : entity.getContent();
                return new Body(response, in, entity == null ? 0 : entity.getContentLength());
            } catch (IOException e) {
                closeQuietly(response);
                throw new TransientUpstreamException("GET " + url + ": " + e, null, e);
            }
        }
        Duration retryAfter = retryAfter(response.getFirstHeader(HttpHeaders.RETRY_AFTER));
        closeQuietly(response);
        if (status == 408 || status == 429 || status >= 500) {
            throw new TransientUpstreamException("GET " + url + " answered " + status
                    + (retryAfter == null ? "" : " (Retry-After " + retryAfter.toSeconds() + "s)"), retryAfter, null);
        }
        throw new PermanentUpstreamException("GET " + url + " answered " + status, status);
    }

    private String token(Auth auth) {
        try {
            return tokens.accessToken(auth.key(), auth.clientSecret());
        } catch (TokenUnavailableException e) {
            throw new TransientUpstreamException(e.getMessage(), null, e);
        }
    }

    private ClassicHttpResponse execute(String url, String token) {
        HttpGet get = new HttpGet(url);
        get.setHeader(HttpHeaders.AUTHORIZATION, "Bearer " + token);
        get.setHeader(HttpHeaders.ACCEPT, "*/*");
        try {
            return client.executeOpen(null, get, null);
        } catch (SocketTimeoutException e) {
            throw new TransientUpstreamException("GET " + url + " timed out: " + e.getMessage(), null, e);
        } catch (IOException e) {
            throw new TransientUpstreamException("GET " + url + " failed: " + e, null, e);
        }
    }

    public static Duration retryAfter(Header header) {
        if (header == null || header.getValue() == null || header.getValue().isBlank()) {
            return null;
        }
        String v = header.getValue().trim();
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(v)));
        } catch (NumberFormatException e) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
                long millis = at.toInstant().toEpochMilli() - System.currentTimeMillis();
                return Duration.ofMillis(Math.max(0, millis));
            } catch (RuntimeException ignored) {
                return null;
            }
        }
    }

    private static void closeQuietly(ClassicHttpResponse response) {
        try {
            response.close();
        } catch (IOException ignored) {
            // the connection is discarded anyway
        }
    }

    @PreDestroy
    void close() {
        client.close(CloseMode.GRACEFUL);
    }
}
