package erphub.api;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jakarta.inject.Inject;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import erphub.state.FileState;
import erphub.state.StateDataSource;
import erphub.testing.TestTokens;
import erphub.testing.OnEveryDatabase;
import erphub.testing.ErpApiResource;
import erphub.testing.ErpApiResource.ErpApi;
import erphub.testing.ExampleUpstreams;
import erphub.testing.ExampleUpstreams.RemoteFile;
import erphub.testing.InjectTestServer;
import erphub.testing.KafkaBrokerResource;
import erphub.testing.OAuth2ServerResource;
import erphub.testing.SftpServerResource;
import erphub.testing.TestTenants;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import no.nav.security.mock.oauth2.MockOAuth2Server;

/**
 * The management API as a client meets it: real signed JWTs from an OAuth2 server on 127.0.0.1, the real
 * pipeline (WireMock upstream, HTTP ERP API) and the ledger on H2 ({@link ManagementApiOnPostgresTest}: PostgreSQL).
 */
@QuarkusTest
@TestProfile(ManagementApiTest.Api.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ManagementApiTest {

    static final List<String> TENANTS = List.of("acme", "globex");
    static final String AUDIENCE = "erphub-api";
    /** The tenant ManagementApiHardeningTest (same application) pushes its files for; left out of this class's counts. */
    static final String HARDENING = "hardening";

    public static class Api implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            TestTenants registry = ExampleUpstreams.registry(TENANTS);
            TENANTS.forEach(t -> registry.client(t + "-erp", "erp-secret-" + t));
            // A tenant whose files may not exceed 10 bytes, for the push size limit.
            registry.entry("- id: tiny\n  upstreams: {payroll-exports: }\n  limits: {maxFileSize: 10}")
                    .client("tiny-payroll", "secret-payroll-tiny").client("tiny-erp", "erp-secret-tiny");
            registry.entry("- id: dormant\n  enabled: false\n  upstreams: {payroll-exports: }")
                    .client("dormant-payroll", "secret-payroll-dormant").client("dormant-erp", "erp-secret-dormant");
            registry.entry("- id: " + HARDENING + "\n  upstreams: {payroll-exports: }")
                    .client(HARDENING + "-payroll", "secret-payroll-" + HARDENING).client(HARDENING + "-erp", "erp-secret-hardening");
            // RegistrationsTest's tenants (same application): files pushed for them only.
            RegistrationsTest.TENANTS.forEach(t -> registry.entry("- id: " + t + "\n  upstreams: {payroll-exports: }")
                    .client(t + "-payroll", "secret-payroll-" + t).client(t + "-erp", "erp-secret-" + t));
            Map<String, String> config = new HashMap<>(ExampleUpstreams.tenantConfig(registry, "api-" + getClass().getSimpleName()));
            config.putAll(RegistrationsTest.SETTINGS);
            // RegistrationsTest's SFTP and Kafka registrants: the tenant's SFTP folder, a topic on the broker.
            config.putAll(SftpServerResource.asDestination());
            config.put("erphub.destinations.kafka.uri", "kafka:erphub.files?brokers={{test.kafka.bootstrap-servers}}");
            config.put("erphub.upstreams.payroll-exports.destinations", "erp-api");
            config.put("erphub.destinations.erp-api.token-url", "${test.oauth2.token-url}");
            config.put("erphub.destinations.erp-api.max-redeliveries", "2");
            config.put("erphub.destinations.erp-api.redelivery-delay", "50");
            config.put("erphub.destinations.erp-api.max-redelivery-delay", "100");
            config.put("erphub.archive.uri", "file:target/test-data/archive-api-" + getClass().getSimpleName() + "?tempPrefix=.part-");
            config.put("mp.jwt.verify.publickey.location", "${test.oauth2.jwks-url}");
            config.put("mp.jwt.verify.issuer", "${test.oauth2.issuer}");
            // Quarkus's test-mode key pair for smallrye-jwt would take precedence over the issuer's JWKS.
            config.put("mp.jwt.verify.publickey", "NONE");
            return config;
        }

        @Override
        public List<TestResourceEntry> testResources() {
            List<TestResourceEntry> servers = new ArrayList<>(ExampleUpstreams.servers());
            servers.add(new TestResourceEntry(ErpApiResource.class, Map.of("erphub.destinations.erp-api.base-url", "")));
            servers.add(new TestResourceEntry(SftpServerResource.class));
            servers.add(new TestResourceEntry(KafkaBrokerResource.class, Map.of(), true));
            return servers;
        }
    }

    @InjectTestServer
    WireMockServer upstream;

    @InjectTestServer
    MockOAuth2Server oauth2;

    @InjectTestServer
    ErpApi erp;

    @Inject
    StateDataSource db;

    static List<RemoteFile> deadFiles;

    String token(String subject, Map<String, Object> claims) {
        return TestTokens.issue(oauth2, OAuth2ServerResource.ISSUER, subject, AUDIENCE, claims, 600);
    }

    String admin() {
        return token("ops-alice", Map.of("groups", List.of(Caller.ADMIN)));
    }

    String tenant(String tenant) {
        return token(tenant + "-integration", Map.of("groups", List.of(Caller.TENANT_ROLE), "tenant", tenant));
    }

    static Response get(String token, String path) {
        return given().auth().oauth2(token).get(path);
    }

    @OnEveryDatabase
    @Test
    @Order(1)
    void deliveriesToADownErpApiEndDead() {
        erp.down(true);
        deadFiles = new ExampleUpstreams(upstream).serveMorePayroll(TENANTS, "api", 4);
        await().atMost(Duration.ofMinutes(2)).until(() -> deadFiles.stream().allMatch(f ->
                FileState.DEAD_LETTERED.name().equals(fileState(f))));
    }

    @Test
    @Order(2)
    void everyBadTokenIs401AndAValidTokenWithoutTheRoleIs403() throws Exception {
        String valid = tenant("acme");
        assertEquals(200, get(valid, "/api/files").statusCode());

        given().get("/api/files").then().statusCode(401).contentType(Problems.TYPE).body("status", equalTo(401))
                .body("title", equalTo("Unauthorized"));
        String expired = oauth2.issueToken(OAuth2ServerResource.ISSUER, "late", AUDIENCE,
                Map.of("groups", List.of(Caller.ADMIN)), -300).serialize();
        assertEquals(401, get(expired, "/api/files").statusCode(), "expired");
        String otherIssuer = oauth2.issueToken("someone-else", "x", AUDIENCE, Map.of("groups", List.of(Caller.ADMIN)), 600)
                .serialize();
        assertEquals(401, get(otherIssuer, "/api/files").statusCode(), "wrong issuer");
        String otherAudience = oauth2.issueToken(OAuth2ServerResource.ISSUER, "x", "another-api",
                Map.of("groups", List.of(Caller.ADMIN)), 600).serialize();
        assertEquals(401, get(otherAudience, "/api/files").statusCode(), "wrong audience");

        String[] parts = admin().split("\\.");
        String none = b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + parts[1] + ".";
        assertEquals(401, get(none, "/api/files").statusCode(), "alg none");
        String payload = new String(Base64.getUrlDecoder().decode(tenant("acme").split("\\.")[1]), StandardCharsets.UTF_8);
        String tampered = tenant("acme").split("\\.")[0] + "." + b64(payload.replace("\"acme\"", "\"globex\"")) + "."
                + tenant("acme").split("\\.")[2];
        assertEquals(401, get(tampered, "/api/files").statusCode(), "tampered");

        // HMAC signed with the issuer's public key as the secret: the classic algorithm confusion.
        RSAKey publicKey = (RSAKey) JWKSet.load(new java.net.URL(oauth2.jwksUrl(OAuth2ServerResource.ISSUER).toString()))
                .getKeys().get(0);
        SignedJWT confused = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), new JWTClaimsSet.Builder()
                .issuer(oauth2.issuerUrl(OAuth2ServerResource.ISSUER).toString()).audience(AUDIENCE).subject("mallory")
                .expirationTime(java.util.Date.from(Instant.now().plusSeconds(600))).claim("groups", List.of(Caller.ADMIN))
                .build());
        confused.sign(new MACSigner(publicKey.toRSAPublicKey().getEncoded()));
        assertEquals(401, get(confused.serialize(), "/api/files").statusCode(), "HMAC with the public key");

        String noRole = token("bob", Map.of("groups", List.of("someone")));
        get(noRole, "/api/files").then().statusCode(403).contentType(Problems.TYPE).body("status", equalTo(403));
        String tenantRoleWithoutTenant = token("carol", Map.of("groups", List.of(Caller.TENANT_ROLE)));
        assertEquals(403, get(tenantRoleWithoutTenant, "/api/files").statusCode());
    }

    @OnEveryDatabase
    @Test
    @Order(3)
    void aTenantSeesOnlyItsOwnFilesAndAnotherTenantsFileIs404() {
        JsonPath acme = get(tenant("acme"), "/api/files?limit=1000").then().statusCode(200).extract().jsonPath();
        List<String> tenantsSeen = acme.getList("items.tenant");
        assertFalse(tenantsSeen.isEmpty());
        assertTrue(tenantsSeen.stream().allMatch("acme"::equals), tenantsSeen.toString());
        List<String> all = new ArrayList<>(get(admin(), "/api/files?limit=1000").then().statusCode(200).extract().jsonPath()
                .getList("items.tenant"));
        all.removeIf(t -> t.equals(HARDENING) || RegistrationsTest.TENANTS.contains(t));
        assertEquals(Set.of("acme", "globex"), new HashSet<>(all), "tiny has no files yet");

        // The summary: counts by state for each tenant and upstream, every state named, the tenant's own only.
        JsonPath summary = get(admin(), "/api/files/summary?upstream=payroll-exports").then().statusCode(200)
                .extract().jsonPath();
        for (String t : TENANTS) {
            Map<String, Object> row = summary.getMap("find { it.tenant == '" + t + "' }");
            assertEquals("payroll-exports", row.get("upstream"), summary.prettify());
            @SuppressWarnings("unchecked")
            Map<String, Integer> states = (Map<String, Integer>) row.get("states");
            assertEquals(java.util.Arrays.stream(erphub.state.FileState.values()).map(Enum::name).toList(),
                    List.copyOf(states.keySet()), "every state, in lifecycle order");
            int listed = get(admin(), "/api/files?tenant=" + t + "&upstream=payroll-exports&limit=1000").jsonPath()
                    .getList("items").size();
            assertEquals(listed, ((Number) row.get("total")).intValue(), t);
            assertEquals(listed, states.values().stream().mapToInt(Integer::intValue).sum(), t);
        }
        assertEquals(List.of("acme"), get(tenant("acme"), "/api/files/summary").jsonPath().getList("tenant").stream()
                .distinct().toList());
        assertEquals(404, get(tenant("acme"), "/api/files/summary?tenant=globex").statusCode());
        assertEquals(List.of(), get(admin(), "/api/files/summary?tenant=nobody").jsonPath().getList("$"));

        long globexFile = get(admin(), "/api/files?tenant=globex&limit=1").jsonPath().getLong("items[0].id");
        get(tenant("acme"), "/api/files/" + globexFile).then().statusCode(404).contentType(Problems.TYPE)
                .body("detail", equalTo("file " + globexFile + " not found"));
        assertEquals(404, get(tenant("acme"), "/api/files?tenant=globex").statusCode());
        get(tenant("globex"), "/api/files/" + globexFile).then().statusCode(200).body("file.tenant", equalTo("globex"));
        get(tenant("acme"), "/api/tenants").then().statusCode(200).body("size()", equalTo(1)).body("[0].id", equalTo("acme"));
        get(admin(), "/api/upstreams").then().statusCode(200).body("find { it.id == 'payroll-exports' }.routeStatus",
                equalTo("Started")).body("find { it.id == 'payroll-exports' }.tenants", equalTo(4 + RegistrationsTest.TENANTS.size()));
        String body = get(admin(), "/api/files/999999999").then().statusCode(404).extract().asString();
        assertFalse(body.contains("Exception") || body.contains("\tat "), body);
    }

    @OnEveryDatabase
    @Test
    @Order(4)
    void aDeadDeliveryIsReplayedThroughTheApiAndTheDryRunListedExactlyThat() {
        String acme = tenant("acme");
        JsonPath dead = get(acme, "/api/dead-letters?destination=erp-api").then().statusCode(200).extract().jsonPath();
        assertEquals(4, dead.getList("items").size(), "acme's four dead deliveries, not globex's");
        assertTrue(dead.getString("items[0].lastError").contains("503"), dead.prettify());

        Map<String, Object> filter = Map.of("filter", Map.of("destination", "erp-api"), "cap", 50,
                "comment", "ERP maintenance window over (ticket OPS-42)");
        given().auth().oauth2(acme).contentType("application/json").body(Map.of("filter", Map.of(), "dryRun", true))
                .post("/api/replays").then().statusCode(400).contentType(Problems.TYPE);
        Map<String, Object> dryRun = new HashMap<>(filter);
        dryRun.put("dryRun", true);
        JsonPath wouldBe = given().auth().oauth2(acme).contentType("application/json").body(dryRun).post("/api/replays")
                .then().statusCode(200).extract().jsonPath();
        assertTrue(wouldBe.getBoolean("dryRun"));
        assertEquals(4, wouldBe.getInt("count"));

        erp.down(false);
        JsonPath done = given().auth().oauth2(acme).contentType("application/json").body(filter).post("/api/replays")
                .then().statusCode(200).extract().jsonPath();
        assertEquals(wouldBe.getList("deliveries"), done.getList("deliveries"), "the dry run listed exactly what was replayed");
        List<RemoteFile> acmeFiles = deadFiles.stream().filter(f -> f.tenant().equals("acme")).toList();
        await().atMost(Duration.ofMinutes(1)).until(() -> acmeFiles.stream().allMatch(f ->
                FileState.DELIVERED.name().equals(fileState(f))));
        long fileId = done.getLong("deliveries[0].fileId");
        JsonPath history = get(acme, "/api/files/" + fileId).jsonPath();
        assertTrue(history.getList("deliveryHistory.detail").stream().anyMatch(d -> String.valueOf(d)
                .equals("replayed by acme-integration: ERP maintenance window over (ticket OPS-42)")), history.prettify());
        assertEquals("DELIVERED", history.getString("file.state"));
        assertEquals(4, get(admin(), "/api/dead-letters?tenant=globex").jsonPath().getList("items").size(),
                "globex's dead letters were not touched by acme's replay");
        long globexFile = get(admin(), "/api/dead-letters?tenant=globex").jsonPath().getLong("items[0].fileId");
        given().auth().oauth2(admin()).contentType("application/json").body(Map.of("comment", "try again"))
                .post("/api/files/" + globexFile + "/reprocess").then().statusCode(409)
                .body("detail", org.hamcrest.Matchers.containsString("replay its dead deliveries"));
        given().auth().oauth2(acme).contentType("application/json").body(Map.of("comment", "try again"))
                .post("/api/files/" + fileId + "/reprocess").then().statusCode(409)
                .body("detail", org.hamcrest.Matchers.endsWith("is not REJECTED or DEAD_LETTERED"));
        JsonPath oneFile = given().auth().oauth2(admin()).contentType("application/json")
                .body(Map.of("fileId", globexFile, "dryRun", true, "comment", "look first")).post("/api/replays")
                .then().statusCode(200).extract().jsonPath();
        assertEquals(List.of(Map.of("fileId", (int) globexFile, "destination", "erp-api")), oneFile.getList("deliveries"));
        given().auth().oauth2(admin()).contentType("application/json")
                .body(Map.of("fileId", globexFile, "destination", "sftp", "dryRun", true, "comment", "look first"))
                .post("/api/replays").then().statusCode(404).contentType(Problems.TYPE)
                .body("detail", equalTo("file " + globexFile + " has no delivery to sftp"));
        given().auth().oauth2(acme).contentType("application/json")
                .body(Map.of("fileId", globexFile, "comment", "not mine")).post("/api/replays").then().statusCode(404);
    }

    @OnEveryDatabase
    @Test
    @Order(5)
    void aPushedFileReachesItsDestinationsOnceEvenWhenPushedTwice() throws Exception {
        byte[] content = "employee_id;gross\n1;4200.00\n".getBytes(StandardCharsets.UTF_8);
        String acme = tenant("acme");
        JsonPath first = given().auth().oauth2(acme).header("Idempotency-Key", "hr-run-2026-11-23")
                .header("X-File-Name", "payroll-pushed.csv").contentType("application/octet-stream").body(content)
                .post("/api/tenants/acme/upstreams/payroll-exports/files").then().statusCode(202).extract().jsonPath();
        long fileId = first.getLong("fileId");
        assertFalse(first.getBoolean("duplicate"));
        await().atMost(Duration.ofMinutes(1)).until(() -> "DELIVERED".equals(get(acme, "/api/files/" + fileId)
                .jsonPath().getString("file.state")));
        JsonPath again = given().auth().oauth2(acme).header("Idempotency-Key", "hr-run-2026-11-23")
                .header("X-File-Name", "payroll-pushed.csv").contentType("application/octet-stream").body(content)
                .post("/api/tenants/acme/upstreams/payroll-exports/files").then().statusCode(200).extract().jsonPath();
        assertTrue(again.getBoolean("duplicate"));
        assertEquals(fileId, again.getLong("fileId"));
        assertEquals(1, erp.accepted().stream().filter(r -> "payroll-pushed.csv".equals(r.fileName())).count(),
                "the ERP received the pushed file once");
        assertEquals(ExampleUpstreams.hex("SHA-256", content), erp.accepted().stream()
                .filter(r -> "payroll-pushed.csv".equals(r.fileName())).findFirst().orElseThrow().sha256());
        JsonPath detail = get(acme, "/api/files/" + fileId).jsonPath();
        assertTrue(detail.getList("history.detail").stream().anyMatch(d -> String.valueOf(d).contains("pushed by acme-integration")),
                detail.prettify());

        // The ledger's checksum of a pushed file is the SHA-256 of its bytes, as for a downloaded one.
        assertEquals(ExampleUpstreams.hex("SHA-256", content), detail.getString("file.checksum"));

        // The same key with other bytes is refused (IETF Idempotency-Key draft): the first file stays as it was.
        byte[] other = "employee_id;gross\n1;9999.00\n".getBytes(StandardCharsets.UTF_8);
        given().auth().oauth2(acme).header("Idempotency-Key", "hr-run-2026-11-23").header("X-File-Name", "payroll-pushed.csv")
                .contentType("application/octet-stream").body(other)
                .post("/api/tenants/acme/upstreams/payroll-exports/files").then().statusCode(422)
                .contentType(Problems.TYPE).body("detail", org.hamcrest.Matchers.containsString("was used for other content"));
        assertEquals(ExampleUpstreams.hex("SHA-256", content), get(acme, "/api/files/" + fileId).jsonPath()
                .getString("file.checksum"));
        assertEquals(1, erp.accepted().stream().filter(r -> "payroll-pushed.csv".equals(r.fileName())).count());

        given().auth().oauth2(tenant("tiny")).header("Idempotency-Key", "too-big").header("X-File-Name", "big.csv")
                .body(content).post("/api/tenants/tiny/upstreams/payroll-exports/files").then().statusCode(413)
                .contentType(Problems.TYPE).body("detail", startsWith("file of " + content.length + " bytes is over the limit of 10"));
        // Chunked, so no Content-Length to refuse early: stopped at the limit while streaming, 413, and no half-written
        // file is left in the archive.
        java.net.http.HttpResponse<String> chunked = pushChunked(tenant("tiny"), "tiny", "too-big-chunked", content);
        assertEquals(413, chunked.statusCode(), chunked.body());
        assertTrue(chunked.body().contains("over the limit of 10"), chunked.body());
        // The archive folder is named after the test profile (see Api.getConfigOverrides).
        try (var walk = java.nio.file.Files.walk(java.nio.file.Path.of("target/test-data/archive-api-"
                + getClass().getAnnotation(io.quarkus.test.junit.TestProfile.class).value().getSimpleName()))) {
            assertEquals(List.of(), walk.filter(f -> f.getFileName().toString().startsWith(".part-")).toList());
        }
        // A disabled tenant cannot push: it says so, rather than "not subscribed".
        given().auth().oauth2(tenant("dormant")).header("Idempotency-Key", "k").header("X-File-Name", "a.csv")
                .body(content).post("/api/tenants/dormant/upstreams/payroll-exports/files").then().statusCode(409)
                .contentType(Problems.TYPE).body("detail", org.hamcrest.Matchers.containsString("disabled"));
        given().auth().oauth2(tenant("globex")).header("Idempotency-Key", "x").header("X-File-Name", "a.csv")
                .body(content).post("/api/tenants/acme/upstreams/payroll-exports/files").then().statusCode(404);
        given().auth().oauth2(acme).header("X-File-Name", "a.csv").body(content)
                .post("/api/tenants/acme/upstreams/payroll-exports/files").then().statusCode(400)
                .body("detail", startsWith("an Idempotency-Key header"));
        given().auth().oauth2(acme).header("Idempotency-Key", "evil").header("X-File-Name", "../../etc/passwd").body(content)
                .post("/api/tenants/acme/upstreams/payroll-exports/files").then().statusCode(400);
    }

    /** A push without Content-Length (chunked transfer), the way a streaming client sends a file of unknown size. */
    private static java.net.http.HttpResponse<String> pushChunked(String token, String tenant, String key, byte[] content)
            throws Exception {
        java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                "http://localhost:" + io.restassured.RestAssured.port + "/api/tenants/" + tenant
                        + "/upstreams/payroll-exports/files"))
                .header("Authorization", "Bearer " + token).header("Idempotency-Key", key).header("X-File-Name", "c.csv")
                .header("Content-Type", "application/octet-stream")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(content)))
                .build();
        return java.net.http.HttpClient.newHttpClient().send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
    }

    @OnEveryDatabase
    @Test
    @Order(6)
    void pagingThrough10000LedgerRowsReturnsEachOnceInOrderWithStableCursors() throws Exception {
        Timestamp now = Timestamp.from(Instant.now());
        try (Connection c = db.connection(); PreparedStatement insert = c.prepareStatement("INSERT INTO file_version"
                + " (tenant, upstream, remote_id, version, file_name, state, attempt, created_at, updated_at)"
                + " VALUES ('bulk', 'payroll-exports', ?, '1', ?, 'ARCHIVED', 1, ?, ?)")) {
            for (int i = 0; i < 10_000; i++) {
                insert.setString(1, "bulk-" + i);
                insert.setString(2, "bulk-" + i + ".csv");
                insert.setTimestamp(3, now);
                insert.setTimestamp(4, now);
                insert.addBatch();
            }
            insert.executeBatch();
        }
        String admin = admin();
        List<Long> seen = new ArrayList<>();
        String cursor = null;
        String secondCursor = null;
        List<Long> secondPage = null;
        int pages = 0;
        List<Long> nanos = new ArrayList<>();
        do {
            long started = System.nanoTime();
            JsonPath page = get(admin, "/api/files?tenant=bulk&limit=700" + (cursor == null ? "" : "&cursor=" + cursor))
                    .then().statusCode(200).extract().jsonPath();
            nanos.add(System.nanoTime() - started);
            List<Long> ids = page.getList("items.id", Long.class);
            if (pages == 1) {
                secondCursor = cursor;
                secondPage = ids;
            }
            seen.addAll(ids);
            cursor = page.getString("next");
            pages++;
            if (pages == 5) {
                // Rows added while paging come after, never in between or twice.
                try (Connection c = db.connection(); PreparedStatement insert = c.prepareStatement("INSERT INTO file_version"
                        + " (tenant, upstream, remote_id, version, file_name, state, attempt, created_at, updated_at)"
                        + " VALUES ('bulk', 'payroll-exports', 'late-row', '1', 'late.csv', 'ARCHIVED', 1, ?, ?)")) {
                    insert.setTimestamp(1, now);
                    insert.setTimestamp(2, now);
                    insert.executeUpdate();
                }
            }
        } while (cursor != null);
        assertEquals(10_001, seen.size());
        assertEquals(10_001, new HashSet<>(seen).size(), "each row once");
        // Keyset paging (the console's pages are these calls): a deep page costs what the second does. A figure,
        // not an assertion (shared machines); the first page also warms up the connection and the JIT.
        System.out.printf("paging 10,001 ledger rows in %d pages of 700: page 2 %.1f ms, page %d (the last full one)"
                + " %.1f ms, ratio %.2f%n", pages, nanos.get(1) / 1e6, pages - 1, nanos.get(pages - 2) / 1e6,
                (double) nanos.get(pages - 2) / nanos.get(1));
        List<Long> sorted = new ArrayList<>(seen);
        sorted.sort(null);
        assertEquals(sorted, seen, "in order");
        assertEquals(secondPage, get(admin, "/api/files?tenant=bulk&limit=700&cursor=" + secondCursor).jsonPath()
                .getList("items.id", Long.class), "a cursor gives the same page again");
        assertNull(get(admin, "/api/files?tenant=nobody").jsonPath().getString("next"));
        get(admin, "/api/files?cursor=not-a-cursor!").then().statusCode(400).contentType(Problems.TYPE);
    }

    @Test
    @Order(7)
    void openApiDescribesEveryEndpointWithItsSchemas() {
        JsonPath spec = given().accept("application/json").get("/q/openapi").then().statusCode(200).extract().jsonPath();
        Map<String, Object> paths = spec.getMap("paths");
        for (String path : List.of("/api/files", "/api/files/{id}", "/api/dead-letters", "/api/replays",
                "/api/tenants/{tenant}/upstreams/{upstream}/files", "/api/tenants", "/api/upstreams")) {
            assertTrue(paths.containsKey(path), path + " in " + paths.keySet());
        }
        Map<String, Object> schemas = spec.getMap("components.schemas");
        for (String schema : List.of("FileView", "FileDetail", "DeadLetterView", "ReplayRequest", "ReplayView", "PushView",
                "TenantView", "UpstreamView")) {
            assertTrue(schemas.containsKey(schema), schema + " in " + schemas.keySet());
        }
        assertTrue(spec.getMap("components.securitySchemes").size() > 0, "the bearer scheme is declared");
    }

    /** The archived bytes, streamed to an admin as an attachment; a tenant's token (even the file's own) is 403. */
    @Test
    @Order(8)
    void anAdminDownloadsAFilesArchivedBytesAndNobodyElseCan() throws Exception {
        RemoteFile f = deadFiles.get(0);
        long id = get(admin(), "/api/files?tenant=" + f.tenant() + "&upstream=" + f.upstream() + "&name=" + f.name())
                .jsonPath().getLong("items[0].id");
        io.restassured.response.Response download = get(admin(), "/api/files/" + id + "/content");
        download.then().statusCode(200).contentType("application/octet-stream")
                .header("Content-Disposition", org.hamcrest.Matchers.containsString("filename=\"" + f.name() + "\""))
                .header("X-Content-Type-Options", "nosniff");
        org.junit.jupiter.api.Assertions.assertArrayEquals(f.content(), download.asByteArray(), "byte for byte");

        assertEquals(403, get(tenant(f.tenant()), "/api/files/" + id + "/content").statusCode(), "tenants: no");
        assertEquals(401, given().get("/api/files/" + id + "/content").statusCode());
        assertEquals(404, get(admin(), "/api/files/987654321/content").statusCode());
        // A file rejected before it was archived has no bytes to give.
        long rejected;
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement("INSERT INTO file_version"
                + " (tenant, upstream, remote_id, version, file_name, state, attempt, reason, created_at, updated_at)"
                + " VALUES ('acme', 'payroll-exports', 'never-archived', '1', 'x.csv', 'REJECTED', 1, 'test', ?, ?)",
                java.sql.Statement.RETURN_GENERATED_KEYS)) {
            Timestamp now = Timestamp.from(Instant.now().minus(Duration.ofDays(1)));
            ps.setTimestamp(1, now);
            ps.setTimestamp(2, now);
            ps.executeUpdate();
            try (java.sql.ResultSet keys = ps.getGeneratedKeys()) {
                keys.next();
                rejected = keys.getLong(1);
            }
        }
        get(admin(), "/api/files/" + rejected + "/content").then().statusCode(404).contentType(Problems.TYPE)
                .body("detail", org.hamcrest.Matchers.containsString("no archived bytes"));
    }

    private String fileState(RemoteFile f) {
        return get(admin(), "/api/files?tenant=" + f.tenant() + "&upstream=" + f.upstream() + "&name=" + f.name())
                .jsonPath().getString("items[0].state");
    }

    private static String b64(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }
}
