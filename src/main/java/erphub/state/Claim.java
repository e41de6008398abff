package erphub.state;

/** The right to process one file version, held by this node until the lease ends. */
public record Claim(long fileId, FileKey key, int attempt, boolean resumed) {
}
