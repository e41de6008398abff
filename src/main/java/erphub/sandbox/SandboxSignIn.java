package erphub.sandbox;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import erphub.api.Caller;

/**
 * The sandbox issuer's sign-in for the operator console: the OIDC authorization-code flow, so a new user can log in to
 * {@code /console} at once. The sign-in page offers the sandbox's users (no passwords: like all of {@code /sandbox}
 * it answers this machine only, and the banner already prints an admin token): the admin, who sees every tenant,
 * and one operator per demo tenant, who sees only that tenant's files. A code is good once, for a minute, for the
 * console's client and the redirect it was issued for; redirects go back to this server's {@code /console} only
 * (on a loopback name and this port).
 */
final class SandboxSignIn {

    static final String ADMIN = "admin";
    private static final long CODE_SECONDS = 60;
    private static final int MAX_PENDING_CODES = 1000;
    /** The names this machine's browser may use for erphub (the sandbox answers loopback only). */
    private static final java.util.Set<String> LOOPBACK_HOSTS = java.util.Set.of("localhost", "127.0.0.1", "[::1]");

    private record Grant(String user, String redirectUri, String nonce, Instant expires) {
    }

    private final SandboxIssuer issuer;
    private final List<String> tenants;
    private final int port;
    private final String clientId;
    private final byte[] clientSecret;
    private final long tokenSeconds;
    private final Map<String, Grant> codes = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    SandboxSignIn(SandboxIssuer issuer, List<String> tenants, int port, String clientId, String clientSecret,
            long tokenSeconds) {
        this.issuer = issuer;
        this.tenants = List.copyOf(tenants);
        this.port = port;
        this.clientId = clientId;
        this.clientSecret = clientSecret.getBytes(StandardCharsets.UTF_8);
        this.tokenSeconds = tokenSeconds;
    }

    /** GET /sandbox/oauth2/authorize: the sign-in page, for a well-formed request of the console's client. */
    void page(RoutingContext rc) {
        String refused = refusal(rc.request().getParam("client_id"), rc.request().getParam("redirect_uri"));
        if (refused == null && !"code".equals(rc.request().getParam("response_type"))) {
            refused = "response_type must be code";
        }
        if (refused != null) {
            html(rc, 400, "<h1>Sign-in refused</h1><p>" + escape(refused) + "</p>");
            return;
        }
        StringBuilder users = new StringBuilder();
        users.append(option(ADMIN, "Administrator", "erphub-admin: every tenant", true));
        for (String tenant : tenants) {
            users.append(option(tenant, tenant + " operator", "erphub-tenant: " + tenant + "'s files only", false));
        }
        html(rc, 200, "<h1>erphub sandbox sign-in</h1>"
                + "<p>The sandbox's identity provider, for trying the console. Pick who you are:</p>"
                + "<form method=\"post\" action=\"/sandbox/oauth2/authorize\">" + users
                + hidden("client_id", rc.request().getParam("client_id"))
                + hidden("redirect_uri", rc.request().getParam("redirect_uri"))
                + hidden("state", rc.request().getParam("state"))
                + hidden("nonce", rc.request().getParam("nonce"))
                + "<p><button type=\"submit\" id=\"sign-in\">Sign in</button></p></form>");
    }

    /** POST /sandbox/oauth2/authorize: the chosen user signs in; back to the console with a one-time code. */
    void signIn(RoutingContext rc) {
        String redirect = rc.request().getFormAttribute("redirect_uri");
        String refused = refusal(rc.request().getFormAttribute("client_id"), redirect);
        String user = rc.request().getFormAttribute("user");
        if (refused == null && !(ADMIN.equals(user) || tenants.contains(user))) {
            refused = "pick one of the sandbox's users";
        }
        if (refused != null) {
            html(rc, 400, "<h1>Sign-in refused</h1><p>" + escape(refused) + "</p>");
            return;
        }
        Instant now = Instant.now();
        codes.values().removeIf(g -> g.expires().isBefore(now));
        if (codes.size() >= MAX_PENDING_CODES) {
            html(rc, 503, "<h1>Too many sign-ins at once</h1><p>Try again in a minute.</p>");
            return;
        }
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String code = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        codes.put(code, new Grant(user, redirect, rc.request().getFormAttribute("nonce"), now.plusSeconds(CODE_SECONDS)));
        String state = rc.request().getFormAttribute("state");
        String location = redirect + (redirect.contains("?") ? "&" : "?") + "code=" + encode(code)
                + (state == null ? "" : "&state=" + encode(state));
        rc.response().setStatusCode(302).putHeader("Location", location).putHeader("Cache-Control", "no-store").end();
    }

    /** Whether the token request is an authorization-code grant (the console's), which {@link #token} answers. */
    static boolean isCodeGrant(RoutingContext rc) {
        return "authorization_code".equals(rc.request().getFormAttribute("grant_type"));
    }

    /**
     * POST /sandbox/oauth2/token with grant_type=authorization_code: the console's client, authenticated by its
     * secret, trades a code for an ID token (the console's session: subject, groups, tenant) and an API token.
     */
    void token(RoutingContext rc, String client, String secret) {
        if (!clientId.equals(client) || secret == null || clientSecret.length == 0
                || !MessageDigest.isEqual(clientSecret, secret.getBytes(StandardCharsets.UTF_8))) {
            error(rc, 401, "invalid_client");
            return;
        }
        String code = rc.request().getFormAttribute("code");
        Grant grant = code == null ? null : codes.remove(code);
        if (grant == null || grant.expires().isBefore(Instant.now())
                || !grant.redirectUri().equals(rc.request().getFormAttribute("redirect_uri"))) {
            error(rc, 400, "invalid_grant");
            return;
        }
        boolean admin = ADMIN.equals(grant.user());
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("groups", List.of(admin ? Caller.ADMIN : Caller.TENANT_ROLE));
        if (!admin) {
            claims.put(Caller.TENANT_CLAIM, grant.user());
        }
        claims.put("preferred_username", admin ? "sandbox admin" : grant.user() + " operator");
        Map<String, Object> idClaims = new LinkedHashMap<>(claims);
        if (grant.nonce() != null) {
            idClaims.put("nonce", grant.nonce());
        }
        String subject = "sandbox-" + grant.user();
        rc.response().putHeader("Content-Type", "application/json").putHeader("Cache-Control", "no-store")
                .end(new JsonObject()
                        .put("id_token", issuer.token(subject, clientId, tokenSeconds, idClaims))
                        .put("access_token", issuer.token(subject, "erphub-api", tokenSeconds, claims))
                        .put("token_type", "Bearer").put("expires_in", tokenSeconds).encode());
    }

    /** Why a request of this client for this redirect is refused, or null: the console's client, back to /console. */
    private String refusal(String client, String redirect) {
        if (!clientId.equals(client)) {
            return "unknown client: the sandbox signs in to erphub's console (client " + clientId + ") only";
        }
        try {
            URI uri = redirect == null ? null : new URI(redirect);
            if (uri == null || uri.getRawUserInfo() != null || uri.getRawFragment() != null
                    || !"http".equals(uri.getScheme()) || !LOOPBACK_HOSTS.contains(uri.getHost()) || uri.getPort() != port
                    || uri.getRawPath() == null || !(uri.getRawPath().equals("/console")
                            || uri.getRawPath().startsWith("/console/"))) {
                return "redirect_uri must be this server's console, http://localhost:" + port + "/console";
            }
        } catch (URISyntaxException e) {
            return "redirect_uri is not a URI";
        }
        return null;
    }

    private static String option(String value, String label, String detail, boolean checked) {
        return "<p><label><input type=\"radio\" name=\"user\" value=\"" + escape(value) + "\"" + (checked ? " checked" : "")
                + "> <b>" + escape(label) + "</b> (" + escape(detail) + ")</label></p>";
    }

    private static String hidden(String name, String value) {
        return value == null ? "" : "<input type=\"hidden\" name=\"" + name + "\" value=\"" + escape(value) + "\">";
    }

    private static void html(RoutingContext rc, int status, String body) {
        rc.response().setStatusCode(status).putHeader("Content-Type", "text/html; charset=utf-8")
                .putHeader("Cache-Control", "no-store").putHeader("X-Frame-Options", "DENY")
                .putHeader("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
                .end("<!doctype html><html><head><meta charset=\"utf-8\"><title>erphub sandbox sign-in</title>"
                        + "<style>body{font-family:sans-serif;max-width:36rem;margin:3rem auto}</style></head><body>"
                        + body + "</body></html>");
    }

    private static void error(RoutingContext rc, int status, String error) {
        rc.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                .end(new JsonObject().put("error", error).encode());
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
