package erphub.api;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import erphub.config.ErphubConfig;
import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * What a client may send to the HTTP port, checked before any route: a request target over
 * {@code erphub.server.max-uri-length} is 414, header lines over {@code erphub.server.max-header-size} are 431, and a
 * path or query that is not valid percent-encoding is 400, each as {@code application/problem+json}. Vert.x answers
 * what exceeds its own (larger) limits, {@code quarkus.http.limits.*}, with an empty page and no hook to change it,
 * so erphub's limits sit below those. Quarkus likewise answers a request target {@link URI} cannot parse with an
 * empty 400 before any handler, unless the JVM runs with {@code -Dvertx.disableURIValidation=true} (the image, the
 * Kubernetes manifests and the README's run command do): then that check is made here, and answered as a problem.
 */
@ApplicationScoped
public class RequestLimits {

    /** Before Quarkus's own filters and every route. */
    static final int PRIORITY = 100_000;

    private final int maxUriLength;
    private final int maxHeaderSize;

    public RequestLimits(ErphubConfig config) {
        this.maxUriLength = config.server().maxUriLength();
        this.maxHeaderSize = config.server().maxHeaderSize();
    }

    void register(@Observes Filters filters) {
        filters.register(this::check, PRIORITY);
    }

    /**
     * A path Vert.x cannot decode (a broken percent-encoding) is refused by the router before any filter runs; its
     * 400 is answered here, as a problem like every other.
     */
    void routerErrors(@Observes Router router) {
        router.errorHandler(400, rc -> {
            if (rc.response().ended() || rc.response().headWritten()) {
                return;
            }
            int bad = badPercentEncoding(rc.request().uri());
            refuse(rc, 400, "Bad Request", bad >= 0 ? "the request target is not valid percent-encoding at character "
                    + (bad + 1) + " (a literal % is written %25)" : "the request could not be read");
        });
    }

    void check(RoutingContext rc) {
        String uri = rc.request().uri();
        if (uri.length() > maxUriLength) {
            refuse(rc, 414, "URI Too Long", "the request target is " + uri.length() + " characters long; at most "
                    + maxUriLength + " are accepted (send long filters in several requests)");
            return;
        }
        long headerBytes = headerBytes(rc.request().headers());
        if (headerBytes > maxHeaderSize) {
            refuse(rc, 431, "Request Header Fields Too Large", "the request headers are " + headerBytes
                    + " bytes; at most " + maxHeaderSize + " are accepted");
            return;
        }
        int bad = badPercentEncoding(uri);
        if (bad >= 0) {
            refuse(rc, 400, "Bad Request", "the request target is not valid percent-encoding at character " + (bad + 1)
                    + " (a literal % is written %25)");
            return;
        }
        try {
            new URI(uri);
        } catch (URISyntaxException e) {
            refuse(rc, 400, "Bad Request", "the request target is not a valid URI: " + e.getReason());
            return;
        }
        rc.next();
    }

    /** The size of the header lines as they were sent: "name: value" and a line break each. */
    static long headerBytes(MultiMap headers) {
        long total = 0;
        for (Map.Entry<String, String> h : headers) {
            total += h.getKey().length() + h.getValue().length() + 4;
        }
        return total;
    }

    /** The index of the first '%' not followed by two hex digits, or -1. */
    static int badPercentEncoding(String uri) {
        for (int i = uri.indexOf('%'); i >= 0; i = uri.indexOf('%', i + 1)) {
            if (i + 2 >= uri.length() || Character.digit(uri.charAt(i + 1), 16) < 0
                    || Character.digit(uri.charAt(i + 2), 16) < 0) {
                return i;
            }
        }
        return -1;
    }

    private static void refuse(RoutingContext rc, int status, String title, String detail) {
        JsonObject problem = new JsonObject().put("type", "about:blank").put("title", title).put("status", status)
                .put("detail", detail);
        rc.response().setStatusCode(status).putHeader("Content-Type", Problems.TYPE)
                .putHeader("Connection", "close").end(problem.encode());
    }
}
