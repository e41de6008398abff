package erphub.api;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import erphub.testing.BesideTheApplication;
import erphub.testing.ErpApiResource;
import erphub.testing.KeycloakServer;
import erphub.testing.PackagedApp;
import erphub.testing.PayrollFileServer;
import erphub.testing.TestServers;
import erphub.testing.TestTenants;
import io.restassured.path.json.JsonPath;

/**
 * Three of the README's user paths, as the README ("Adding an upstream"), docs/configuration.md ("Without the sandbox:
 * servers of your own") and docs/api.md ("Tokens from an identity provider of your own") write them, with a real
 * identity provider: Keycloak (its distribution from Maven Central) with the realm in
 * src/test/resources/keycloak/erphub-realm.json, set up as api.md says. The packaged jar runs the embedded default
 * with the sandbox off and an upstream added in config/routes; Keycloak issues every token: the upstream's and the
 * ERP's client credentials per tenant, and the management API's callers (an admin, and acme's portal scoped to acme by
 * a hardcoded tenant claim). Then the fourth path, "is the backlog done?", on the summary.
 */
@BesideTheApplication(seconds = 65)
class KeycloakIT {

    /**
     * The README's "Adding an upstream", for this test's upstream server (the payroll-exports API shape): its endpoints
     * are placeholders set in config/application.properties, as the README has them.
     */
    static final String HR_DOCUMENTS = PayrollFileServer.operatorRoute("hr-documents", 500,
            "{{erphub.upstreams.hr-documents.base-url}}", "{{erphub.upstreams.hr-documents.token-url}}", "hr", "erp-api",
            "/imports/hr/{tenant}");

    static final int ACME_FILES = 4;
    static final int GLOBEX_FILES = 3;

    @Test
    void withTheSandboxOffKeycloakIssuesEveryTokenAndTheApiScopesTenantsByItsClaims() throws Exception {
        ErpApiResource erpServer = new ErpApiResource();
        erpServer.init(Map.of());
        erpServer.start();
        try (KeycloakServer keycloak = KeycloakServer.start("/keycloak/erphub-realm.json", "erphub",
                Duration.ofSeconds(240)); PayrollFileServer upstream = new PayrollFileServer()) {
            ErpApiResource.ErpApi erp = erpServer.api();
            Path work = TestServers.scratchDir("keycloak-it-");
            // An upstream of one's own, added as the README says: a route file in config/routes, its endpoints in
            // config/application.properties (this server speaks the payroll-exports API, under another upstream id).
            Files.createDirectories(work.resolve("config/routes"));
            Files.writeString(work.resolve("config/routes/hr-documents.yaml"), HR_DOCUMENTS);
            Files.writeString(work.resolve("config/application.properties"),
                    "erphub.upstreams.hr-documents.base-url=" + upstream.baseUrl() + "\n"
                            + "erphub.upstreams.hr-documents.token-url=" + keycloak.tokenUrl() + "\n");
            // The tenants, subscribed to it; their client credentials are Keycloak clients (erphub.credentials.*).
            Map<String, String> config = new HashMap<>(new TestTenants()
                    .tenant("acme", Map.of("hr-documents", "hr")).client("acme-erp", "erp-secret-acme")
                    .tenant("globex", Map.of("hr-documents", "hr")).client("globex-erp", "erp-secret-globex")
                    .write("keycloak-it"));
            Map<String, String> environment = Map.of(
                    "ERPHUB_SANDBOX_ENABLED", "false",
                    "ERPHUB_API_JWKS_URL", keycloak.jwksUrl(),
                    "ERPHUB_API_ISSUER", keycloak.issuer(),
                    "ERPHUB_ERP_API_URL", erp.baseUrl(),
                    "ERPHUB_ERP_TOKEN_URL", keycloak.tokenUrl(),
                    // The operator console signs in at the same realm (docs/console.md).
                    "ERPHUB_CONSOLE_CLIENT_SECRET", "erphub-console-secret-0123456789abcdefghij",
                    "ERPHUB_CONSOLE_AUTHORIZATION_PATH", "protocol/openid-connect/auth",
                    "ERPHUB_CONSOLE_TOKEN_PATH", "protocol/openid-connect/token",
                    "ERPHUB_CONSOLE_JWKS_PATH", "protocol/openid-connect/certs");
            try (PackagedApp app = PackagedApp.start(work, config, environment)) {
                app.awaitReady(Duration.ofSeconds(90));
                for (int i = 0; i < ACME_FILES; i++) {
                    upstream.add("acme", String.format("kc-acme-%02d", i), 2048);
                }
                for (int i = 0; i < GLOBEX_FILES; i++) {
                    upstream.add("globex", String.format("kc-globex-%02d", i), 2048);
                }
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> erp.accepted().size() >= ACME_FILES + GLOBEX_FILES);
                assertEquals(ACME_FILES, erp.accepted().stream().filter(r -> "acme".equals(r.tenant())).count());
                assertTrue(erp.accepted().stream().allMatch(r -> r.path().startsWith("/erp/imports/hr/" + r.tenant())),
                        erp.accepted().toString());

                String admin = keycloak.clientToken("ops-admin", "ops-admin-secret");
                String acme = keycloak.clientToken("acme-portal", "acme-portal-secret");
                Map<String, Object> claims = claims(acme);
                assertEquals("acme", claims.get("tenant"), claims.toString());
                assertTrue(String.valueOf(claims.get("aud")).contains("erphub-api"), claims.toString());

                // The backlog is done when nothing is left before the end states (docs/api.md, "Is a backlog done?").
                await().atMost(Duration.ofSeconds(30)).until(() -> delivered(app, acme, "acme") == ACME_FILES);
                HttpResponse<String> own = get(app, "/api/files/summary", acme);
                assertEquals(200, own.statusCode(), own.body());
                assertEquals(List.of("acme"), JsonPath.from(own.body()).getList("tenant"), own.body());

                // acme's token sees nothing of globex: 404, as for a tenant that does not exist.
                assertEquals(404, get(app, "/api/files/summary?tenant=globex", acme).statusCode());
                HttpResponse<String> files = get(app, "/api/files?tenant=globex", acme);
                assertFalse(files.body().contains("kc-globex"), files.body());
                // The admin sees both.
                await().atMost(Duration.ofSeconds(30)).until(() -> delivered(app, admin, "globex") == GLOBEX_FILES);
                assertEquals(200, get(app, "/api/files/summary?tenant=globex", admin).statusCode());

                // Hostile variants: a token of the same realm for another audience (the upstream's client), one whose
                // signature does not match, and none at all.
                String upstreamToken = keycloak.clientToken("acme-hr", "secret-hr-acme");
                assertEquals(401, get(app, "/api/files/summary", upstreamToken).statusCode());
                String[] parts = admin.split("\\.");
                String forged = parts[0] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(
                        new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
                                .replace("\"erphub-admin\"", "\"erphub-admin\",\"x\"").getBytes(StandardCharsets.UTF_8))
                        + "." + parts[2];
                assertEquals(401, get(app, "/api/files/summary", forged).statusCode());
                assertEquals(401, get(app, "/api/files/summary", null).statusCode());
                // An operator signs in to the console at Keycloak's login page (the authorization-code flow).
                String page = consoleSignIn(app, keycloak, "ops", "ops-password");
                assertTrue(page.contains("admin: every tenant") && page.contains("kc-globex-00"), page);
                assertFalse(app.output().contains("erphub-console-secret") || app.output().contains("ops-password"));
                assertFalse(app.output().contains("acme-portal-secret") || app.output().contains("erp-secret-acme"),
                        "no client secret in the log");
            }
        } finally {
            erpServer.stop();
        }
    }

    /**
     * Opens the console as a browser would (cookies per host, redirects followed by hand), signs in on Keycloak's
     * login form, and returns the files page erphub answers with after the code exchange. (The JDK's CookieManager
     * would not send Keycloak's Secure cookies back over plain HTTP, which a browser on localhost does.)
     */
    private static String consoleSignIn(PackagedApp app, KeycloakServer keycloak, String user, String password)
            throws Exception {
        HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
        Map<String, Map<String, String>> cookies = new HashMap<>();
        String console = app.url("/console/files").replace("127.0.0.1", "localhost");
        HttpResponse<String> first = browse(http, cookies, console, null);
        assertEquals(302, first.statusCode(), first.body());
        String authorize = first.headers().firstValue("Location").orElseThrow();
        assertTrue(authorize.startsWith(keycloak.issuer() + "/protocol/openid-connect/auth?"), authorize);
        HttpResponse<String> login = browse(http, cookies, authorize, null);
        java.util.regex.Matcher form = java.util.regex.Pattern.compile("<form[^>]*id=\"kc-form-login\"[^>]*action=\"([^\"]+)\"")
                .matcher(login.body());
        assertTrue(form.find(), login.body());
        HttpResponse<String> signedIn = browse(http, cookies, form.group(1).replace("&amp;", "&"),
                "username=" + user + "&password=" + password + "&credentialId=");
        assertEquals(302, signedIn.statusCode(), signedIn.body());
        String callback = signedIn.headers().firstValue("Location").orElseThrow();
        assertTrue(callback.startsWith(console + "?"), callback);
        HttpResponse<String> session = browse(http, cookies, callback, null);
        assertEquals(302, session.statusCode(), session.body());
        HttpResponse<String> files = browse(http, cookies, console, null);
        assertEquals(200, files.statusCode(), files.body());
        return files.body();
    }

    /** One request with the host's cookies (a form POST when {@code form} is given); keeps the cookies it sets. */
    private static HttpResponse<String> browse(HttpClient http, Map<String, Map<String, String>> cookies, String url,
            String form) throws Exception {
        URI uri = URI.create(url);
        Map<String, String> jar = cookies.computeIfAbsent(uri.getHost() + ":" + uri.getPort(), h -> new java.util.LinkedHashMap<>());
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20));
        if (!jar.isEmpty()) {
            request.header("Cookie", String.join("; ", jar.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()));
        }
        if (form != null) {
            request.header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form));
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        for (String set : response.headers().allValues("Set-Cookie")) {
            String pair = set.split(";", 2)[0];
            String name = pair.substring(0, pair.indexOf('=')).trim();
            String value = pair.substring(pair.indexOf('=') + 1).trim();
            if (value.isEmpty() || set.toLowerCase(java.util.Locale.ROOT).contains("max-age=0")) {
                jar.remove(name);
            } else {
                jar.put(name, value);
            }
        }
        return response;
    }

    /** acme's DELIVERED count in the summary, by a token allowed to see it; -1 while the tenant has no row yet. */
    private static int delivered(PackagedApp app, String token, String tenant) throws Exception {
        HttpResponse<String> r = get(app, "/api/files/summary?tenant=" + tenant, token);
        if (r.statusCode() != 200) {
            return -1;
        }
        JsonPath summary = JsonPath.from(r.body());
        List<Map<String, Object>> rows = summary.getList("");
        int delivered = 0;
        for (Map<String, Object> row : rows) {
            Map<?, ?> states = (Map<?, ?>) row.get("states");
            for (String before : List.of("DISCOVERED", "DOWNLOADED", "ARCHIVED", "VALIDATED")) {
                if (((Number) states.get(before)).intValue() > 0) {
                    return -1;
                }
            }
            delivered += ((Number) states.get("DELIVERED")).intValue();
        }
        return delivered;
    }

    private static HttpResponse<String> get(PackagedApp app, String path, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(app.url(path))).timeout(Duration.ofSeconds(10));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> claims(String jwt) {
        return JsonPath.from(new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), StandardCharsets.UTF_8))
                .getMap("");
    }
}
