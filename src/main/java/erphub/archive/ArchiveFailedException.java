package erphub.archive;

/** Writing to the archive failed (a full disk, S3 unreachable): retried, and no fault of the upstream's. */
public class ArchiveFailedException extends RuntimeException {

    public ArchiveFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
