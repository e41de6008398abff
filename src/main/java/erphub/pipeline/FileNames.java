package erphub.pipeline;

import java.util.Optional;

/**
 * File names from upstreams are untrusted. They are kept in the ledger for the people and systems that
 * read them, but one that could escape a folder or confuse a file system is refused, not silently changed.
 */
public final class FileNames {

    public static final int MAX_LENGTH = 255;

    private FileNames() {
    }

    /** Why the name is unsafe, or empty when it may be used as a single path segment. */
    public static Optional<String> whyUnsafe(String name) {
        if (name == null || name.isBlank()) {
            return Optional.of("empty file name");
        }
        if (name.length() > MAX_LENGTH) {
            return Optional.of("file name longer than " + MAX_LENGTH + " characters");
        }
        if (name.contains("/") || name.contains("\\")) {
            return Optional.of("file name contains a path separator");
        }
        if (name.equals(".") || name.equals("..")) {
            return Optional.of("file name is a relative path");
        }
        if (name.length() >= 2 && name.charAt(1) == ':') {
            return Optional.of("file name is an absolute path");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return Optional.of("file name contains control character 0x" + Integer.toHexString(c));
            }
        }
        if (name.startsWith(" ") || name.endsWith(" ") || name.endsWith(".")) {
            return Optional.of("file name starts or ends with a space or ends with a dot");
        }
        return Optional.empty();
    }

    /** A printable rendering of an untrusted name for log lines and ledger details. */
    public static String printable(String name) {
        if (name == null) {
            return "(none)";
        }
        StringBuilder out = new StringBuilder();
        name.codePoints().limit(300).forEach(c -> {
            if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\x%02x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }
}
