package erphub.api;

import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * Query parameters read as text and parsed here, so a bad value is a 400 that names the parameter. (JAX-RS answers
 * a query parameter it cannot convert with 404, as if the resource did not exist.)
 */
final class Params {

    private Params() {
    }

    static Integer integer(String name, String value) {
        if (value == null) {
            return null;
        }
        try {
            return Integer.valueOf(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " '" + shorten(value) + "' is not a whole number");
        }
    }

    static Instant instant(String name, String value) {
        if (value == null) {
            return null;
        }
        try {
            return Instant.parse(value.trim());
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(name + " '" + shorten(value) + "' is not an ISO-8601 instant such as"
                    + " 2026-11-23T10:00:00Z");
        }
    }

    /** Echoes client input in an error without making the answer as long as the input. */
    static String shorten(String value) {
        return value.length() > 80 ? value.substring(0, 80) + "…" : value;
    }
}
