package erphub.tenant;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Named;
import jakarta.interceptor.Interceptor;

import org.apache.camel.quarkus.main.events.BeforeStart;
import org.jboss.logging.Logger;

import erphub.config.ErphubConfig;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The tenants, from the registry file ({@code erphub.tenants.registry-file}, a mounted ConfigMap in
 * Kubernetes). Read and validated as a whole before Camel starts: an invalid registry stops start-up with
 * every problem and its line. The file is checked for changes every {@code erphub.tenants.reload-interval}
 * (route {@code erphub-tenant-registry}); a changed registry is applied only if it is valid, otherwise the
 * running set stays and the rejection is logged and shown in health. The pipeline reads the current set on
 * every poll, so a tenant added, changed or disabled takes effect on the next cycle.
 */
// Camel finds the methods the routes call (bean/method steps) reflectively, also in the native executable.
@RegisterForReflection
@ApplicationScoped
@Named("tenantRegistry")
public class TenantRegistry {

    private static final Logger LOG = Logger.getLogger(TenantRegistry.class);

    /** The set in force and where it came from. */
    public record Snapshot(Map<String, TenantSettings> tenants, String digest, Instant loadedAt) {
    }

    /** A registry file that was read and not applied. */
    public record Rejection(String digest, Instant at, List<String> problems) {
    }

    private final ErphubConfig config;
    private final UpstreamCatalog specs;
    private final CredentialStore credentials;
    private final PgpKeys pgpKeys;
    private volatile Snapshot current = new Snapshot(Map.of(), "", Instant.EPOCH);
    private volatile Rejection rejection;

    public TenantRegistry(ErphubConfig config, UpstreamCatalog specs, CredentialStore credentials, PgpKeys pgpKeys) {
        this.config = config;
        this.specs = specs;
        this.credentials = credentials;
        this.pgpKeys = pgpKeys;
    }

    /** After the upstream routes are read (they say which upstreams exist), before any route polls. */
    void loadBeforeCamelStarts(@Observes @Priority(Interceptor.Priority.APPLICATION + 900) BeforeStart event) {
        Path file = config.tenants().registryFile();
        if (!Files.exists(file)) {
            LOG.warnf("No tenant registry at %s (erphub.tenants.registry-file): no tenant is served until it appears",
                    file.toAbsolutePath());
            return;
        }
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("Cannot read the tenant registry " + file.toAbsolutePath()
                    + " (erphub.tenants.registry-file): " + e, e);
        }
        RegistryReader.Result result = read(text);
        if (!result.valid()) {
            throw new IllegalStateException(describe(result.problems()));
        }
        apply(result, digest(text));
    }

    /** Called by the {@code erphub-tenant-registry} route: applies the file if it changed and is valid. */
    public void reloadIfChanged() {
        Path file = config.tenants().registryFile();
        if (!Files.exists(file) && current.digest().isEmpty()) {
            return; // still no registry: nothing to apply, nothing to reject
        }
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            String digest = "unreadable";
            if (rejection == null || !digest.equals(rejection.digest())) {
                rejection = new Rejection(digest, Instant.now(), List.of(file + ": cannot be read: " + e));
                LOG.errorf("Tenant registry %s cannot be read; the %d tenants in force stay: %s", file,
                        current.tenants().size(), e);
            }
            return;
        }
        String digest = digest(text);
        if (digest.equals(current.digest()) || rejection != null && digest.equals(rejection.digest())) {
            if (digest.equals(current.digest())) {
                rejection = null;
            }
            return;
        }
        RegistryReader.Result result = read(text);
        if (!result.valid()) {
            rejection = new Rejection(digest, Instant.now(), result.problems());
            LOG.errorf("Tenant registry %s changed but is not applied; the %d tenants in force stay. %s", file,
                    current.tenants().size(), describe(result.problems()));
            return;
        }
        apply(result, digest);
    }

    private RegistryReader.Result read(String text) {
        Map<String, RegistryReader.Upstream> upstreams = specs.declared().stream().collect(Collectors.toMap(
                UpstreamCatalog.Declared::upstreamId, s -> new RegistryReader.Upstream(s.credential(), s.destinations())));
        ErphubConfig.Limits d = config.tenants().defaults();
        return new RegistryReader(config.tenants().registryFile().toString(), upstreams, new RegistryReader.Credentials() {
            @Override
            public boolean hasClient(String ref) {
                return credentials.client(ref).isPresent();
            }

            @Override
            public boolean hasSftpLogin(String ref) {
                return credentials.value(ref, CredentialStore.PASSWORD).isPresent()
                        || credentials.value(ref, CredentialStore.PRIVATE_KEY_FILE).isPresent();
            }

            @Override
            public String describe(String ref) {
                return credentials.describe(ref);
            }

            @Override
            public Optional<String> pgpPublicKeyProblem(String ref) {
                return pgpKeys.problem(ref);
            }
        }, new TenantSettings.Limits(d.maxConcurrentDownloads(), d.maxFileSize(), d.maxDeliveriesPerSecond()),
                new RegistryReader.SftpAddress(config.destinations().sftp().host(), config.destinations().sftp().port()))
                .read(text);
    }

    private void apply(RegistryReader.Result result, String digest) {
        boolean first = current.digest().isEmpty();
        Map<String, TenantSettings> before = current.tenants();
        current = new Snapshot(result.tenants(), digest, Instant.now());
        rejection = null;
        long enabled = result.tenants().values().stream().filter(TenantSettings::enabled).count();
        if (first) {
            LOG.infof("Tenant registry %s: %d tenants (%d enabled)", config.tenants().registryFile(),
                    result.tenants().size(), enabled);
            return;
        }
        Map<String, String> changes = new TreeMap<>();
        result.tenants().forEach((id, t) -> {
            TenantSettings old = before.get(id);
            if (old == null) {
                changes.put(id, "added");
            } else if (old.enabled() != t.enabled()) {
                changes.put(id, t.enabled() ? "enabled" : "disabled");
            } else if (!old.equals(t)) {
                changes.put(id, "changed");
            }
        });
        before.keySet().stream().filter(id -> !result.tenants().containsKey(id)).forEach(id -> changes.put(id, "removed"));
        LOG.infof("Tenant registry %s applied: %d tenants (%d enabled); %s", config.tenants().registryFile(),
                result.tenants().size(), enabled, changes.isEmpty() ? "no tenant changed" : changes);
    }

    public Snapshot current() {
        return current;
    }

    public Optional<TenantSettings> tenant(String id) {
        return Optional.ofNullable(current.tenants().get(id));
    }

    /** The last registry file that was read and not applied, while it is still the file on disk. */
    public Optional<Rejection> rejection() {
        return Optional.ofNullable(rejection);
    }

    static String describe(List<String> problems) {
        return "The tenant registry has " + problems.size() + (problems.size() == 1 ? " problem" : " problems")
                + ":\n  - " + String.join("\n  - ", problems);
    }

    private static String digest(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
