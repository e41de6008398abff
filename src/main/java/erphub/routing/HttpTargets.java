package erphub.routing;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.http.HttpMethods;

/**
 * How erphub addresses Camel HTTP: a {@code toD} on the target's origin (scheme, host and port; one endpoint
 * and connection pool per origin), with the whole URL in {@link Exchange#HTTP_URI}. URLs come from upstream
 * lists and the registry, so they are checked here: http or https only, no user info, nothing Camel would
 * resolve as a property placeholder.
 */
public final class HttpTargets {

    /**
     * The start of the headers a step that clears the message's headers must keep (the YAML routes'
     * {@code excludePattern: "CamelRedeliver.*"}): Camel's error handler counts redeliveries in them, and without
     * them a redelivery never ends.
     */
    private static final String ERROR_HANDLER_PREFIX = "CamelRedeliver";

    /** Exchange property the routes' {@code toD} reads. */
    public static final String ORIGIN = "erphubHttpOrigin";

    private HttpTargets() {
    }

    /**
     * Removes every header but the error handler's, as the YAML's {@code removeHeaders} with that exclude pattern
     * does, without the pattern: Camel matches an exclude pattern as a regex it compiles again for every header
     * that does not equal it, which was 4 % of an empty poll's CPU.
     */
    public static void resetHeaders(Message message) {
        message.getHeaders().keySet().removeIf(name -> !name.regionMatches(true, 0, ERROR_HANDLER_PREFIX, 0,
                ERROR_HANDLER_PREFIX.length()));
    }

    /** Addresses the exchange's next HTTP call to the URL; refuses a URL that is not a plain http(s) one. */
    public static void target(Exchange exchange, String method, String url) {
        URI uri = check(url);
        exchange.setProperty(ORIGIN, origin(uri));
        Message in = exchange.getIn();
        // As Camel HTTP's own enum: a String would be converted by a type-converter scan on every call.
        in.setHeader(Exchange.HTTP_METHOD, HttpMethods.valueOf(method.toUpperCase(Locale.ROOT)));
        in.setHeader(Exchange.HTTP_URI, uri.toASCIIString());
    }

    /** The URL, parsed, if it is one erphub may call. */
    public static URI check(String url) {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("no URL");
        }
        // Camel resolves {{...}} in an HTTP URI: a hostile link must not be able to name a configuration value.
        if (url.contains("{{") || url.contains("}}")) {
            throw new IllegalArgumentException("URL " + url + " contains '{{' or '}}'");
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URL: " + e.getMessage(), e);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("URL " + url + " is not http or https");
        }
        if (uri.getHost() == null || uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException("URL " + url + " has no host, or carries user info");
        }
        return uri;
    }

    /** scheme://host[:port], the part of a URL Camel HTTP makes an endpoint of. */
    public static String origin(URI uri) {
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        return scheme + "://" + uri.getRawAuthority();
    }

    /** The HTTP status of the last call. */
    public static int status(Exchange exchange) {
        return exchange.getIn().getHeader(Exchange.HTTP_RESPONSE_CODE, 0, Integer.class);
    }

    /** A {@code Retry-After} header: delta-seconds or an HTTP date; null when absent or unreadable. */
    public static Duration retryAfter(Object header) {
        if (header == null || header.toString().isBlank()) {
            return null;
        }
        String v = header.toString().trim();
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(v)));
        } catch (NumberFormatException e) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
                return Duration.ofMillis(Math.max(0, at.toInstant().toEpochMilli() - System.currentTimeMillis()));
            } catch (RuntimeException ignored) {
                return null;
            }
        }
    }

    /** Reads a response body to its end and closes it, so the connection goes back to the pool. */
    public static void discardBody(Exchange exchange) {
        Object body = exchange.getIn().getBody();
        if (body instanceof java.io.InputStream in) {
            try (in) {
                in.transferTo(java.io.OutputStream.nullOutputStream());
            } catch (java.io.IOException ignored) {
                // the connection is discarded instead
            }
        }
        exchange.getIn().setBody(null);
    }
}
