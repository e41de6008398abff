package erphub.pipeline;

/**
 * The bytes of a file as the archive received them: where, how many, their SHA-256 (hex), what more the ledger
 * says of where they came from, and what validation needs of their content (the first bytes, a JSON verdict).
 */
public record Archived(String key, long bytes, String sha256, String detail, byte[] head, String jsonProblem) {
}
