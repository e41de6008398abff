package erphub.token;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.jboss.logging.Logger;

import erphub.config.ErphubConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.oidc.client.OidcClient;
import io.quarkus.oidc.client.OidcClientConfigBuilder;
import io.quarkus.oidc.client.OidcClients;
import io.quarkus.oidc.client.Tokens;
import io.quarkus.oidc.client.runtime.OidcClientConfig.Grant;

/**
 * OAuth2 client-credentials tokens, cached per {@link TokenKey} and refreshed before they expire.
 * Concurrent callers for one key share one in-flight token request. The HTTP exchange with the token
 * endpoint is the Quarkus OIDC client's (one dynamic client per key); caching, single flight, retries
 * and invalidation after a 401 are here, because the OIDC client's own token management is built for
 * statically configured clients, not for thousands of (tenant, upstream) clients created at run time.
 */
@ApplicationScoped
@Named("tokenCache")
public class TokenCache {

    private static final Logger LOG = Logger.getLogger(TokenCache.class);

    private final OidcClients oidcClients;
    private final ErphubConfig.Tokens config;
    private final Clock clock = Clock.systemUTC();
    private final Map<TokenKey, CachedToken> tokens = new ConcurrentHashMap<>();
    private final Map<TokenKey, CompletableFuture<CachedToken>> inFlight = new ConcurrentHashMap<>();
    private final Map<TokenKey, OidcClient> clients = new ConcurrentHashMap<>();
    private final Map<String, TokenEndpointStatus> endpoints = new ConcurrentHashMap<>();
    private final Counter requests;
    private final Counter failures;
    private final Counter hits;

    record CachedToken(String accessToken, Instant refreshAt) {
    }

    /** The last outcome of a token endpoint, for health. */
    public record TokenEndpointStatus(String tokenUrl, boolean up, Instant at, String lastError) {
    }

    public TokenCache(OidcClients oidcClients, ErphubConfig config, MeterRegistry meters) {
        this.oidcClients = oidcClients;
        this.config = config.tokens();
        this.requests = Counter.builder("erphub.token.requests").description("Token endpoint requests")
                .tag("outcome", "issued").register(meters);
        this.failures = Counter.builder("erphub.token.requests").description("Token endpoint requests")
                .tag("outcome", "failed").register(meters);
        this.hits = Counter.builder("erphub.token.cache.hits").description("Tokens served from the cache")
                .register(meters);
    }

    /** A valid access token for the key, from the cache when it is not about to expire. */
    public String accessToken(TokenKey key, String clientSecret) {
        CachedToken cached = tokens.get(key);
        if (cached != null && clock.instant().isBefore(cached.refreshAt())) {
            hits.increment();
            return cached.accessToken();
        }
        CompletableFuture<CachedToken> mine = new CompletableFuture<>();
        CompletableFuture<CachedToken> running = inFlight.putIfAbsent(key, mine);
        if (running != null) {
            return await(key, running).accessToken();
        }
        try {
            // Another caller may have finished a request between our cache look-up and our putIfAbsent.
            CachedToken fresh = tokens.get(key);
            if (fresh == null || !clock.instant().isBefore(fresh.refreshAt())) {
                fresh = fetchWithRetries(key, clientSecret);
                tokens.put(key, fresh);
            }
            mine.complete(fresh);
            return fresh.accessToken();
        } catch (RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            inFlight.remove(key, mine);
        }
    }

    /** Drops the token after the upstream refused it (401), unless a newer one has replaced it already. */
    public void invalidate(TokenKey key, String refusedToken) {
        tokens.computeIfPresent(key, (k, cached) -> cached.accessToken().equals(refusedToken) ? null : cached);
    }

    public List<TokenEndpointStatus> endpointStatus() {
        return List.copyOf(endpoints.values());
    }

    public Optional<TokenEndpointStatus> endpointStatus(String tokenUrl) {
        return Optional.ofNullable(endpoints.get(tokenUrl));
    }

    private CachedToken fetchWithRetries(TokenKey key, String clientSecret) {
        TokenEndpointStatus known = endpoints.get(key.tokenUrl());
        boolean wasUp = known == null || known.up();
        int retries = config.maxAttempts() - 1;
        Duration backoff = config.retryBackoff();
        // Each attempt bounded by the request timeout; retries with Mutiny's exponential backoff and jitter.
        Duration longest = config.requestTimeout().multipliedBy(config.maxAttempts())
                .plus(backoff.multipliedBy(1L << Math.min(retries, 20)).multipliedBy(2));
        try {
            Tokens issued = client(key, clientSecret).getTokens()
                    .ifNoItem().after(config.requestTimeout()).fail()
                    .onFailure().invoke(e -> {
                        failures.increment();
                        endpoints.put(key.tokenUrl(),
                                new TokenEndpointStatus(key.tokenUrl(), false, clock.instant(), describe(e)));
                        LOG.debugf("Token request for %s failed: %s", key, describe(e));
                    })
                    .onFailure().retry().withBackOff(backoff, backoff.multipliedBy(1L << Math.min(retries, 20)))
                    .atMost(retries)
                    .await().atMost(longest);
            requests.increment();
            endpoints.put(key.tokenUrl(), new TokenEndpointStatus(key.tokenUrl(), true, clock.instant(), null));
            return new CachedToken(issued.getAccessToken(), refreshAt(issued));
        } catch (RuntimeException e) {
            // Warn when an endpoint starts failing, not at every poll while it stays down.
            if (wasUp) {
                LOG.warnf("Token endpoint failing: %d attempts for %s, last: %s", config.maxAttempts(), key, describe(e));
            }
            throw new TokenUnavailableException("no token for " + key + " after " + config.maxAttempts()
                    + " attempts: " + describe(e), e);
        }
    }

    private Instant refreshAt(Tokens issued) {
        Long expiresAt = issued.getAccessTokenExpiresAt();
        if (expiresAt == null) {
            // No expires_in: use it once and ask again next time rather than guess a lifetime.
            return clock.instant();
        }
        return Instant.ofEpochSecond(expiresAt).minus(config.refreshSkew());
    }

    private OidcClient client(TokenKey key, String clientSecret) {
        return clients.computeIfAbsent(key, k -> {
            URI tokenUri = URI.create(k.tokenUrl());
            OidcClientConfigBuilder builder = new OidcClientConfigBuilder()
                    .id("erphub-" + Integer.toHexString(k.hashCode()))
                    .authServerUrl(tokenUri.getScheme() + "://" + tokenUri.getRawAuthority())
                    .tokenPath(k.tokenUrl())
                    .discoveryEnabled(false)
                    .clientId(k.clientId())
                    .credentials(clientSecret)
                    .grant(Grant.Type.CLIENT)
                    .connectionTimeout(config.requestTimeout());
            if (!k.scope().isEmpty()) {
                builder.scopes(k.scope().split(" "));
            }
            if (!k.audience().isEmpty()) {
                builder.audience(k.audience());
            }
            return oidcClients.newClient(builder.build()).await().atMost(config.requestTimeout());
        });
    }

    private CachedToken await(TokenKey key, CompletableFuture<CachedToken> running) {
        try {
            return running.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TokenUnavailableException("interrupted waiting for a token for " + key, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new TokenUnavailableException("no token for " + key, e.getCause());
        }
    }

    private static String describe(Throwable e) {
        if (e == null) {
            return "unknown error";
        }
        // The OIDC client's exception often has an empty message; the reason is further down.
        Throwable t = e;
        while ((t.getMessage() == null || t.getMessage().isBlank()) && t.getCause() != null) {
            t = t.getCause();
        }
        String message = t.getMessage();
        return e.getClass().getSimpleName() + (message == null || message.isBlank() ? "" : ": " + message);
    }

    @PreDestroy
    void closeClients() {
        clients.values().forEach(c -> {
            try {
                c.close();
            } catch (Exception e) {
                LOG.debugf("closing OIDC client: %s", e);
            }
        });
    }
}
