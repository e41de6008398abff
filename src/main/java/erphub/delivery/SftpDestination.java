package erphub.delivery;

import java.io.InputStream;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Named;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.InvalidPayloadException;
import org.apache.camel.Processor;

import erphub.config.ErphubConfig;
import erphub.crypto.PgpEncryption;
import erphub.routing.Failures;
import erphub.tenant.CredentialStore;
import erphub.tenant.PgpKeys;
import erphub.tenant.TenantDirectory;
import erphub.upstream.UpstreamSpec;
import erphub.upstream.UpstreamSpecs;

/**
 * The consuming products' SFTP drop server (route {@code erphub-send-sftp}, Camel's sftp component): which
 * server (the tenant's own from the registry, or the shared one) with which login, the folder and file name,
 * and what a failed upload means. Secrets never go into an endpoint URI, where Camel's endpoint registry and
 * Hawtio would show them: the URI names a bean ({@code #bean:...}) that holds the password or passphrase.
 */
@ApplicationScoped
public class SftpDestination implements Destination {

    public static final String NAME = "sftp";

    /** The exchange property with the tenant's {@link PgpEncryption}, null when its files go out as they are. */
    static final String PGP = "erphubSftpPgp";

    private final ErphubConfig.Sftp sftp;
    private final TenantDirectory tenants;
    private final CredentialStore credentials;
    private final UpstreamSpecs specs;
    private final CamelContext camel;
    private final PgpKeys pgpKeys;
    /** The secret values bound in Camel's registry, by bean name. */
    private final Map<String, String> boundSecrets = new ConcurrentHashMap<>();

    /** One SFTP server and its login: the user, bean names of its secrets (never the values), a key file. */
    record Server(String address, String username, String passwordBean, String keyFile, String passphraseBean,
            String missingLogin) {
    }

    public SftpDestination(ErphubConfig config, TenantDirectory tenants, CredentialStore credentials,
            UpstreamSpecs specs, CamelContext camel, PgpKeys pgpKeys) {
        this.sftp = config.destinations().sftp();
        this.tenants = tenants;
        this.credentials = credentials;
        this.specs = specs;
        this.camel = camel;
        this.pgpKeys = pgpKeys;
        SshKeyExchanges.probeOnlyWhatIsOffered();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ErphubConfig.Redelivery settings() {
        return sftp;
    }

    @Produces
    @Named("sftpTarget")
    Processor target() {
        return this::target;
    }

    @Produces
    @Named("sftpEncrypt")
    Processor encrypt() {
        return SftpDestination::encrypt;
    }

    @Produces
    @Named("sftpFailed")
    Processor failed() {
        return SftpDestination::failed;
    }

    private void target(Exchange exchange) {
        Delivery d = exchange.getProperty(FileDelivery.DELIVERY, Delivery.class);
        UpstreamSpec spec = specs.forUpstream(d.upstream())
                .orElseThrow(() -> new DeliveryRefusedException("upstream " + d.upstream() + " has no route", null));
        target(exchange, d.tenant(), spec.sftpFolderOf(tenants.sftpFolder(d.tenant())) + "/" + d.file().fileName());
        exchange.setProperty(PGP, pgpOf(d.tenant()));
    }

    /**
     * Addresses route erphub-sftp-upload to {@code path} on the tenant's server (its own from the registry, or the
     * shared one, under the base folder), with its login by bean reference. Registrations' SFTP channel uses it too.
     */
    public void target(Exchange exchange, String tenant, String path) {
        Server server = serverOf(tenant);
        if (server.missingLogin() != null) {
            throw new DeliveryRefusedException("SFTP server " + server.address() + " has no login: neither "
                    + server.missingLogin(), null);
        }
        String base = sftp.baseFolder().equals(".") ? "" : sftp.baseFolder().replaceAll("^/+|/+$", "");
        exchange.getIn().setHeader(Exchange.FILE_NAME, path);
        exchange.setProperty("erphubSftpServer", server.address() + "/" + base);
        exchange.setProperty("erphubSftpUser", server.username());
        exchange.setProperty("erphubSftpPassword", server.passwordBean());
        exchange.setProperty("erphubSftpKeyFile", server.keyFile());
        exchange.setProperty("erphubSftpPassphrase", server.passphraseBean());
        exchange.setProperty("erphubDeliveryDetail", "uploaded to sftp://" + server.address() + "/"
                + (base.isEmpty() ? "" : base + "/") + path);
    }

    /** The OpenPGP key the tenant's registry entry names, or null; a key that is not usable refuses the delivery. */
    private PgpEncryption pgpOf(String tenant) {
        try {
            return tenants.tenant(tenant).flatMap(pgpKeys::forSftp).orElse(null);
        } catch (IllegalArgumentException e) {
            // Never plaintext where the tenant asked for ciphertext: dead (replayable once the key is fixed).
            throw new DeliveryRefusedException("tenant " + tenant + "'s OpenPGP key for SFTP deliveries "
                    + e.getMessage(), null);
        }
    }

    /**
     * ENCRYPT: the archived bytes become an OpenPGP message to the tenant's key as the upload reads them (no copy
     * in memory or on disk), delivered as {@code <name>.pgp}.
     */
    private static void encrypt(Exchange exchange) throws InvalidPayloadException {
        PgpEncryption pgp = exchange.getProperty(PGP, PgpEncryption.class);
        String path = exchange.getIn().getHeader(Exchange.FILE_NAME, String.class);
        String name = path.substring(path.lastIndexOf('/') + 1);
        String encrypted;
        try {
            encrypted = PgpEncryption.encryptedName(name);
        } catch (IllegalArgumentException e) {
            throw new DeliveryRefusedException("cannot encrypt " + name + ": " + e.getMessage(), null);
        }
        exchange.getIn().setBody(pgp.encrypt(exchange.getIn().getMandatoryBody(InputStream.class), name));
        exchange.getIn().setHeader(Exchange.FILE_NAME, path.substring(0, path.length() - name.length()) + encrypted);
        exchange.setProperty("erphubDeliveryDetail", exchange.getProperty("erphubDeliveryDetail", String.class)
                + ".pgp (OpenPGP, key " + pgp.fingerprint() + ")");
    }

    /** The tenant's own server from the registry (its login by credential reference), or the shared one. */
    private Server serverOf(String tenant) {
        return tenants.sftpServer(tenant).map(own -> server(own.host(), own.port(), own.username(), own.credential(),
                credentials.value(own.credential(), CredentialStore.PASSWORD),
                credentials.value(own.credential(), CredentialStore.PRIVATE_KEY_FILE),
                credentials.value(own.credential(), CredentialStore.PRIVATE_KEY_PASSPHRASE),
                "password nor private-key-file in " + credentials.describe(own.credential())))
                .orElseGet(() -> server(sftp.host(), sftp.port(), sftp.username(), "shared", sftp.password(),
                        sftp.privateKeyFile(), sftp.privateKeyPassphrase(),
                        "erphub.destinations.sftp.password nor erphub.destinations.sftp.private-key-file"));
    }

    private Server server(String host, int port, String username, String secretName, Optional<String> password,
            Optional<String> privateKeyFile, Optional<String> passphrase, String missing) {
        Optional<String> pass = password.filter(p -> !p.isEmpty());
        Optional<String> key = privateKeyFile.filter(k -> !k.isEmpty());
        boolean canLogIn = pass.isPresent() || key.isPresent();
        // An absent secret is an empty one: the endpoint names a bean either way.
        return new Server(host + ":" + port, username, secret(secretName, "password", pass.orElse("")), key.orElse(""),
                secret(secretName, "passphrase", passphrase.orElse("")), canLogIn ? null : missing);
    }

    /**
     * Binds the secret under a name the endpoint URI can refer to, again only when its value changed (rotation).
     * Camel's registry keeps such beans in a plain LinkedHashMap: a bind on every upload, from 16 upload workers,
     * raced the endpoints' look-ups (an upload failed with a ConcurrentModificationException in a CI run).
     */
    private String secret(String credential, String field, String value) {
        String name = "erphub-sftp-" + credential + "-" + field;
        if (!value.equals(boundSecrets.get(name))) {
            synchronized (boundSecrets) {
                if (!value.equals(boundSecrets.get(name))) {
                    camel.getRegistry().bind(name, String.class, value);
                    boundSecrets.put(name, value);
                }
            }
        }
        return name;
    }

    /** In the route's doCatch: a host key that is not the known one is refused for good; anything else is retried. */
    private static void failed(Exchange exchange) {
        Throwable caught = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        String server = exchange.getProperty("erphubSftpServer", String.class);
        String address = server == null ? "?" : server.substring(0, server.indexOf('/'));
        for (Throwable t = caught; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String message = String.valueOf(t.getMessage());
            boolean jsch = t.getClass().getName().startsWith("com.jcraft.jsch.");
            if (jsch && (t.getClass().getSimpleName().contains("HostKey") || message.contains("HostKey"))) {
                throw new DeliveryRefusedException("SFTP server " + address + " refused: its host key is not the one"
                        + " in known_hosts (" + message + ")", caught);
            }
        }
        throw new DeliveryFailedException("upload to SFTP server " + address + " failed: " + rootMessage(caught), null,
                caught);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t == e ? Failures.describe(e) : Failures.describe(e) + " (" + t + ")";
    }
}
