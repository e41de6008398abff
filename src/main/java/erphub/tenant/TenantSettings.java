package erphub.tenant;

import java.util.Map;
import java.util.Optional;

/**
 * One tenant as the registry declares it, validated. Holds credential references, never secrets.
 *
 * @param upstreams the upstream ids the tenant is subscribed to, with the credential reference for each
 */
public record TenantSettings(
        String id,
        String name,
        boolean enabled,
        Map<String, String> upstreams,
        Optional<String> erpApiBaseUrl,
        String erpCredential,
        String sftpFolder,
        Optional<SftpServer> sftpServer,
        Optional<String> kafkaTopic,
        Limits limits) {

    /** The tenant's own SFTP drop server, when it is not the shared one; its password or key by reference. */
    public record SftpServer(String host, int port, String username, String credential) {
    }

    public record Limits(int maxConcurrentDownloads, long maxFileSize, int maxDeliveriesPerSecond) {
    }

    public boolean subscribes(String upstreamId) {
        return enabled && upstreams.containsKey(upstreamId);
    }
}
