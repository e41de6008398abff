package erphub.pipeline;

import erphub.routing.FileLogContext;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * A file this node claimed, as handed from the poll route to the intake route (in-process or over
 * Kafka, as JSON). Carries what the download needs except secrets, which are looked up where used, and the
 * file's trace (W3C traceparent, null when tracing is off), which the Kafka hand-off also sends as a header.
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
        String claimedOn,
        String traceparent) {

    /** The same file under another claim attempt (the relay's, across replicas). */
    public ClaimedFile withAttempt(int next) {
        return new ClaimedFile(fileId, next, tenant, upstream, remoteId, version, name, size, checksum, checksumAlgorithm,
                downloadUrl, maxFileSize, claimedOn, traceparent);
    }

    /** The file's identity (and trace) in the log lines of one step. */
    public FileLogContext log() {
        return FileLogContext.of(tenant, upstream, fileId, remoteId, null, traceparent);
    }

    /** {tenant}/{upstream}/{yyyy}/{mm}/{dd}/{fileId}: built from ids the ledger vouches for, never from a file name. */
    public String archiveKey() {
        String[] date = claimedOn.split("-");
        return tenant + "/" + upstream + "/" + date[0] + "/" + date[1] + "/" + date[2] + "/" + fileId;
    }
}
