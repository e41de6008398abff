package erphub.delivery;

import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.InputStreamEntity;

import erphub.config.ErphubConfig;
import erphub.routing.HttpTargets;
import erphub.tenant.CredentialStore.Credential;
import erphub.tenant.TenantDirectory;
import erphub.token.TokenCache;
import erphub.token.TokenKey;
import erphub.token.TokenUnavailableException;
import erphub.upstream.UpstreamSpec;
import erphub.upstream.UpstreamSpecs;

/**
 * The ERP's file import API (route {@code erphub-send-erp-api}, Camel HTTP): the request (URL from the tenant's
 * or the shared base and the upstream's erpApiPath, a bearer token of the tenant's ERP client, the
 * Idempotency-Key and the file's headers, the archived bytes streamed with their length), a 401's token
 * refresh, and the answer: 2xx delivered, and so is 409 (the ERP already has this key: an earlier attempt got
 * through but its answer was lost); 408, 429 and 5xx retried honouring Retry-After; any other 4xx refused.
 */
@ApplicationScoped
public class ErpApiDestination implements Destination {

    public static final String NAME = "erp-api";

    private final ErphubConfig.ErpApi config;
    private final TokenCache tokens;
    private final TenantDirectory tenants;
    private final UpstreamSpecs specs;

    public ErpApiDestination(ErphubConfig config, TokenCache tokens, TenantDirectory tenants, UpstreamSpecs specs) {
        this.config = config.destinations().erpApi();
        this.tokens = tokens;
        this.tenants = tenants;
        this.specs = specs;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ErphubConfig.Redelivery settings() {
        return config;
    }

    @Override
    public Duration retryAfterCap() {
        return config.retryAfterCap();
    }

    @Produces
    @Named("erpApiRequest")
    Processor request() {
        return this::prepare;
    }

    @Produces
    @Named("erpApiTokenRefused")
    Processor tokenRefused() {
        return exchange -> {
            Delivery d = exchange.getProperty(FileDelivery.DELIVERY, Delivery.class);
            String refused = exchange.getIn().getHeader("Authorization", String.class);
            tokens.invalidate(tokenKey(credential(d)), refused == null ? "" : refused.substring("Bearer ".length()));
            HttpTargets.discardBody(exchange);
        };
    }

    @Produces
    @Named("erpApiResponse")
    Processor response() {
        return this::classify;
    }

    private void prepare(Exchange exchange) {
        Delivery d = exchange.getProperty(FileDelivery.DELIVERY, Delivery.class);
        UpstreamSpec spec = specs.forUpstream(d.upstream())
                .orElseThrow(() -> new DeliveryRefusedException("upstream " + d.upstream() + " has no route", null));
        Credential credential = credential(d);
        String url = spec.erpApiUrl(d.tenant(), tenants.erpApiBaseUrl(d.tenant()).orElse(config.baseUrl()));
        String token;
        try {
            token = tokens.accessToken(tokenKey(credential), credential.clientSecret());
        } catch (TokenUnavailableException e) {
            throw new DeliveryFailedException("no ERP token: " + e.getMessage(), null, e);
        }
        InputStream bytes = exchange.getIn().getBody(InputStream.class);
        Message in = exchange.getIn();
        HttpTargets.resetHeaders(in);
        try {
            HttpTargets.target(exchange, spec.erpApiMethod(), url);
        } catch (IllegalArgumentException e) {
            throw new DeliveryRefusedException("ERP API URL of tenant " + d.tenant() + ": " + e.getMessage(), e);
        }
        in.setHeader("Authorization", "Bearer " + token);
        in.setHeader("Idempotency-Key", d.idempotencyKey());
        in.setHeader("X-Erphub-Tenant", d.tenant());
        in.setHeader("X-Erphub-Upstream", d.upstream());
        in.setHeader("X-Erphub-Remote-Id", d.file().key().remoteId());
        in.setHeader("X-Erphub-Version", d.file().key().version());
        in.setHeader("X-Erphub-File-Name", URLEncoder.encode(d.file().fileName(), StandardCharsets.UTF_8));
        String sha256 = d.file().checksum();
        if (sha256 != null) {
            in.setHeader("X-Erphub-Checksum", "sha256:" + sha256);
            // RFC 9530: the digest of the representation, so the ERP can verify what it received.
            in.setHeader("Repr-Digest", "sha-256=:" + Base64.getEncoder().encodeToString(HexFormat.of().parseHex(sha256)) + ":");
        }
        long size = d.file().sizeBytes() == null ? -1 : d.file().sizeBytes();
        in.setBody(new InputStreamEntity(bytes, size, ContentType.APPLICATION_OCTET_STREAM));
        exchange.setProperty("erphubDeliveryDetail", spec.erpApiMethod() + " " + url);
    }

    private void classify(Exchange exchange) {
        int status = HttpTargets.status(exchange);
        String call = exchange.getProperty("erphubDeliveryDetail", String.class);
        Duration retryAfter = HttpTargets.retryAfter(exchange.getIn().getHeader("Retry-After"));
        HttpTargets.discardBody(exchange);
        if ((status >= 200 && status < 300) || status == 409) {
            exchange.setProperty("erphubDeliveryDetail", call + " answered " + status
                    + (status == 409 ? " (already received under this idempotency key)" : ""));
            return;
        }
        if (status == 401) {
            throw new DeliveryRefusedException(call + " answered 401 with a fresh token: the ERP does not accept the"
                    + " tenant's credential", null);
        }
        if (status == 408 || status == 429 || status >= 500) {
            throw new DeliveryFailedException(call + " answered " + status
                    + (retryAfter == null ? "" : " (Retry-After " + retryAfter.toSeconds() + "s)"), retryAfter, null);
        }
        throw new DeliveryRefusedException(call + " answered " + status, null);
    }

    private Credential credential(Delivery d) {
        return tenants.erpCredential(d.tenant())
                .orElseThrow(() -> new DeliveryRefusedException("tenant " + d.tenant() + " has no resolvable ERP API"
                        + " credential (see the tenant registry)", null));
    }

    private TokenKey tokenKey(Credential credential) {
        return new TokenKey(config.tokenUrl(), credential.clientId(), config.scope().orElse(""), config.audience().orElse(""));
    }
}
