package erphub.pipeline;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * A file this node claimed, as handed from the poll route to the intake route (in-process or over
 * Kafka, as JSON). Carries what the download needs except secrets, which are looked up where used.
 */
@RegisterForReflection
public record ClaimedFile(
        long fileId,
        int attempt,
        String tenant,
        String upstream,
        String remoteId,
        String version,
        String name,
        Long size,
        String checksum,
        String checksumAlgorithm,
        String downloadUrl,
        long maxFileSize,
        String claimedOn) {
}
