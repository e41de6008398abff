package erphub.api;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import erphub.testing.InjectTestServer;
import erphub.testing.OAuth2ServerResource;
import erphub.testing.OnEveryDatabase;
import erphub.testing.WebhookReceiver;
import erphub.testing.WebhookReceiver.Call;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import no.nav.security.mock.oauth2.MockOAuth2Server;

/**
 * Registrations as a consumer meets them: made through the API with real tokens, fed by files pushed through the
 * real pipeline (ERP API delivery, events), and delivered as signed, debounced batches to a webhook receiver on
 * 127.0.0.1 that checks every call as the Standard Webhooks spec says. Runs on {@link ManagementApiTest}'s
 * application (same profile, no extra start), with tenants of its own.
 */
@QuarkusTest
@TestProfile(ManagementApiTest.Api.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RegistrationsTest {

    static final List<String> TENANTS = List.of("reg-a", "reg-b", "reg-c");
    /** Added to the profile: a receiver on loopback over http, and batches and retries on a test's time scale. */
    static final Map<String, String> SETTINGS = Map.of(
            "erphub.registrations.allow-http", "true",
            "erphub.registrations.allow-private-addresses", "true",
            "erphub.registrations.batch-interval", "200",
            "erphub.registrations.retry-delay", "PT0.2S",
            "erphub.registrations.max-retry-delay", "PT1S",
            "erphub.registrations.max-tries", "4",
            "erphub.registrations.refresh", "PT1S");
    static final String API = "/api/registrations";

    static WebhookReceiver receiver;

    @InjectTestServer
    MockOAuth2Server oauth2;

    @BeforeAll
    static void startReceiver() throws Exception {
        receiver = new WebhookReceiver();
    }

    @AfterAll
    static void stopReceiver() {
        receiver.close();
    }

    String token(String subject, Map<String, Object> claims) {
        return oauth2.issueToken(OAuth2ServerResource.ISSUER, subject, ManagementApiTest.AUDIENCE, claims, 600).serialize();
    }

    String admin() {
        return token("ops-carol", Map.of("groups", List.of(Caller.ADMIN)));
    }

    String tenant(String tenant) {
        return token(tenant + "-integration", Map.of("groups", List.of(Caller.TENANT_ROLE), "tenant", tenant));
    }

    static String webhook(String name, String url, String extra) {
        return "{\"name\": \"" + name + "\", \"channel\": {\"type\": \"webhook\", \"url\": \"" + url + "\"}" + extra + "}";
    }

    JsonPath create(String token, String body) {
        return given().auth().oauth2(token).contentType("application/json").body(body).post(API).then().statusCode(201)
                .extract().jsonPath();
    }

    void push(String tenant, String key, String name) {
        given().auth().oauth2(tenant(tenant)).header("Idempotency-Key", key).header("X-File-Name", name)
                .contentType("application/octet-stream").body(("employee_id;gross\n" + key + ";100.00\n")
                        .getBytes(StandardCharsets.UTF_8))
                .post("/api/tenants/" + tenant + "/upstreams/payroll-exports/files").then().statusCode(202);
    }

    /** The file ids of the file.delivered events in a manifest. */
    static List<Long> fileIds(Call call) {
        return JsonPath.from(call.text()).getList("events.fileId", Long.class);
    }

    @Test
    @Order(1)
    void aRegistrationShowsItsSecretOnceAndOnlyToItsTenant() {
        JsonPath made = create(tenant("reg-a"), webhook("payroll to hr", receiver.url("/scoped"),
                ", \"filter\": {\"eventTypes\": [\"file.delivered\"], \"fileNamePattern\": \"*.csv\"}"));
        String id = made.getString("registration.id");
        assertTrue(made.getString("secret").startsWith("whsec_"), made.prettify());
        assertEquals("reg-a", made.getString("registration.tenant"), "a tenant's registration is its own");
        assertEquals("PT30S", made.getString("registration.batching.debounce"), made.prettify());

        String shown = given().auth().oauth2(tenant("reg-a")).get(API + "/" + id).then().statusCode(200).extract().asString();
        assertFalse(shown.contains(made.getString("secret")) || shown.contains("whsec_"), shown);
        JsonPath detail = JsonPath.from(shown);
        assertEquals("CREATED", detail.getString("audit[0].action"));
        assertEquals("reg-a-integration", detail.getString("audit[0].actor"));

        // Another tenant: not found, not listed; an admin sees it.
        given().auth().oauth2(tenant("reg-b")).get(API + "/" + id).then().statusCode(404).contentType(Problems.TYPE);
        given().auth().oauth2(tenant("reg-b")).contentType("application/json").body(webhook("x", receiver.url("/x"), ""))
                .put(API + "/" + id).then().statusCode(404);
        given().auth().oauth2(tenant("reg-b")).delete(API + "/" + id).then().statusCode(404);
        assertFalse(given().auth().oauth2(tenant("reg-b")).get(API).jsonPath().getList("items.id").contains(id));
        assertTrue(given().auth().oauth2(admin()).get(API + "?limit=1000").jsonPath().getList("items.id").contains(id));
        given().auth().oauth2(tenant("reg-a")).get(API + "?tenant=reg-b").then().statusCode(404);

        // Changed: the audit trail says who and what; the tenant stays.
        given().auth().oauth2(tenant("reg-a")).contentType("application/json")
                .body(webhook("payroll to hr v2", receiver.url("/scoped"), "")).put(API + "/" + id).then().statusCode(200);
        JsonPath after = given().auth().oauth2(admin()).get(API + "/" + id).jsonPath();
        assertEquals(List.of("CREATED", "UPDATED"), after.getList("audit.action"));
        assertEquals("payroll to hr v2", after.getString("registration.name"));
        given().auth().oauth2(tenant("reg-a")).delete(API + "/" + id).then().statusCode(204);
        given().auth().oauth2(admin()).get(API + "/" + id).then().statusCode(404);
        given().get(API).then().statusCode(401);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "{\"name\": \"a\", \"tenant\": \"reg-b\", \"channel\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/\"}}| 404 | tenant reg-b not found",
            "{\"name\": \"a\", \"filter\": {\"tenants\": [\"reg-b\"]}, \"channel\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/\"}} | 400 | sees only that tenant's events",
            "{\"name\": \"a\", \"filter\": {\"eventTypes\": [\"file.deleted\"]}, \"channel\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/\"}} | 400 | 'file.deleted' is not one of",
            "{\"name\": \"a\", \"filter\": {\"upstreams\": [\"../etc\"]}, \"channel\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/\"}} | 400 | '../etc' is not an upstream",
            "{\"name\": \"a\", \"channel\": {\"type\": \"webhook\", \"url\": \"ftp://127.0.0.1/x\"}}                | 400 | is not http or https",
            "{\"name\": \"a\", \"channel\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/{{erphub.api}}\"}} | 400 | contains '{{' or '}}'",
            "{\"name\": \"a\", \"channel\": {\"type\": \"webhook\", \"url\": \"http://user:pw@127.0.0.1:1/\"}}     | 400 | carries user info",
            "{\"name\": \"a\", \"channel\": {\"type\": \"email\", \"url\": \"mailto:x@example.com\"}}               | 400 | 'email' is not one this erphub delivers to",
            "{\"name\": \"a\", \"channel\": {\"type\": \"webhook\"}}                                                | 400 | a webhook needs its https URL",
            "{\"name\": \"\", \"channel\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/\"}}               | 400 | name: 1 to 100",
            "{\"name\": \"a\", \"channel\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/\"}, \"batching\": {\"maxBatch\": 0}} | 400 | maxBatch: between 1 and 1000",
            "{\"name\": \"a\", \"channel\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/\"}, \"batching\": {\"debounce\": \"PT10S\", \"maxWait\": \"PT1S\"}} | 400 | maxWait: at least the debounce",
            "{\"name\": \"a\", \"channel\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/\"}, \"secret\": \"whsec_mine\"} | 400 | secret",
            "[]                                                                                                    | 400 | ",
    })
    void aHostileRegistrationIsRefusedWithEveryReason(String body, int status, String detail) {
        String answer = given().auth().oauth2(tenant("reg-a")).contentType("application/json").body(body).post(API)
                .then().statusCode(status).contentType(Problems.TYPE).extract().asString();
        assertTrue(detail == null || answer.contains(detail.strip()), answer);
    }

    @OnEveryDatabase
    @Test
    @Order(2)
    void aBurstOverThreeTenantsArrivesAsAFewSignedBatchesEachFileInExactlyOne() throws Exception {
        JsonPath made = create(admin(), webhook("burst", receiver.url("/burst"), ", \"filter\": {\"tenants\": "
                + "[\"reg-a\", \"reg-b\", \"reg-c\"], \"eventTypes\": [\"file.delivered\"]},"
                + " \"batching\": {\"debounce\": \"PT2S\", \"maxWait\": \"PT60S\", \"maxBatch\": 1000}"));
        receiver.secrets("/burst", made.getString("secret"));
        int perTenant = 50;
        ExecutorService pushers = Executors.newFixedThreadPool(3);
        List<Future<?>> pushed = new ArrayList<>();
        for (String t : TENANTS) {
            pushed.add(pushers.submit(() -> {
                for (int i = 0; i < perTenant; i++) {
                    push(t, "burst-" + t + "-" + i, "payroll-" + i + ".csv");
                }
            }));
        }
        for (Future<?> f : pushed) {
            f.get();
        }
        pushers.shutdown();
        int files = perTenant * TENANTS.size();
        await().atMost(Duration.ofSeconds(60)).until(() -> receiver.accepted("/burst").stream()
                .mapToInt(c -> fileIds(c).size()).sum() >= files);

        List<Call> calls = receiver.calls("/burst");
        assertTrue(calls.stream().allMatch(Call::accepted), "every call signed, fresh and new: " + calls.stream()
                .filter(c -> !c.accepted()).map(Call::refusal).toList());
        List<Long> ids = new ArrayList<>();
        Map<String, Integer> batchesByTenant = new HashMap<>();
        for (Call c : calls) {
            JsonPath m = JsonPath.from(c.text());
            assertEquals("erphub.batch/1", m.getString("schema"));
            assertEquals(c.id(), m.getString("id"), "webhook-id is the batch id");
            assertEquals(m.getInt("count"), m.getList("events").size());
            assertTrue(m.getList("events.tenant").stream().allMatch(m.getString("tenant")::equals), "one tenant a batch");
            assertTrue(m.getList("events.type").stream().allMatch("file.delivered"::equals));
            assertTrue(m.getList("events.links.file").stream().allMatch(l -> l.toString().startsWith("/api/files/")));
            ids.addAll(fileIds(c));
            batchesByTenant.merge(m.getString("tenant"), 1, Integer::sum);
        }
        assertEquals(files, ids.size(), "each file in exactly one batch");
        assertEquals(files, new HashSet<>(ids).size(), "each file in exactly one batch");
        assertEquals(Set.copyOf(TENANTS), batchesByTenant.keySet());
        // A burst, not a trickle: without debouncing this would be one call per file.
        assertTrue(calls.size() <= 3 * TENANTS.size(), calls.size() + " batches for " + files + " files: "
                + batchesByTenant);
        // A captured call sent again is refused by a receiver that checks, as the README tells receivers to.
        assertEquals(400, receiver.resend(calls.get(0)));
        String id = made.getString("registration.id");
        List<String> states = given().auth().oauth2(admin()).get(API + "/" + id + "/batches").jsonPath().getList("state");
        assertEquals(calls.size(), states.size());
        assertTrue(states.stream().allMatch("DELIVERED"::equals), states.toString());
        given().auth().oauth2(admin()).delete(API + "/" + id).then().statusCode(204);
    }

    @OnEveryDatabase
    @Test
    @Order(3)
    void aFailingConsumerGoesDeadWithoutHoldingUpAnotherAndAReplaySendsItAgain() {
        String delivered = ", \"filter\": {\"eventTypes\": [\"file.delivered\"]}, \"batching\": {\"debounce\": \"PT0.5S\"}";
        String failingSecret = create(tenant("reg-b"), webhook("failing", receiver.url("/failing"), delivered))
                .getString("secret");
        JsonPath healthy = create(tenant("reg-b"), webhook("healthy", receiver.url("/healthy"), delivered));
        String failing = given().auth().oauth2(tenant("reg-b")).get(API).jsonPath()
                .getString("items.find { it.name == 'failing' }.id");
        receiver.secrets("/failing", failingSecret);
        receiver.secrets("/healthy", healthy.getString("secret"));
        receiver.answer("/failing", 503);
        push("reg-b", "failing-1", "payroll-failing-1.csv");

        await().atMost(Duration.ofSeconds(30)).until(() -> !receiver.accepted("/healthy").isEmpty());
        await().atMost(Duration.ofSeconds(30)).until(() -> given().auth().oauth2(tenant("reg-b"))
                .get(API + "/" + failing + "/batches?state=DEAD").jsonPath().getList("id").size() == 1);
        JsonPath dead = given().auth().oauth2(tenant("reg-b")).get(API + "/" + failing + "/batches").jsonPath();
        assertEquals(4, dead.getInt("[0].tries"), "erphub.registrations.max-tries");
        assertEquals("HTTP 503 from the webhook", dead.getString("[0].lastError"));
        List<Call> tries = receiver.calls("/failing");
        assertEquals(4, tries.size());
        assertTrue(tries.stream().allMatch(c -> c.refusal() == null), "each try signed afresh: "
                + tries.stream().map(Call::refusal).toList());
        assertEquals(1, new HashSet<>(tries.stream().map(Call::id).toList()).size(), "one batch, one webhook-id");

        // A replay needs a comment; a dry run takes nothing; the replay sends the same batch again.
        given().auth().oauth2(tenant("reg-b")).contentType("application/json").body("{}")
                .post(API + "/" + failing + "/replays").then().statusCode(400);
        receiver.answer("/failing", 200);
        JsonPath dry = given().auth().oauth2(tenant("reg-b")).contentType("application/json")
                .body("{\"comment\": \"consumer fixed\", \"dryRun\": true}").post(API + "/" + failing + "/replays")
                .then().statusCode(200).extract().jsonPath();
        assertEquals(1, dry.getInt("count"));
        assertEquals(4, receiver.calls("/failing").size(), "a dry run sends nothing");
        given().auth().oauth2(tenant("reg-c")).contentType("application/json").body("{\"comment\": \"mine now\"}")
                .post(API + "/" + failing + "/replays").then().statusCode(404);
        given().auth().oauth2(tenant("reg-b")).contentType("application/json").body("{\"comment\": \"consumer fixed\"}")
                .post(API + "/" + failing + "/replays").then().statusCode(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> receiver.accepted("/failing").size() == 1);
        assertEquals(tries.get(0).id(), receiver.accepted("/failing").get(0).id());
        JsonPath audit = given().auth().oauth2(tenant("reg-b")).get(API + "/" + failing).jsonPath();
        assertEquals("REPLAYED", audit.getString("audit[-1].action"));
        assertTrue(audit.getString("audit[-1].detail").contains("consumer fixed"), audit.prettify());
        await().atMost(Duration.ofSeconds(10)).until(() -> given().auth().oauth2(tenant("reg-b"))
                .get(API + "/" + failing + "/batches?state=DELIVERED").jsonPath().getList("id").size() == 1);
    }

    @OnEveryDatabase
    @Test
    @Order(4)
    void aRotatedSecretSignsBesideThePreviousOneDuringTheOverlap() {
        JsonPath made = create(tenant("reg-c"), webhook("rotating", receiver.url("/rotating"),
                ", \"filter\": {\"eventTypes\": [\"file.delivered\"]}, \"batching\": {\"debounce\": \"PT0.2S\"}"));
        String id = made.getString("registration.id");
        String before = made.getString("secret");
        JsonPath rotated = given().auth().oauth2(tenant("reg-c")).contentType("application/json")
                .body("{\"overlap\": \"PT1H\"}").post(API + "/" + id + "/secret").then().statusCode(200).extract().jsonPath();
        String after = rotated.getString("secret");
        assertNotEquals(before, after);
        receiver.secrets("/rotating", after);
        push("reg-c", "rotating-1", "payroll-rotating-1.csv");
        await().atMost(Duration.ofSeconds(30)).until(() -> !receiver.accepted("/rotating").isEmpty());
        Call overlapping = receiver.accepted("/rotating").get(0);
        assertEquals(List.of(before, after), WebhookReceiver.signedBy(overlapping, before, after),
                "both secrets sign during the overlap");

        given().auth().oauth2(tenant("reg-c")).contentType("application/json").body("{\"overlap\": \"PT0S\"}")
                .post(API + "/" + id + "/secret").then().statusCode(200);
        String third = given().auth().oauth2(tenant("reg-c")).get(API + "/" + id).jsonPath().getString("secret");
        assertNull(third, "the secret is never shown again");
        given().auth().oauth2(tenant("reg-c")).contentType("application/json").body("{\"overlap\": \"P30D\"}")
                .post(API + "/" + id + "/secret").then().statusCode(400);
        assertEquals(List.of("CREATED", "ROTATED", "ROTATED"), given().auth().oauth2(tenant("reg-c")).get(API + "/" + id)
                .jsonPath().getList("audit.action"));
    }
}
