package erphub.delivery;

import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.entity.InputStreamEntity;
import org.apache.hc.core5.io.CloseMode;

import erphub.config.ErphubConfig;
import erphub.tenant.CredentialStore.Credential;
import erphub.pipeline.Archive;
import erphub.pipeline.UpstreamHttp;
import erphub.pipeline.UpstreamSpec;
import erphub.pipeline.UpstreamSpecs;
import erphub.tenant.TenantDirectory;
import erphub.token.TokenCache;
import erphub.token.TokenKey;
import erphub.token.TokenUnavailableException;

/**
 * The ERP's file import API: a POST (or PUT) of the archived bytes, streamed from the archive, with a
 * bearer token of the tenant's ERP client and an {@code Idempotency-Key}. 2xx is delivered, and so is 409
 * (the ERP already has this key: an earlier attempt got through but its answer was lost). A 401 drops the
 * token and tries once more with a fresh one.
 */
@ApplicationScoped
public class ErpApiDestination implements Destination {

    public static final String NAME = "erp-api";

    private final ErphubConfig.ErpApi config;
    private final CloseableHttpClient client;
    private final TokenCache tokens;
    private final TenantDirectory tenants;
    private final UpstreamSpecs specs;
    private final Archive archive;

    public ErpApiDestination(ErphubConfig config, TokenCache tokens, TenantDirectory tenants, UpstreamSpecs specs,
            Archive archive) {
        this.config = config.destinations().erpApi();
        this.client = UpstreamHttp.newClient(config.http());
        this.tokens = tokens;
        this.tenants = tenants;
        this.specs = specs;
        this.archive = archive;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String deliver(Delivery d) throws IOException {
        UpstreamSpec spec = specs.forUpstream(d.upstream())
                .orElseThrow(() -> new DeliveryRefusedException("upstream " + d.upstream() + " has no route", null));
        Credential credential = tenants.erpCredential(d.tenant())
                .orElseThrow(() -> new DeliveryRefusedException("tenant " + d.tenant() + " has no resolvable ERP API"
                        + " credential (see the tenant registry)", null));
        TokenKey key = new TokenKey(config.tokenUrl(), credential.clientId(), config.scope().orElse(""),
                config.audience().orElse(""));
        String url = spec.erpApiUrl(d.tenant(), tenants.erpApiBaseUrl(d.tenant()).orElse(config.baseUrl()));
        String token = token(key, credential);
        int status = send(spec.erpApiMethod(), url, token, d);
        if (status == 401) {
            tokens.invalidate(key, token);
            status = send(spec.erpApiMethod(), url, token(key, credential), d);
            if (status == 401) {
                throw new DeliveryRefusedException(spec.erpApiMethod() + " " + url + " answered 401 with a fresh token"
                        + " for " + credential.clientId() + ": the ERP does not accept the credential", null);
            }
        }
        return spec.erpApiMethod() + " " + url + " answered " + status
                + (status == 409 ? " (already received under this idempotency key)" : "");
    }

    private int send(String method, String url, String token, Delivery d) throws IOException {
        HttpUriRequestBase request = new HttpUriRequestBase(method, java.net.URI.create(url));
        request.setHeader(HttpHeaders.AUTHORIZATION, "Bearer " + token);
        request.setHeader("Idempotency-Key", d.idempotencyKey());
        request.setHeader("X-Erphub-Tenant", d.tenant());
        request.setHeader("X-Erphub-Upstream", d.upstream());
        request.setHeader("X-Erphub-Remote-Id", d.file().key().remoteId());
        request.setHeader("X-Erphub-Version", d.file().key().version());
        request.setHeader("X-Erphub-File-Name", URLEncoder.encode(d.file().fileName(), StandardCharsets.UTF_8));
        if (d.file().checksum() != null) {
            request.setHeader("X-Erphub-Checksum", d.file().checksum());
        }
        long size = d.file().sizeBytes() == null ? -1 : d.file().sizeBytes();
        try (InputStream body = archive.open(d.file().archiveKey())) {
            request.setEntity(new InputStreamEntity(body, size, ContentType.APPLICATION_OCTET_STREAM));
            try (ClassicHttpResponse response = client.executeOpen(null, request, null)) {
                int status = response.getCode();
                Duration retryAfter = UpstreamHttp.retryAfter(response.getFirstHeader(HttpHeaders.RETRY_AFTER));
                EntityUtils.consumeQuietly(response.getEntity());
                if ((status >= 200 && status < 300) || status == 409 || status == 401) {
                    return status;
                }
                if (status == 408 || status == 429 || status >= 500) {
                    throw new DeliveryFailedException(method + " " + url + " answered " + status
                            + (retryAfter == null ? "" : " (Retry-After " + retryAfter.toSeconds() + "s)"),
                            capped(retryAfter), null);
                }
                throw new DeliveryRefusedException(method + " " + url + " answered " + status, null);
            }
        } catch (java.net.SocketTimeoutException e) {
            throw new DeliveryFailedException(method + " " + url + " timed out: " + e.getMessage(), null, e);
        }
    }

    private Duration capped(Duration retryAfter) {
        if (retryAfter == null) {
            return null;
        }
        return retryAfter.compareTo(config.retryAfterCap()) > 0 ? config.retryAfterCap() : retryAfter;
    }

    private String token(TokenKey key, Credential credential) {
        try {
            return tokens.accessToken(key, credential.clientSecret());
        } catch (TokenUnavailableException e) {
            throw new DeliveryFailedException("no ERP token: " + e.getMessage(), null, e);
        }
    }

    @PreDestroy
    void close() {
        client.close(CloseMode.GRACEFUL);
    }
}
