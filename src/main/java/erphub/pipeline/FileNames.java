package erphub.pipeline;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/**
 * File names from upstreams and pushing clients are untrusted. They are kept in the ledger for the people and
 * systems that read them, but one that could escape a folder, confuse a file system or disguise itself to a
 * reader (a control character, a bidirectional override that shows {@code exe.csv} as {@code vsc.exe}) is refused,
 * not silently changed.
 */
public final class FileNames {

    public static final int MAX_LENGTH = 255;
    /** The RFC 8187 form of an {@code X-File-Name} header: {@code UTF-8'<language>'<percent-encoded name>}. */
    private static final String RFC_8187_PREFIX = "utf-8'";

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
            if (isControl(c)) {
                return Optional.of("file name contains control character " + codePoint(c));
            }
            if (isBidiControl(c)) {
                return Optional.of("file name contains bidirectional control character " + codePoint(c));
            }
            if (c == '\u2028' || c == '\u2029') {
                return Optional.of("file name contains line separator " + codePoint(c));
            }
            if (Character.isHighSurrogate(c) ? i + 1 == name.length() || !Character.isLowSurrogate(name.charAt(++i))
                    : Character.isLowSurrogate(c)) {
                return Optional.of("file name is not valid Unicode (an unpaired surrogate)");
            }
        }
        if (name.startsWith(" ") || name.endsWith(" ") || name.endsWith(".")) {
            return Optional.of("file name starts or ends with a space or ends with a dot");
        }
        return Optional.empty();
    }

    /**
     * The file name an {@code X-File-Name} header carries. HTTP header values are bytes, read as ISO-8859-1, so a
     * name beyond ASCII travels as UTF-8 in one of three forms:
     * <ul>
     * <li>RFC 8187 (as in {@code Content-Disposition: filename*=}): {@code UTF-8''Gehaltsabrechnung%20M%C3%A4rz.csv}
     * (an optional language between the quotes is ignored; other charsets are refused);</li>
     * <li>percent-encoded UTF-8: {@code Gehaltsabrechnung%20M%C3%A4rz.csv} ({@code %} itself is {@code %25});</li>
     * <li>raw UTF-8 bytes, as most clients send a non-ASCII header.</li>
     * </ul>
     * A plain ASCII name without {@code %} is taken as it is.
     *
     * @throws IllegalArgumentException when the header is not one of these forms (bad percent-encoding, bytes that
     *             are not UTF-8, another charset)
     */
    public static String fromHeader(String header) {
        if (header == null) {
            return null;
        }
        String value = header;
        if (value.toLowerCase(Locale.ROOT).startsWith(RFC_8187_PREFIX)) {
            int language = value.indexOf('\'', RFC_8187_PREFIX.length());
            if (language < 0) {
                throw new IllegalArgumentException("X-File-Name in RFC 8187 form needs UTF-8'<language>'<name>");
            }
            value = value.substring(language + 1);
        } else if (value.matches("(?is)(iso-8859-1|us-ascii|utf-16|windows-125[0-9])'[A-Za-z0-9-]*'.*")) {
            String charset = value.substring(0, value.indexOf('\''));
            throw new IllegalArgumentException("X-File-Name in RFC 8187 form must be UTF-8, not " + printable(charset));
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '%') {
                if (i + 2 >= value.length() || Character.digit(value.charAt(i + 1), 16) < 0
                        || Character.digit(value.charAt(i + 2), 16) < 0) {
                    throw new IllegalArgumentException("X-File-Name '" + printable(header) + "' is not valid"
                            + " percent-encoding (write % as %25)");
                }
                bytes.write(Character.digit(value.charAt(i + 1), 16) * 16 + Character.digit(value.charAt(i + 2), 16));
                i += 2;
            } else if (c > 0xff) {
                // Not what an HTTP header decoder produces: the value was decoded already.
                bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            } else {
                bytes.write(c);
            }
        }
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return utf8.decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("X-File-Name '" + printable(header) + "' is not UTF-8 (send the name"
                    + " as UTF-8, percent-encoded or as UTF-8''<percent-encoded name>)");
        }
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
            } else if (c <= 0xffff && (isControl((char) c) || isBidiControl((char) c) || c == 0x2028 || c == 0x2029
                    || Character.isSurrogate((char) c))) {
                out.append(String.format("\\u%04x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }

    /** C0 controls, DEL and the C1 controls U+0080–U+009F (U+0085 is a line break to many readers). */
    private static boolean isControl(char c) {
        return c < 0x20 || c >= 0x7f && c <= 0x9f;
    }

    /** Characters that reorder text as it is displayed: embeddings, overrides, isolates and the directional marks. */
    private static boolean isBidiControl(char c) {
        return c >= '\u202a' && c <= '\u202e' || c >= '\u2066' && c <= '\u2069' || c == '\u200e' || c == '\u200f'
                || c == '\u061c';
    }

    private static String codePoint(char c) {
        return c < 0x100 ? "0x" + Integer.toHexString(c) : String.format("U+%04X", (int) c);
    }
}
