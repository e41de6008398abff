package erphub.upstream;

import java.io.InputStream;
import java.time.Duration;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;

import erphub.routing.HttpTargets;
import erphub.tenant.CredentialStore.Credential;
import erphub.tenant.TenantDirectory;
import erphub.token.TokenCache;
import erphub.token.TokenKey;
import erphub.token.TokenUnavailableException;

/**
 * The processors of the route {@code erphub-upstream-get}: the request (bearer token of the tenant's client
 * for the upstream, from the token cache), a 401's token refresh, and the classification of the answer the way
 * DESIGN.md says: 2xx streams on, timeouts, 408, 429 and 5xx are transient (with Retry-After), other 4xx and a
 * second 401 with a fresh token are permanent.
 */
@ApplicationScoped
public class UpstreamRequest {

    /** Announced length of the body of the last 2xx answer, -1 when unknown. */
    public static final String CONTENT_LENGTH = "erphubContentLength";

    private final UpstreamSpecs specs;
    private final TenantDirectory tenants;
    private final TokenCache tokens;

    public UpstreamRequest(UpstreamSpecs specs, TenantDirectory tenants, TokenCache tokens) {
        this.specs = specs;
        this.tenants = tenants;
        this.tokens = tokens;
    }

    /** Who is calling: the token key and the secret that goes with it (never logged). */
    record Auth(TokenKey key, String clientSecret) {
        @Override
        public String toString() {
            return key.toString();
        }
    }

    @Produces
    @Named("upstreamRequest")
    Processor request() {
        return exchange -> {
            // The caller's headers (the poll's quartz headers, the last page's response) must not go out.
            HttpTargets.resetHeaders(exchange.getIn());
            prepare(exchange, auth(exchange));
        };
    }

    @Produces
    @Named("upstreamTokenRefused")
    Processor tokenRefused() {
        return exchange -> {
            HttpTargets.discardBody(exchange);
            Auth auth = auth(exchange);
            String refused = exchange.getIn().getHeader("Authorization", String.class);
            tokens.invalidate(auth.key(), refused == null ? "" : refused.substring("Bearer ".length()));
            // Starts over: the 401's response headers must not go out with the second request.
            HttpTargets.resetHeaders(exchange.getIn());
            prepare(exchange, auth);
        };
    }

    @Produces
    @Named("upstreamUnreachable")
    Processor unreachable() {
        return exchange -> {
            Throwable caught = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
            throw new TransientUpstreamException("GET " + exchange.getIn().getHeader(Exchange.HTTP_URI) + " failed: "
                    + caught.getClass().getSimpleName() + ": " + caught.getMessage(), null, caught);
        };
    }

    @Produces
    @Named("upstreamResponse")
    Processor response() {
        return UpstreamRequest::classify;
    }

    private void prepare(Exchange exchange, Auth auth) {
        String url = exchange.getProperty(UpstreamListing.URL, String.class);
        try {
            HttpTargets.target(exchange, "GET", url);
        } catch (IllegalArgumentException e) {
            throw new PermanentUpstreamException("cannot GET " + url + ": " + e.getMessage(), 0);
        }
        String token;
        try {
            token = tokens.accessToken(auth.key(), auth.clientSecret());
        } catch (TokenUnavailableException e) {
            throw new TransientUpstreamException(e.getMessage(), null, e);
        }
        Message in = exchange.getIn();
        in.setHeader("Authorization", "Bearer " + token);
        in.setHeader("Accept", "*/*");
        in.setBody(null);
    }

    private Auth auth(Exchange exchange) {
        String upstream = exchange.getProperty(UpstreamPolls.UPSTREAM, String.class);
        String tenant = exchange.getProperty(UpstreamPolls.TENANT, String.class);
        UpstreamSpec spec = specs.get(upstream);
        Credential credential = tenants.upstreamCredential(tenant, upstream)
                .orElseThrow(() -> new PermanentUpstreamException("tenant " + tenant + " has no resolvable credential"
                        + " for upstream " + upstream + " (see the tenant registry)", 0));
        return new Auth(new TokenKey(spec.tokenUrl(), credential.clientId(), spec.scope(), spec.audience()),
                credential.clientSecret());
    }

    static void classify(Exchange exchange) {
        Message in = exchange.getIn();
        int status = HttpTargets.status(exchange);
        String call = "GET " + in.getHeader(Exchange.HTTP_URI, String.class);
        if (status >= 200 && status < 300) {
            Long length = in.getHeader("Content-Length", Long.class);
            exchange.setProperty(CONTENT_LENGTH, length == null ? -1L : length);
            if (in.getBody() == null) {
                in.setBody(InputStream.nullInputStream());
            }
            return;
        }
        Duration retryAfter = HttpTargets.retryAfter(in.getHeader("Retry-After"));
        HttpTargets.discardBody(exchange);
        if (status == 401) {
            throw new PermanentUpstreamException(call + " answered 401 with a fresh token: the credential is not accepted",
                    401);
        }
        if (status == 408 || status == 429 || status >= 500) {
            throw new TransientUpstreamException(call + " answered " + status
                    + (retryAfter == null ? "" : " (Retry-After " + retryAfter.toSeconds() + "s)"), retryAfter, null);
        }
        throw new PermanentUpstreamException(call + " answered " + status, status);
    }
}
