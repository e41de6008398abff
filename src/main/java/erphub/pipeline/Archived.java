package erphub.pipeline;

/**
 * The bytes of a file as the archive received them: where, how many, their SHA-256 (hex), what more the ledger
 * says of where they came from, what validation needs of their content (the first bytes, a JSON verdict), and the
 * whole content of a small file for the spool its destinations read it from (null when it is not spooled).
 */
public record Archived(String key, long bytes, String sha256, String detail, byte[] head, String jsonProblem,
        byte[] whole) {
}
