package erphub.upstream;

import erphub.state.FileKey;
import io.quarkus.runtime.annotations.RegisterForReflection;

/** One file as an upstream's list describes it, for one tenant. */
// Read by the routes' simple expressions (${body.x}) reflectively, also in the native executable.
@RegisterForReflection
public record FileDescriptor(
        String tenant,
        String upstream,
        String remoteId,
        String version,
        String name,
        Long size,
        String checksum,
        String downloadUrl) {

    public FileKey key() {
        return new FileKey(tenant, upstream, remoteId, version);
    }

    /** The ledger key as one string: what the CLAIM step's idempotent consumer is keyed by. */
    public String getClaimKey() {
        return key().toString();
    }
}
