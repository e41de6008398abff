package erphub.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** erphub's own settings, all under the {@code erphub.} prefix (see the README's configuration table). */
@ConfigMapping(prefix = "erphub")
public interface ErphubConfig {

    /** Identifies this instance in claims and ledger rows. */
    @WithDefault("erphub-local")
    String nodeId();

    /** Where the embedded default keeps its state database and archive. */
    @WithDefault("data")
    Path dataDir();

    Routes routes();

    State state();

    Intake intake();

    Archive archive();

    Http http();

    Tokens tokens();

    /** Per-upstream endpoints that upstream route files reference as {@code {{erphub.upstreams.<id>.base-url}}}. */
    Map<String, UpstreamEndpoint> upstreams();

    /** Tenants and their credentials per upstream (a simple list until the tenant registry replaces it). */
    Map<String, Tenant> tenants();

    interface Routes {
        /** Folder of operator routes ({@code *.yaml}), loaded at start next to the built-in ones. */
        @WithDefault("config/routes")
        Path dir();
    }

    interface State {
        /** How long a claim keeps other instances off a file before it may be resumed. */
        @WithDefault("PT10M")
        Duration claimLease();

        /** Milliseconds between renewals of this node's claims; well under the lease. */
        @WithDefault("60000")
        long claimHeartbeat();
    }

    interface Intake {
        /** Where the poll routes hand claimed files to the intake route ({@code seda:} in one process, {@code kafka:} across replicas). */
        String handoffUri();

        /** The intake route's consumer of the hand-off. */
        String consumerUri();

        /** Redeliveries of a download after a transient failure (timeouts, 5xx, 429) before the file is dead-lettered. */
        @WithDefault("5")
        int maxRedeliveries();

        /** First redelivery delay in milliseconds; doubled each attempt, with jitter. */
        @WithDefault("1000")
        long redeliveryDelay();

        /** Longest redelivery delay in milliseconds. */
        @WithDefault("60000")
        long maxRedeliveryDelay();

        /** An upstream's Retry-After is honoured up to this much. */
        @WithDefault("PT60S")
        Duration retryAfterCap();

        /** Largest file accepted when an upstream route does not set its own limit. */
        @WithDefault("2147483648")
        long maxFileSize();

        /** Largest list page accepted, in bytes: a list page is parsed in memory, a file never is. */
        @WithDefault("16777216")
        long maxListPageBytes();

        /** Stop following pages after this many in one poll (a paging loop is an upstream bug, not a reason to spin). */
        @WithDefault("100000")
        int maxPagesPerPoll();
    }

    interface Archive {
        /** Camel endpoint the raw bytes are written to: a local folder in the embedded default, S3 in prod. */
        String uri();
    }

    interface Http {
        @WithDefault("PT5S")
        Duration connectTimeout();

        /** Longest silence on a socket while reading a list or a file. */
        @WithDefault("PT30S")
        Duration readTimeout();

        @WithDefault("64")
        int maxConnections();
    }

    interface Tokens {
        /** Tokens are refreshed this long before they expire. */
        @WithDefault("PT30S")
        Duration refreshSkew();

        /** Attempts at the token endpoint before a poll or download fails. */
        @WithDefault("3")
        int maxAttempts();

        /** First pause between token endpoint attempts; doubled each time. */
        @WithDefault("PT0.5S")
        Duration retryBackoff();

        @WithDefault("PT10S")
        Duration requestTimeout();
    }

    interface UpstreamEndpoint {
        /** Base URL of the upstream's file API. */
        String baseUrl();

        /** Its OAuth2 token endpoint (client-credentials grant). */
        String tokenUrl();

        /** Milliseconds between polls, for upstream routes that poll on an interval. */
        Optional<Long> pollInterval();

        /** Quartz cron expression of the polls, for upstream routes that poll on a schedule. */
        Optional<String> pollCron();
    }

    interface Tenant {
        @WithDefault("true")
        boolean enabled();

        /** Upstream ids this tenant is subscribed to. */
        Optional<List<String>> upstreams();

        /** Credentials by the name an upstream route asks for. Secrets come from the environment, never from files in git. */
        Map<String, Credential> credentials();
    }

    interface Credential {
        String clientId();

        String clientSecret();
    }
}
