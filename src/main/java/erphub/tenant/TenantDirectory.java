package erphub.tenant;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import erphub.config.ErphubConfig;
import erphub.config.ErphubConfig.Credential;
import erphub.config.ErphubConfig.Tenant;

/**
 * Which tenants an upstream serves and with which credentials. Tenants are data, not copies of routes:
 * one upstream route serves every tenant subscribed to it.
 */
@ApplicationScoped
public class TenantDirectory {

    private final ErphubConfig config;

    public TenantDirectory(ErphubConfig config) {
        this.config = config;
    }

    /** Enabled tenants subscribed to the upstream, in a stable order. */
    public List<String> tenantsOf(String upstreamId) {
        return config.tenants().entrySet().stream()
                .filter(e -> e.getValue().enabled())
                .filter(e -> e.getValue().upstreams().orElse(List.of()).contains(upstreamId))
                .map(Map.Entry::getKey)
                .sorted()
                .toList();
    }

    public boolean isActive(String tenant, String upstreamId) {
        Tenant t = config.tenants().get(tenant);
        return t != null && t.enabled() && t.upstreams().orElse(List.of()).contains(upstreamId);
    }

    public Optional<Credential> credential(String tenant, String name) {
        Tenant t = config.tenants().get(tenant);
        return t == null ? Optional.empty() : Optional.ofNullable(t.credentials().get(name));
    }

    /** The tenant's folder on the SFTP drop server: its own setting, or its id. */
    public String sftpFolder(String tenant) {
        Tenant t = config.tenants().get(tenant);
        return t == null ? tenant : t.sftpFolder().orElse(tenant);
    }

    public Optional<String> erpApiBaseUrl(String tenant) {
        Tenant t = config.tenants().get(tenant);
        return t == null ? Optional.empty() : t.erpApiBaseUrl();
    }

    public Optional<String> kafkaTopic(String tenant) {
        Tenant t = config.tenants().get(tenant);
        return t == null ? Optional.empty() : t.kafkaTopic();
    }
}
