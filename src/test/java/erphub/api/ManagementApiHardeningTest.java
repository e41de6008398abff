package erphub.api;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import erphub.testing.TestTokens;
import erphub.testing.ErpApiResource.ErpApi;
import erphub.testing.InjectTestServer;
import erphub.testing.OAuth2ServerResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import no.nav.security.mock.oauth2.MockOAuth2Server;

/**
 * The management API against what a careless or hostile client sends: every answer is application/problem+json
 * with the status that says what was wrong, and nothing is silently taken for something else. Runs on the
 * application of {@link ManagementApiTest} (same profile, no extra start), with a tenant of its own.
 */
@QuarkusTest
@TestProfile(ManagementApiTest.Api.class)
class ManagementApiHardeningTest {

    static final String TENANT = ManagementApiTest.HARDENING;
    static final String PUSH = "/api/tenants/" + TENANT + "/upstreams/payroll-exports/files";
    static final byte[] CSV = "employee_id;gross\n1;4200.00\n".getBytes(StandardCharsets.UTF_8);

    @InjectTestServer
    MockOAuth2Server oauth2;

    @InjectTestServer
    ErpApi erp;

    String token(String subject, Map<String, Object> claims, long expirySeconds) {
        return TestTokens.issue(oauth2, OAuth2ServerResource.ISSUER, subject, ManagementApiTest.AUDIENCE,
                claims, expirySeconds);
    }

    String admin() {
        return token("ops-bob", Map.of("groups", List.of(Caller.ADMIN)), 600);
    }

    String tenant() {
        return token(TENANT + "-integration", Map.of("groups", List.of(Caller.TENANT_ROLE), "tenant", TENANT), 600);
    }

    @ParameterizedTest(name = "GET {0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "/api/files?limit=abc                               | 400 | limit 'abc' is not a whole number",
            "/api/files?limit=0                                 | 400 | limit must be between 1 and 1000",
            "/api/files?limit=1001                              | 400 | limit must be between 1 and 1000",
            "/api/files?limit=-1                                | 400 | limit must be between 1 and 1000",
            "/api/files?limit=99999999999                       | 400 | is not a whole number",
            "/api/files?from=yesterday                          | 400 | from 'yesterday' is not an ISO-8601 instant",
            "/api/files?to=2026-13-45T00:00:00Z                 | 400 | to '2026-13-45T00:00:00Z' is not an ISO-8601 instant",
            "/api/files?from=2026-11-23                         | 400 | is not an ISO-8601 instant",
            "/api/files?state=EXPLODED                          | 400 | unknown state 'EXPLODED'",
            "/api/files?cursor=not-a-cursor!                    | 400 | is not one this API gave out",
            "/api/files?cursor=YWJj                             | 400 | is not one this API gave out",
            "/api/dead-letters?limit=abc                        | 400 | limit 'abc' is not a whole number",
            "/api/dead-letters?from=bad                         | 400 | from 'bad' is not an ISO-8601 instant",
            "/api/dead-letters?cursor=eHx5                      | 400 | is not one this API gave out",
            "/api/dead-letters?destination=ftp                  | 400 | destination 'ftp' is not one of",
            "/api/files/abc                                     | 404 | ",
            "/api/files/99999999999999999999                    | 404 | ",
            "/api/no-such-thing                                 | 404 | ",
    })
    void aBadQueryValueIsA400ProblemNamingTheParameter(String path, int status, String detail) {
        Response answer = given().auth().oauth2(admin()).get(path);
        answer.then().statusCode(status).contentType(Problems.TYPE).body("status", equalTo(status));
        if (detail != null) {
            answer.then().body("detail", containsString(detail));
        }
        assertFalse(answer.asString().contains("Exception") || answer.asString().contains("\tat "), answer.asString());
    }

    /** Requests a library would refuse to send: a broken percent-encoding, a target and headers over the limits. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "cursor of percent signs  | /api/files?cursor=%%%%        | 0     | 400 | not valid percent-encoding",
            "path of percent signs    | /api/files/%zz                | 0     | 400 | not valid percent-encoding",
            "a cut escape             | /api/files?name=a%4           | 0     | 400 | not valid percent-encoding",
            "8,000-character query    | /api/files?name=LONG          | 0     | 414 | at most 4096",
            "20 KB header             | /api/files                    | 20480 | 431 | at most 20480",
            "40 KB header             | /api/files                    | 40960 | 431 | at most 20480",
    })
    void whatNoLibraryWouldSendIsStillAProblemNotAnEmptyPage(String what, String target, int headerBytes, int status,
            String detail) throws Exception {
        String head = "GET " + target.replace("LONG", "x".repeat(8000)) + " HTTP/1.1\r\nHost: localhost\r\n"
                + "Authorization: Bearer " + admin() + "\r\n"
                + (headerBytes > 0 ? "X-Padding: " + "p".repeat(headerBytes) + "\r\n" : "");
        Raw answer = raw(head, new byte[0]);
        assertEquals(status, answer.status(), what + ": " + answer.body());
        assertEquals(Problems.TYPE, answer.header("content-type"), what + " " + answer.headers() + " " + answer.body());
        JsonPath problem = new JsonPath(answer.body());
        assertEquals(status, problem.getInt("status"));
        assertTrue(problem.getString("detail").contains(detail), problem.getString("detail"));
    }

    @ParameterizedTest(name = "POST /api/replays {0}")
    @ValueSource(strings = {
            "{\"fileId\": 1.5, \"comment\": \"x\"}",
            "{\"fileId\": \"42\", \"comment\": \"x\"}",
            "{\"fileId\": true, \"comment\": \"x\"}",
            "{\"fileId\": [1], \"comment\": \"x\"}",
            "{\"fileId\": 1e3, \"comment\": \"x\"}",
            "{\"fileId\": 99999999999999999999999, \"comment\": \"x\"}",
            "{\"filter\": {}, \"dryRun\": \"yes\", \"comment\": \"x\"}",
            "{\"filter\": {}, \"dryRun\": 1, \"comment\": \"x\"}",
            "{\"filter\": {}, \"cap\": 1.5, \"comment\": \"x\"}",
            "{\"filter\": {}, \"cap\": 0, \"comment\": \"x\"}",
            "{\"filter\": {}, \"cap\": 99999999999, \"comment\": \"x\"}",
            "{\"filter\": \"everything\", \"comment\": \"x\"}",
            "{\"filter\": {\"from\": \"last week\"}, \"comment\": \"x\"}",
            "{\"filter\": {\"destination\": \"ftp\"}, \"comment\": \"x\"}",
            "{\"filter\": {\"tenant\": \"" + ManagementApiTest.HARDENING + "\"}, \"dryrun\": true, \"comment\": \"x\"}",
            "{\"filter\": {}, \"fileId\": 1, \"comment\": \"x\"}",
            "{\"filter\": {}, \"comment\": \"x\"} {\"more\": 1}",
            "{\"fileId\":",
            "[]",
            "null",
            "",
    })
    void aReplayBodyOfTheWrongShapeIsA400ProblemAndReplaysNothing(String body) {
        Response answer = given().auth().oauth2(admin()).contentType("application/json").body(body).post("/api/replays");
        answer.then().statusCode(400).contentType(Problems.TYPE).body("status", equalTo(400)).body("detail",
                org.hamcrest.Matchers.notNullValue());
        assertFalse(answer.asString().contains("com.fasterxml") || answer.asString().contains("java.lang"),
                "no Java class names: " + answer.asString());
    }

    @Test
    void aReplayThatWouldTakeNothingSaysWhyAndRecordsNothing() {
        long file = push("replay-probe", "payroll-replay.csv").getLong("fileId");
        await().atMost(Duration.ofMinutes(1)).until(() -> "DELIVERED".equals(given().auth().oauth2(admin())
                .get("/api/files/" + file).jsonPath().getString("file.state")));
        int historyBefore = given().auth().oauth2(admin()).get("/api/files/" + file).jsonPath()
                .getList("deliveryHistory").size();

        given().auth().oauth2(admin()).contentType("application/json")
                .body(Map.of("fileId", file, "destination", "ftp", "comment", "x")).post("/api/replays").then()
                .statusCode(400).contentType(Problems.TYPE).body("detail", startsWith("destination 'ftp' is not one of"));
        given().auth().oauth2(admin()).contentType("application/json")
                .body(Map.of("fileId", file, "destination", "sftp", "comment", "x")).post("/api/replays").then()
                .statusCode(404).contentType(Problems.TYPE).body("detail", equalTo("file " + file + " has no delivery to sftp"));
        for (boolean dryRun : List.of(true, false)) {
            given().auth().oauth2(admin()).contentType("application/json")
                    .body(Map.of("fileId", file, "dryRun", dryRun, "comment", "the ERP lost it")).post("/api/replays").then()
                    .statusCode(409).contentType(Problems.TYPE)
                    .body("detail", equalTo("nothing to replay: no delivery of file " + file + " is dead (erp-api DELIVERED)"));
        }
        JsonPath none = given().auth().oauth2(admin()).contentType("application/json")
                .body(Map.of("filter", Map.of("tenant", TENANT), "comment", "sweep")).post("/api/replays").then()
                .statusCode(200).extract().jsonPath();
        assertEquals(0, none.getInt("count"));
        assertNull(none.getString("recordedAs"), "a replay that took nothing recorded nothing");
        assertEquals(historyBefore, given().auth().oauth2(admin()).get("/api/files/" + file).jsonPath()
                .getList("deliveryHistory").size(), "the ledger has no replay line for the delivered file");
    }

    /** X-File-Name as clients send a name beyond ASCII; the ledger and the ERP get the name itself. */
    @ParameterizedTest(name = "X-File-Name {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "Gehaltsabrechnung%20M%C3%A4rz.csv              | Gehaltsabrechnung März.csv",
            "UTF-8''%E7%B5%A6%E4%B8%8E%E6%98%8E%E7%B4%B0.csv | 給与明細.csv",
            "RAW:nómina-ñ.csv                              | nómina-ñ.csv",
    })
    void aUtf8FileNameArrivesIntact(String header, String name) throws Exception {
        String key = "utf8-" + Integer.toHexString(name.hashCode());
        long fileId;
        if (header.startsWith("RAW:")) {
            // The name's UTF-8 bytes as they are, as most HTTP clients send a non-ASCII header.
            String head = "POST " + PUSH + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + tenant() + "\r\n"
                    + "Idempotency-Key: " + key + "\r\nContent-Type: application/octet-stream\r\nContent-Length: "
                    + CSV.length + "\r\nX-File-Name: ";
            Raw answer = raw(head, header.substring(4).getBytes(StandardCharsets.UTF_8), "\r\n", CSV);
            assertEquals(202, answer.status(), answer.body());
            fileId = new JsonPath(answer.body()).getLong("fileId");
        } else {
            fileId = push(key, header).getLong("fileId");
        }
        assertEquals(name, given().auth().oauth2(tenant()).get("/api/files/" + fileId).jsonPath().getString("file.fileName"));
        await().atMost(Duration.ofMinutes(1)).until(() -> erp.accepted().stream().anyMatch(r -> name.equals(r.fileName())));
    }

    @ParameterizedTest(name = "X-File-Name {0}")
    @ValueSource(strings = { "%C2%85payroll.csv", "invoice%E2%80%AEvsc.exe.csv", "UTF-8''%E2%81%A6isolate.csv",
            "mark%E2%80%8F.csv", "%2e%2e", "a%2Fb.csv", "%00.csv", "bad%ZZ.csv", "100%.csv", "%C3%28.csv",
            "ISO-8859-1''caf%E9.csv", "LONG.csv" })
    void anUnsafeOrUndecodableFileNameIsA400AndNoFile(String value) {
        String header = value.replace("LONG", "x".repeat(300));
        given().auth().oauth2(tenant()).header("Idempotency-Key", "unsafe-" + Integer.toHexString(header.hashCode()))
                .header("X-File-Name", header).contentType("application/octet-stream").body(CSV).post(PUSH).then()
                .statusCode(400).contentType(Problems.TYPE).body("detail", org.hamcrest.Matchers.anyOf(
                        startsWith("unsafe file name"), startsWith("X-File-Name")));
        assertEquals(0, given().auth().oauth2(admin()).get("/api/files?tenant=" + TENANT + "&limit=1000").jsonPath()
                .getList("items.remoteId").stream().filter(id -> String.valueOf(id).startsWith("unsafe-")).count());
    }

    @Test
    void aTokenIssuedInTheFutureOrOlderThanTheMaximumAgeIsRefused() {
        long now = Instant.now().getEpochSecond();
        String future = token("time-traveller", Map.of("groups", List.of(Caller.ADMIN), "iat", now + 3600), 7200);
        given().auth().oauth2(future).get("/api/files").then().statusCode(401).contentType(Problems.TYPE);
        // Within the clock skew (30 s) is fine: clocks differ a little.
        String slightlyAhead = token("ntp-drift", Map.of("groups", List.of(Caller.ADMIN), "iat", now + 10), 600);
        given().auth().oauth2(slightlyAhead).get("/api/files").then().statusCode(200);
        // Issued two days ago and still unexpired: older than mp.jwt.verify.token.age (a day).
        String old = token("old-timer", Map.of("groups", List.of(Caller.ADMIN), "iat", now - 2 * 86400), 600);
        given().auth().oauth2(old).get("/api/files").then().statusCode(401).contentType(Problems.TYPE);
    }

    @Test
    void healthDetailsAreForOperatorsBehindTheApiNotForStrangers() {
        // The hardening tenant's upstream lists nothing it knows (no stub): its polls fail, visibly to operators only.
        await().atMost(Duration.ofSeconds(30)).until(() -> given().auth().oauth2(admin()).get("/api/health").then()
                .extract().asString().contains("poll payroll-exports/" + TENANT));
        JsonPath details = given().auth().oauth2(admin()).get("/api/health").then().statusCode(200).extract().jsonPath();
        assertEquals("DOWN", details.getString("find { it.name == 'erphub-upstreams' }.status"));
        assertTrue(details.getString("find { it.name == 'erphub-upstreams' }.data.'poll payroll-exports/" + TENANT + "'")
                .startsWith("DOWN"), details.prettify());
        assertTrue(details.getString("find { it.name == 'erphub-upstreams' }.data").contains("token endpoint http"),
                details.prettify());
        given().auth().oauth2(tenant()).get("/api/health").then().statusCode(403).contentType(Problems.TYPE);
        given().get("/api/health").then().statusCode(401).contentType(Problems.TYPE);
        for (String open : List.of("/q/health", "/q/health/well")) {
            String body = RestAssured.get(open).asString();
            for (String detail : List.of(TENANT, "acme", "http", "127.0.0.1", "target/", "credential", "poll ")) {
                assertFalse(body.contains(detail), open + " tells strangers '" + detail + "': " + body);
            }
            assertTrue(body.contains("erphub-upstreams") && body.contains("erphub-tenant-registry"), body);
        }
    }

    private JsonPath push(String key, String fileNameHeader) {
        return given().auth().oauth2(tenant()).header("Idempotency-Key", key).header("X-File-Name", fileNameHeader)
                .contentType("application/octet-stream").body(CSV).post(PUSH).then().statusCode(202).extract().jsonPath();
    }

    /** An HTTP answer read off the socket. */
    record Raw(int status, Map<String, String> headers, String body) {
        String header(String name) {
            return headers.get(name);
        }
    }

    /** Sends a request as bytes (header lines in ISO-8859-1, then the given byte parts) and reads the whole answer. */
    static Raw raw(String head, byte[] body) throws Exception {
        return raw(head, new byte[0], "\r\n", body);
    }

    static Raw raw(String head, byte[] headerValueBytes, String endOfHeaderLine, byte[] body) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", RestAssured.port)) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            out.write(headerValueBytes);
            out.write(((headerValueBytes.length > 0 ? endOfHeaderLine : "") + "Connection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.write(body);
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            String text = all.toString(StandardCharsets.UTF_8);
            int split = text.indexOf("\r\n\r\n");
            String[] lines = text.substring(0, split).split("\r\n");
            Map<String, String> headers = new java.util.HashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(), lines[i].substring(colon + 1).trim());
            }
            String payload = text.substring(split + 4);
            if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                StringBuilder joined = new StringBuilder();
                int at = 0;
                while (true) {
                    int eol = payload.indexOf("\r\n", at);
                    int size = Integer.parseInt(payload.substring(at, eol).trim(), 16);
                    if (size == 0) {
                        break;
                    }
                    joined.append(payload, eol + 2, eol + 2 + size);
                    at = eol + 2 + size + 2;
                }
                payload = joined.toString();
            }
            return new Raw(Integer.parseInt(lines[0].split(" ")[1]), headers, payload);
        }
    }

    static String b64(String text) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }
}
