package erphub.delivery;

import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import org.apache.camel.Exchange;
import org.apache.camel.Producer;
import org.apache.camel.support.service.ServiceHelper;

import erphub.config.ErphubConfig;
import erphub.pipeline.Endpoints;
import erphub.pipeline.Archive;
import erphub.pipeline.UpstreamSpec;
import erphub.pipeline.UpstreamSpecs;
import erphub.tenant.CredentialStore;
import erphub.tenant.TenantDirectory;

/**
 * The consuming products' SFTP drop server, through Camel's sftp component: each file is written under a
 * temporary name ({@code .part-<name>}) and renamed when complete, so a consumer never sees half a file.
 * The server's host key must be in the configured known_hosts (strict checking: an unknown or changed key
 * is refused). The connection stays open between files; connect and read timeouts keep a hung server
 * from hanging the route.
 */
@ApplicationScoped
public class SftpDestination implements Destination {

    public static final String NAME = "sftp";

    private final Endpoints endpoints;
    private final TenantDirectory tenants;
    private final CredentialStore credentials;
    private final UpstreamSpecs specs;
    private final Archive archive;
    private final ErphubConfig.Sftp sftp;
    private final Server shared;
    /** Open connections not in use, per server (endpoint URI). */
    private final Map<String, BlockingQueue<Producer>> idle = new ConcurrentHashMap<>();

    /** One SFTP server: its address for messages, and the Camel endpoint that logs in to it. */
    private record Server(String address, String uri, String missingLogin) {
        @Override
        public String toString() {
            return address; // the URI holds the password
        }
    }

    public SftpDestination(TenantDirectory tenants, CredentialStore credentials, UpstreamSpecs specs, Archive archive,
            ErphubConfig config, Endpoints endpoints) {
        this.endpoints = endpoints;
        this.tenants = tenants;
        this.credentials = credentials;
        this.specs = specs;
        this.archive = archive;
        this.sftp = config.destinations().sftp();
        this.shared = server(sftp.host(), sftp.port(), sftp.username(), sftp.password(), sftp.privateKeyFile(),
                sftp.privateKeyPassphrase(), "erphub.destinations.sftp.password nor erphub.destinations.sftp.private-key-file");
    }

    /** The tenant's own server from the registry (its login by credential reference), or the shared one. */
    private Server serverOf(String tenant) {
        return tenants.sftpServer(tenant).map(own -> server(own.host(), own.port(), own.username(),
                credentials.value(own.credential(), CredentialStore.PASSWORD),
                credentials.value(own.credential(), CredentialStore.PRIVATE_KEY_FILE),
                credentials.value(own.credential(), CredentialStore.PRIVATE_KEY_PASSPHRASE),
                "password nor private-key-file in " + credentials.describe(own.credential()))).orElse(shared);
    }

    private Server server(String host, int port, String username, Optional<String> password,
            Optional<String> privateKeyFile, Optional<String> passphrase, String missing) {
        String base = sftp.baseFolder().equals(".") ? "" : sftp.baseFolder().replaceAll("^/+|/+$", "");
        StringBuilder uri = new StringBuilder("sftp://").append(host).append(':').append(port)
                .append('/').append(base)
                .append("?username=").append(URLEncoder.encode(username, StandardCharsets.UTF_8))
                .append("&knownHostsFile=").append(URLEncoder.encode(sftp.knownHostsFile(), StandardCharsets.UTF_8))
                .append("&strictHostKeyChecking=yes&useUserKnownHostsFile=false")
                .append("&connectTimeout=").append(sftp.connectTimeout().toMillis())
                .append("&soTimeout=").append(sftp.readTimeout().toMillis())
                .append("&timeout=").append(sftp.readTimeout().toMillis())
                .append("&serverAliveInterval=").append(Math.max(1000, sftp.readTimeout().toMillis() / 3))
                .append("&tempPrefix=.part-&fileExist=Override&autoCreate=true&binary=true&disconnect=false")
                // The destination route's redelivery policy owns retries, not the component's own reconnect loop.
                .append("&maximumReconnectAttempts=0&stepwise=false")
                // Checks the one target file instead of listing its whole folder before each upload.
                .append("&fastExistsCheck=true")
                .append("&jschLoggingLevel=WARN");
        password.ifPresent(p -> uri.append("&password=RAW(").append(p).append(')'));
        privateKeyFile.ifPresent(k -> uri.append("&privateKeyFile=").append(URLEncoder.encode(k, StandardCharsets.UTF_8)));
        passphrase.ifPresent(p -> uri.append("&privateKeyPassphrase=RAW(").append(p).append(')'));
        boolean canLogIn = password.isPresent() || privateKeyFile.isPresent();
        return new Server(host + ":" + port, uri.toString(), canLogIn ? null : missing);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String deliver(Delivery d) throws Exception {
        UpstreamSpec spec = specs.forUpstream(d.upstream())
                .orElseThrow(() -> new DeliveryRefusedException("upstream " + d.upstream() + " has no route", null));
        Server server = serverOf(d.tenant());
        if (server.missingLogin() != null) {
            throw new DeliveryRefusedException("SFTP server " + server.address() + " has no login: neither "
                    + server.missingLogin(), null);
        }
        String path = spec.sftpFolderOf(d.tenant(), tenants.sftpFolder(d.tenant())) + "/" + d.file().fileName();
        BlockingQueue<Producer> pool = idle.computeIfAbsent(server.uri(), u -> new LinkedBlockingQueue<>());
        Producer connection = acquire(server, pool);
        try (InputStream body = archive.open(d.file().archiveKey())) {
            Exchange upload = connection.getEndpoint().createExchange();
            upload.getIn().setBody(body);
            upload.getIn().setHeader(Exchange.FILE_NAME, path);
            connection.process(upload);
            if (upload.getException() != null) {
                throw failure(server, upload.getException());
            }
        } finally {
            pool.offer(connection);
        }
        return "uploaded to sftp://" + server.address() + "/" + path;
    }

    /**
     * An open connection for one upload. Each Camel sftp producer holds one SSH session and serialises its
     * uploads, and ProducerTemplate did not keep it: every file paid a new SSH handshake (JFR: over half the
     * CPU of the fan-out test). So erphub keeps its own producers, one per concurrent upload, for reuse.
     */
    private Producer acquire(Server server, BlockingQueue<Producer> pool) throws Exception {
        Producer connection = pool.poll();
        if (connection == null) {
            connection = endpoints.resolve(server.uri()).createProducer();
            connection.start();
        }
        return connection;
    }

    @PreDestroy
    void close() {
        idle.values().forEach(pool -> {
            for (Producer connection; (connection = pool.poll()) != null;) {
                ServiceHelper.stopAndShutdownService(connection);
            }
        });
    }

    /** A host key that is not the known one is refused for good (until an operator fixes known_hosts and replays). */
    private static RuntimeException failure(Server server, Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String message = String.valueOf(t.getMessage());
            boolean jsch = t.getClass().getName().startsWith("com.jcraft.jsch.");
            if (jsch && (t.getClass().getSimpleName().contains("HostKey") || message.contains("HostKey"))) {
                return new DeliveryRefusedException("SFTP server " + server.address() + " refused: its host key is not the one"
                        + " in known_hosts (" + message + ")", e);
            }
        }
        return new DeliveryFailedException("upload to SFTP server " + server.address() + " failed: " + rootMessage(e), null, e);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + t + ")";
    }
}
