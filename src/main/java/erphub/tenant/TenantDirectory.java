package erphub.tenant;

import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import erphub.tenant.CredentialStore.Credential;

/**
 * What the pipeline asks about tenants, answered from the registry in force at the moment of asking: a
 * tenant added, changed or disabled in the registry file takes effect on the next poll. Tenants are data,
 * not copies of routes: one upstream route serves every tenant subscribed to it.
 */
@ApplicationScoped
public class TenantDirectory {

    private final TenantRegistry registry;
    private final CredentialStore credentials;

    public TenantDirectory(TenantRegistry registry, CredentialStore credentials) {
        this.registry = registry;
        this.credentials = credentials;
    }

    /** Enabled tenants subscribed to the upstream, in a stable order: the ones a poll lists and claims for. */
    public List<String> tenantsOf(String upstreamId) {
        return registry.current().tenants().values().stream()
                .filter(t -> t.subscribes(upstreamId))
                .map(TenantSettings::id)
                .sorted()
                .toList();
    }

    /** Whether the tenant is, at this moment, enabled and subscribed to the upstream. */
    public boolean subscribes(String tenant, String upstreamId) {
        return registry.tenant(tenant).map(t -> t.subscribes(upstreamId)).orElse(false);
    }

    public Optional<TenantSettings> tenant(String id) {
        return registry.tenant(id);
    }

    /** The OAuth2 client the tenant uses for the upstream (the registry's reference, resolved now). */
    public Optional<Credential> upstreamCredential(String tenant, String upstreamId) {
        return registry.tenant(tenant).map(t -> t.upstreams().get(upstreamId)).flatMap(credentials::client);
    }

    /** The tenant's OAuth2 client for the ERP API. */
    public Optional<Credential> erpCredential(String tenant) {
        return registry.tenant(tenant).flatMap(t -> credentials.client(t.erpCredential()));
    }

    /** The tenant's folder on the SFTP drop server: its own setting, or its id. */
    public String sftpFolder(String tenant) {
        return registry.tenant(tenant).map(TenantSettings::sftpFolder).orElse(tenant);
    }

    public Optional<TenantSettings.SftpServer> sftpServer(String tenant) {
        return registry.tenant(tenant).flatMap(TenantSettings::sftpServer);
    }

    public Optional<String> erpApiBaseUrl(String tenant) {
        return registry.tenant(tenant).flatMap(TenantSettings::erpApiBaseUrl);
    }

    public Optional<String> kafkaTopic(String tenant) {
        return registry.tenant(tenant).flatMap(TenantSettings::kafkaTopic);
    }

    /** The largest file accepted for the tenant from an upstream: the lower of the two limits. */
    public long maxFileSize(String tenant, long upstreamLimit) {
        return limits(tenant).map(l -> Math.min(l.maxFileSize(), upstreamLimit)).orElse(upstreamLimit);
    }

    public Optional<TenantSettings.Limits> limits(String tenant) {
        return registry.tenant(tenant).map(TenantSettings::limits);
    }
}
