package erphub.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.quarkus.runtime.configuration.MemorySize;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithParentName;

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

    /** The circuit breaker of every upstream (one per upstream, shared by its list and its downloads). */
    CircuitBreaker circuitBreaker();

    interface CircuitBreaker {
        /** Consecutive transient failures of an upstream that open its circuit. */
        @WithDefault("5")
        int failureThreshold();

        /** How long an open circuit refuses calls before one probe call decides. */
        @WithDefault("PT30S")
        Duration coolDown();
    }

    Tokens tokens();

    Delivery delivery();

    Destinations destinations();

    Events events();

    Registrations registrations();

    /** Consumers' registrations for events (erphub.registration): batching, webhook delivery, what they may call. */
    interface Registrations {
        /** Milliseconds between two looks for batches to close and batches to send. */
        @WithDefault("1000")
        long batchInterval();

        /** Batches sent at once by this node (each to its own registration; one at a time per registration). */
        @WithDefault("8")
        int concurrency();

        /** Tries of a batch before it is DEAD (replayable through the API). */
        @WithDefault("10")
        int maxTries();

        /** Wait after the first failed try, doubling with each try up to the maximum (or the receiver's Retry-After). */
        @WithDefault("PT2S")
        Duration retryDelay();

        @WithDefault("PT10M")
        Duration maxRetryDelay();

        /** How long a node's claim on a batch it is sending lasts; a batch whose node died is sent again after it. */
        @WithDefault("PT60S")
        Duration lease();

        /** How old this node's copy of the registrations may be when it matches an event (changes on other nodes). */
        @WithDefault("PT5S")
        Duration refresh();

        /** How long a rotated-out secret keeps signing unless the rotation says otherwise. */
        @WithDefault("PT24H")
        Duration secretOverlap();

        /** Webhooks over plain http (not https): for a receiver inside the cluster, and tests. */
        @WithDefault("false")
        boolean allowHttp();

        /** Webhook hosts resolving to loopback, link-local, private or reserved addresses: same. */
        @WithDefault("false")
        boolean allowPrivateAddresses();

        /**
         * Kafka channels write only to topics under this prefix, a tenant's under {@code <prefix><tenant>.}, so no
         * registration can write to erphub's own topics or another tenant's.
         */
        @WithDefault("registrations.")
        String kafkaTopicPrefix();

        /** A registration's SFTP manifests go under this folder of the tenant's SFTP folder unless it names one. */
        @WithDefault("registrations")
        String sftpFolder();
    }

    /** The simulated upstream, token issuer, ERP API and SFTP server of the embedded default (never in prod). */
    Sandbox sandbox();

    Metrics metrics();

    /** The Hawtio console of the embedded default, connected to this process's Jolokia agent. */
    Console console();

    /** Limits of what a client may send to erphub's HTTP port, answered with a problem, not an empty page. */
    Server server();

    /** Who may call the Jolokia agents (erphub's and the console's). */
    Jolokia jolokia();

    /** Readiness checks of the distributed parts the prod profile runs on (Kafka, the S3 archive). */
    Readiness readiness();

    interface Server {
        /** Longest request target (path and query) accepted; longer ones are 414. */
        @WithDefault("4096")
        int maxUriLength();

        /** Largest sum of request header lines accepted; more is 431. */
        @WithDefault("20480")
        int maxHeaderSize();
    }

    interface Jolokia {
        /** erphub starts its Jolokia agent (after checking where it listens); false leaves it off. */
        @WithDefault("true")
        boolean enabled();

        /**
         * Browser origins allowed to call Jolokia (scheme://host:port, exactly). Requests from any other page, and requests
         * with neither Origin nor Referer, are refused before they run. The embedded console's own origins by default.
         */
        List<String> allowedOrigins();
    }

    interface Readiness {
        /** How often Kafka and S3 are probed in the background (readiness reads the last answer). */
        @WithDefault("PT5S")
        Duration probeInterval();

        /** A probe without an answer within this is DOWN. */
        @WithDefault("PT3S")
        Duration probeTimeout();
    }

    interface Console {
        /** On in the packaged embedded default ({@code %embedded}); off in tests and prod (Hawtio Online there). */
        @WithDefault("false")
        boolean enabled();

        /** Interface the console listens on: loopback only, since the embedded console has no login. */
        @WithDefault("127.0.0.1")
        String host();

        /** Port of the console; it serves {@code /hawtio}. */
        @WithDefault("8090")
        int port();
    }

    interface Metrics {
        /** How often the dead-letter gauge is read from the ledger (a Quarkus scheduler period). */
        @WithDefault("30s")
        String deadLettersRefresh();
    }

    /** Per-upstream endpoints that upstream route files reference as {@code {{erphub.upstreams.<id>.base-url}}}. */
    Map<String, UpstreamEndpoint> upstreams();

    /** The tenant registry: a YAML file, validated as a whole, re-read when it changes (see TenantRegistry). */
    Tenants tenants();

    /**
     * Credentials by reference: the registry names them, configuration holds them
     * ({@code erphub.credentials.<ref>.client-secret}, i.e. {@code ERPHUB_CREDENTIALS_<REF>_CLIENT_SECRET}), or
     * files {@code <ref>/<field>} in {@link Credentials#dir()}, a mounted Kubernetes Secret.
     */
    Credentials credentials();

    interface Routes {
        /** Folder of operator routes ({@code *.yaml}), loaded at start next to the built-in ones. */
        @WithDefault("config/routes")
        Path dir();
    }

    interface State {
        /**
         * How long a claim keeps other instances off a file before it may be resumed: how long another replica
         * waits for a dead one's work (a restarted process with the same node id takes its own back at once).
         */
        @WithDefault("PT60S")
        Duration claimLease();

        /** Milliseconds between renewals of this node's claims; at most a third of the lease (checked at start). */
        @WithDefault("20000")
        long claimHeartbeat();

        /**
         * How long the ledger keeps a settled file (DELIVERED, REJECTED) that its upstream no longer lists: older
         * than this and not listed for this long, its rows are pruned. A pruned version listed again is a new file.
         */
        @WithDefault("P30D")
        Duration retention();

        /** How long a file with dead deliveries (DEAD_LETTERED, PARTIALLY_DELIVERED) waits for a replay before pruning. */
        @WithDefault("P90D")
        Duration deadLetterRetention();

        /** Milliseconds between two pruning passes (route erphub-ledger-retention). */
        @WithDefault("3600000")
        long retentionInterval();

        /** Files pruned per transaction; a pass prunes at most 20 batches. */
        @WithDefault("500")
        int retentionBatch();
    }

    interface Intake {
        /** Where the poll routes hand claimed files to the intake route ({@code seda:} in one process, {@code kafka:} across replicas). */
        String handoffUri();

        /**
         * The intake route's consumer: this process's tenant-fair queue, in every profile (each tenant served in turn,
         * at most its {@code maxConcurrentDownloads} at once).
         */
        String consumerUri();

        /** The producer side of that queue: where the hand-off (one process) or the relay (replicas) puts files. */
        String queueUri();

        /**
         * Across replicas, the consumer of the Kafka hand-off that relays files into this replica's queue (a consumer
         * group; the records are keyed by tenant, so a tenant's files reach one replica at a time). In one process an
         * endpoint nothing sends to.
         */
        String relayUri();

        /** Redeliveries of a download after a transient failure (timeouts, 5xx, 429) before the file is dead-lettered. */
        @WithDefault("8")
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

        /**
         * Tenants an upstream's poll lists at once: a far upstream's round trips for 200 tenants overlap instead of
         * adding up (a thread each, from a pool shared by all upstreams). 1 lists one tenant after the other.
         */
        @WithDefault("8")
        int listingConcurrency();

        /**
         * Tenants listed at once on this node across all upstreams (each poll at most {@link #listingConcurrency()}):
         * polls wait in turn for a slot, so 60 upstreams polling at once use this many listing threads, not 60 times
         * {@code listing-concurrency}.
         */
        @WithDefault("32")
        int nodeListingConcurrency();

        /** Capacity of the in-process hand-off queue (embedded default); a full queue holds the poll back. */
        @WithDefault("10000")
        int queueSize();
    }

    interface Archive {
        /** Camel endpoint the raw bytes are written to: a local folder in the embedded default, S3 in prod. */
        String uri();

        /** Camel endpoint the archived bytes are read from (deliveries, replays): aws2-s3 getObject, or the local folder's bean. */
        String readUri();

        /**
         * Server-side encryption of archived S3 objects: {@code none} (the bucket's default applies),
         * {@code sse-s3} (S3-managed keys, AES256) or {@code sse-kms} (the KMS key {@link #kmsKeyId()}).
         */
        @WithDefault("none")
        String encryption();

        /** The KMS key of {@code sse-kms}: key id, key ARN, alias ({@code alias/aws/s3} for the AWS-managed key) or alias ARN. */
        Optional<String> kmsKeyId();

        /** The spool of small files just archived, which their destinations read instead of the archive. */
        Spool spool();

        interface Spool {
            /**
             * Bytes this node keeps of files it has just archived and not yet delivered everywhere (least recently
             * used go first); 0 turns the spool off and every delivery reads the archive.
             */
            MemorySize maxBytes();

            /** Files up to this size are spooled; larger ones are always streamed from the archive. */
            @WithDefault("1M")
            MemorySize maxFileSize();

            /** How long a spooled file is kept at most (a delivery still retrying after that reads the archive). */
            @WithDefault("PT5M")
            Duration ttl();
        }
    }

    interface Http {
        /** Milliseconds to establish a connection to an upstream or the ERP API (Camel HTTP's connectTimeout). */
        @WithDefault("5000")
        long connectTimeout();

        /** Longest silence on a socket while reading a list or a file, in milliseconds (soTimeout, responseTimeout). */
        @WithDefault("30000")
        long readTimeout();

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

        /** Destinations of the upstream's files when its route file reads them from here ("none": archive only). */
        Optional<String> destinations();
    }

    interface Tenants {
        /** The registry file (a mounted ConfigMap in Kubernetes). */
        @WithDefault("config/tenants.yaml")
        Path registryFile();

        /** Milliseconds between checks of the registry file for changes. */
        @WithDefault("5000")
        long reloadInterval();

        /** Limits of a tenant that does not set its own. */
        Limits defaults();
    }

    interface Limits {
        /** Files of one tenant downloaded at the same time, out of the shared intake workers. */
        @WithDefault("4")
        int maxConcurrentDownloads();

        /** Largest file of the tenant, in bytes (an upstream's own maxFileSize still applies when lower). */
        @WithDefault("2147483648")
        long maxFileSize();

        /** Deliveries of the tenant started per second, over all destinations. */
        @WithDefault("100")
        int maxDeliveriesPerSecond();
    }

    interface Credentials {
        /** Folder of mounted secrets: {@code <dir>/<ref>/client-secret} and so on. Read when a credential is used. */
        Optional<Path> dir();

        /**
         * {@code erphub.credentials.<ref>.<field>} as configured in files or system properties. erphub looks each
         * one up by its full name (CredentialStore), which also finds environment variables; this map is
         * declared so that such keys are known configuration, not typos.
         */
        @WithParentName
        Map<String, Map<String, String>> byReference();
    }

    interface Delivery {
        /** Milliseconds between sweeps for deliveries whose worker went away (a stopped or crashed node). */
        @WithDefault("30000")
        long sweepInterval();

        /** Deliveries taken over per sweep. */
        @WithDefault("500")
        int sweepBatch();

        /** Replayed deliveries re-queued per second. */
        @WithDefault("50")
        int replayRate();

        /** Most dead deliveries one replay by filter takes. */
        @WithDefault("10000")
        int replayCap();

        /** Where dead deliveries are also published (e.g. a Kafka dead-letter topic); none when empty. */
        Optional<String> deadLetterUri();

        /** Capacity of each destination's in-process queue. */
        @WithDefault("100000")
        int queueSize();
    }

    /** Redelivery and workers of one destination: each has its own, so one cannot hold up another. */
    interface Redelivery {
        /** Parallel deliveries to this destination on this node. */
        @WithDefault("4")
        int concurrency();

        @WithDefault("8")
        int maxRedeliveries();

        /** First redelivery delay in milliseconds; doubled each attempt, with jitter. */
        @WithDefault("1000")
        long redeliveryDelay();

        @WithDefault("300000")
        long maxRedeliveryDelay();
    }

    interface Destinations {
        ErpApi erpApi();

        Sftp sftp();

        Kafka kafka();
    }

    /** The cloud ERP's file import API. */
    interface ErpApi extends Redelivery {
        /** Base URL of the API; a tenant may have its own (destinations.erpApi.baseUrl in the registry). */
        String baseUrl();

        /** OAuth2 token endpoint of the ERP (client credentials). */
        String tokenUrl();

        /** Scope asked for the ERP's tokens. */
        Optional<String> scope();

        Optional<String> audience();

        /** Retry-After from the ERP is honoured up to this much. */
        @WithDefault("PT60S")
        Duration retryAfterCap();
    }

    /** The consuming products' SFTP drop server. */
    interface Sftp extends Redelivery {
        String host();

        @WithDefault("22")
        int port();

        String username();

        /** Password authentication; or privateKeyFile. Never in a file in git. */
        Optional<String> password();

        /** Private key authentication (OpenSSH format). */
        Optional<String> privateKeyFile();

        Optional<String> privateKeyPassphrase();

        /** known_hosts holding the server's host key; a server presenting another key is refused. */
        String knownHostsFile();

        /** Folder on the server under which the tenants' folders are. */
        @WithDefault(".")
        String baseFolder();

        /** Milliseconds to connect to the SFTP server. */
        @WithDefault("10000")
        long connectTimeout();

        /** Milliseconds of silence on the connection before an upload is abandoned (a hung server must not hang a route). */
        @WithDefault("30000")
        long readTimeout();

        /** Milliseconds between keep-alive messages on an idle pooled connection. */
        @WithDefault("10000")
        long serverAliveInterval();
    }

    /** One record per delivered file, carrying its metadata and archive location (a claim check). */
    interface Kafka extends Redelivery {
        /** Camel endpoint of the records: a Kafka topic in prod, the in-process event bus in the embedded default. */
        String uri();
    }

    interface Events {
        /** Camel endpoint of the lifecycle events: a Kafka topic in prod, the in-process event bus here. */
        String uri();

        /** How long the live stream (/api/events/stream) keeps events for clients that reconnect. */
        @WithDefault("PT24H")
        Duration streamRetention();

        /** How often an open stream looks for new events. */
        @WithDefault("PT0.5S")
        Duration streamPoll();

        /**
         * How old an event must be before a stream sends it: events commit in parallel, and one that commits after a
         * later one would otherwise be passed over for good.
         */
        @WithDefault("PT1S")
        Duration streamSettle();

        /**
         * How often the recovery sweep looks for files that reached an end state without their event (a node killed
         * between the ledger's commit and the event's), in milliseconds.
         */
        @WithDefault("60000")
        long recoveryInterval();

        /** How long after its end state a file without its event is taken as missed (the event path takes ms). */
        @WithDefault("PT1M")
        Duration recoveryAfter();

        /** How far back the sweep looks; at most half the stream's retention (an event pruned is not a missed one). */
        @WithDefault("PT1H")
        Duration recoveryWithin();
    }

    interface Sandbox {
        /** On only in the packaged embedded default ({@code %embedded}); off in tests and prod. */
        @WithDefault("false")
        boolean enabled();

        /** Demo tenants the simulated upstreams produce files for. */
        @WithDefault("acme,globex,initech")
        List<String> tenants();

        /** Port of the sandbox SFTP drop server on localhost. */
        @WithDefault("2222")
        int sftpPort();

        /** Milliseconds between two new sample files (one tenant, one upstream, in turn). */
        @WithDefault("4000")
        long fileInterval();

        /** Sample files the sandbox starts with per tenant and upstream, so the first poll has work. */
        @WithDefault("2")
        int initialFiles();

        /** Milliseconds between progress lines on the console. */
        @WithDefault("10000")
        long progressInterval();
    }
}
