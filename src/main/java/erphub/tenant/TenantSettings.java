package erphub.tenant;

import java.util.Map;
import java.util.Optional;

/**
 * One tenant as the registry declares it, validated. Holds credential references, never secrets.
 *
 * @param sftpPgpPublicKey a reference to the OpenPGP public key the tenant's SFTP deliveries are encrypted to
 *        ({@link erphub.tenant.PgpKeys}), when it names one
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
        Optional<String> sftpPgpPublicKey,
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
