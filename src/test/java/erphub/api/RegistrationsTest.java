package erphub.api;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import erphub.testing.TestTokens;
import erphub.testing.InjectTestServer;
import erphub.testing.KafkaBrokerResource.KafkaBroker;
import erphub.testing.OAuth2ServerResource;
import erphub.testing.OnEveryDatabase;
import erphub.testing.SftpServerResource.SftpServer;
import erphub.testing.WebhookReceiver;
import erphub.testing.WebhookReceiver.Call;
import io.quarkus.test.common.http.TestHTTPResource;
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
            "erphub.registrations.refresh", "PT1S",
            // The recovery sweep looks every half second for end states without their event older than 2 s.
            "erphub.events.recovery-interval", "500",
            "erphub.events.recovery-after", "PT2S");
    static final String API = "/api/registrations";
    static final ObjectMapper JSON = new ObjectMapper();

    static WebhookReceiver receiver;

    @InjectTestServer
    MockOAuth2Server oauth2;

    @InjectTestServer
    SftpServer sftp;

    @InjectTestServer
    KafkaBroker kafka;

    @BeforeAll
    static void startReceiver() throws Exception {
        receiver = new WebhookReceiver();
    }

    @AfterAll
    static void stopReceiver() {
        receiver.close();
    }

    String token(String subject, Map<String, Object> claims) {
        return TestTokens.issue(oauth2, OAuth2ServerResource.ISSUER, subject, ManagementApiTest.AUDIENCE, claims,
                600);
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
    /** The batch's file ids (Jackson: awaitility reads every batch received so far ten times a second). */
    static List<Long> fileIds(Call call) {
        List<Long> ids = new ArrayList<>();
        json(call.text()).path("events").forEach(e -> ids.add(e.path("fileId").asLong()));
        return ids;
    }

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
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

    @Test
    void aHugeRegistrationIsRefusedNotStoredHalf() {
        String url = receiver.url("/huge?" + "x".repeat(9000));
        String dependsOn = "\"a\", ".repeat(3000) + "\"a\"";
        for (String body : List.of(webhook("huge url", url, ""), webhook("huge types", receiver.url("/h"),
                ", \"fileTypes\": [{\"name\": \"a\", \"pattern\": \"a*\"}, {\"name\": \"b\", \"pattern\": \"b*\","
                        + " \"dependsOn\": [" + dependsOn + "]}]"))) {
            String answer = given().auth().oauth2(tenant("reg-a")).contentType("application/json").body(body).post(API)
                    .then().statusCode(400).contentType(Problems.TYPE).extract().asString();
            assertTrue(answer.contains("over the limit of 8000"), answer);
        }
        assertFalse(given().auth().oauth2(tenant("reg-a")).get(API + "?limit=1000").jsonPath().getList("items.name")
                .stream().anyMatch(n -> n.toString().startsWith("huge")));
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
            "{\"name\": \"a\", \"channel\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/\"}, \"fileTypes\": [{\"name\": \"a\", \"pattern\": \"a*\", \"dependsOn\": [\"b\"]}, {\"name\": \"b\", \"pattern\": \"b*\", \"dependsOn\": [\"c\"]}, {\"name\": \"c\", \"pattern\": \"c*\", \"dependsOn\": [\"a\"]}]} | 400 | fileTypes: a cycle a -> b -> c -> a",
            "{\"name\": \"a\", \"channel\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/\"}, \"fileTypes\": [{\"name\": \"a\", \"pattern\": \"a*\", \"dependsOn\": [\"ghost\"]}]} | 400 | fileTypes.a.dependsOn: unknown type 'ghost'",
            "{\"name\": \"a\", \"channel\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/\"}, \"fileTypes\": [{\"name\": \"a\", \"pattern\": \"a*\"}], \"checks\": {\"requiredTypes\": [\"b\"]}} | 400 | checks.requiredTypes: unknown type 'b'",
            "{\"name\": \"a\", \"channel\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/\"}, \"fileTypes\": [{\"name\": \"a\", \"pattern\": \"a*\"}, {\"name\": \"a\", \"pattern\": \"b*\"}]} | 400 | fileTypes.a: declared twice",
            "{\"name\": \"a\", \"channel\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/\"}, \"fileTypes\": [{\"name\": \"payroll\", \"pattern\": \"payroll*\"}, {\"name\": \"payroll-summary\", \"pattern\": \"payroll-summary-*.csv\"}]} | 400 | fileTypes.payroll-summary.pattern: no file can have this type, 'payroll' is declared before it",
            "{\"name\": \"a\", \"channel\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/\", \"includeFiles\": true}} | 400 | channel.includeFiles: only an sftp channel",
            "[]                                                                                                    | 400 | ",
    })
    void aHostileRegistrationIsRefusedWithEveryReason(String body, int status, String detail) {
        String answer = given().auth().oauth2(tenant("reg-a")).contentType("application/json").body(body).post(API)
                .then().statusCode(status).contentType(Problems.TYPE).extract().asString();
        assertTrue(detail == null || answer.contains(detail.strip()), answer);
    }

    /** How many files the burst test pushes over the three tenants. */
    int burstFiles() {
        return 500;
    }

    @OnEveryDatabase
    @Test
    @Order(2)
    void aBurstOverThreeTenantsArrivesAsAFewSignedBatchesEachFileInExactlyOne() throws Exception {
        JsonPath made = create(admin(), webhook("burst", receiver.url("/burst"), ", \"filter\": {\"tenants\": "
                + "[\"reg-a\", \"reg-b\", \"reg-c\"], \"eventTypes\": [\"file.delivered\"]},"
                + " \"batching\": {\"debounce\": \"PT2S\", \"maxWait\": \"PT60S\", \"maxBatch\": 1000}"));
        receiver.secrets("/burst", made.getString("secret"));
        int files = burstFiles();
        ExecutorService pushers = Executors.newFixedThreadPool(3);
        List<Future<?>> pushed = new ArrayList<>();
        for (int n = 0; n < TENANTS.size(); n++) {
            String t = TENANTS.get(n);
            int ofTenant = files / TENANTS.size() + (n < files % TENANTS.size() ? 1 : 0);
            pushed.add(pushers.submit(() -> {
                for (int i = 0; i < ofTenant; i++) {
                    push(t, "burst-" + t + "-" + i, "payroll-" + i + ".csv");
                }
            }));
        }
        for (Future<?> f : pushed) {
            f.get();
        }
        pushers.shutdown();
        await().atMost(Duration.ofSeconds(180)).until(() -> receiver.accepted("/burst").stream()
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

    @Test
    @Order(5)
    void sftpAndKafkaRegistrantsReceiveEachBatchAsAManifest() throws Exception {
        String channels = ", \"filter\": {\"eventTypes\": [\"file.delivered\"]}, \"batching\": {\"debounce\": \"PT1S\"}";
        String sftpId = create(tenant("reg-c"), "{\"name\": \"to sftp\", \"channel\": {\"type\": \"sftp\", \"folder\":"
                + " \"hr/inbox\", \"includeFiles\": true}" + channels + "}").getString("registration.id");
        String kafkaId = create(tenant("reg-c"), "{\"name\": \"to kafka\", \"channel\": {\"type\": \"kafka\", \"topic\":"
                + " \"registrations.reg-c.payroll\"}" + channels + "}").getString("registration.id");
        for (int i = 0; i < 5; i++) {
            push("reg-c", "channels-" + i, "payroll-channels-" + i + ".csv");
        }
        // SFTP: manifest files under the tenant's folder, written under a temporary name and renamed.
        Path inbox = sftp.root().resolve("reg-c/hr/inbox");
        List<Long> viaSftp = new ArrayList<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            viaSftp.clear();
            if (!Files.isDirectory(inbox)) {
                return false;
            }
            try (Stream<Path> files = Files.list(inbox)) {
                for (Path f : files.filter(f -> Files.isRegularFile(f) && !f.getFileName().toString().startsWith(".part-"))
                        .toList()) {
                    assertTrue(f.getFileName().toString().matches("batch-\\d{8}T\\d{6}Z-[0-9a-f-]{36}\\.json"), f.toString());
                    JsonPath m = JsonPath.from(Files.readString(f));
                    assertEquals(sftpId, m.getString("registrationId"));
                    viaSftp.addAll(m.getList("events.fileId", Long.class));
                    // includeFiles: each file's archived bytes, uploaded before the manifest that names them.
                    for (Map<String, Object> e : m.<Map<String, Object>>getList("events")) {
                        String path = (String) e.get("path");
                        assertTrue(path.matches("batch-" + m.getString("id") + "/" + e.get("fileId") + "-payroll-channels-\\d\\.csv"),
                                path);
                        String key = "channels-" + path.replaceAll(".*payroll-channels-(\\d)\\.csv", "$1");
                        assertEquals("employee_id;gross\n" + key + ";100.00\n", Files.readString(inbox.resolve(path)), path);
                    }
                }
            }
            return viaSftp.size() >= 5;
        });
        assertEquals(5, new HashSet<>(viaSftp).size(), viaSftp.toString());
        try (Stream<Path> all = Files.walk(inbox)) {
            assertEquals(List.of(), all.filter(f -> f.getFileName().toString().startsWith(".part-")).toList(),
                    "no temporary file left");
        }
        // Kafka: one record per batch on the registrant's topic, keyed by tenant.
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "registrations-test-" + System.nanoTime());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<Long> viaKafka = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
            consumer.subscribe(List.of("registrations.reg-c.payroll"));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    assertEquals("reg-c", r.key());
                    JsonPath m = JsonPath.from(r.value());
                    assertEquals(kafkaId, m.getString("registrationId"));
                    viaKafka.addAll(m.getList("events.fileId", Long.class));
                }
                return viaKafka.size() >= 5;
            });
        }
        assertEquals(new HashSet<>(viaSftp), new HashSet<>(viaKafka));
        assertEquals(5, viaKafka.size(), "each file in one record: " + viaKafka);
    }

    @TestHTTPResource("/api/events/stream")
    URI stream;

    /**
     * A Server-Sent Events client: every event's id, name and data as they arrive. The data is read with Jackson, not
     * RestAssured's JsonPath, which compiles a Groovy expression per read: awaitility re-reads every event ten times a
     * second, and that was the class's first place in a JFR of the suite.
     */
    record SseEvent(long id, String name, JsonNode data) {
        String field(String name) {
            return data.path(name).asText();
        }
    }

    List<SseEvent> listen(String token, String lastEventId, List<SseEvent> into) {
        HttpRequest.Builder request = HttpRequest.newBuilder(stream).header("Authorization", "Bearer " + token)
                .header("Accept", "text/event-stream");
        if (lastEventId != null) {
            request.header("Last-Event-ID", lastEventId);
        }
        String[] event = new String[3];
        streams.add(HttpClient.newHttpClient().sendAsync(request.build(), HttpResponse.BodyHandlers.ofLines())
                .thenAccept(response -> {
                    assertEquals(200, response.statusCode());
                    response.body().forEach(line -> {
                        if (line.startsWith("id:")) {
                            event[0] = line.substring(3).strip();
                        } else if (line.startsWith("event:")) {
                            event[1] = line.substring(6).strip();
                        } else if (line.startsWith("data:")) {
                            event[2] = line.substring(5).strip();
                        } else if (line.isEmpty() && event[0] != null) {
                            into.add(new SseEvent(Long.parseLong(event[0]), event[1], json(event[2])));
                            event[0] = null;
                        }
                    });
                }));
        return into;
    }

    final List<java.util.concurrent.CompletableFuture<Void>> streams = new ArrayList<>();

    @OnEveryDatabase
    @Test
    @Order(6)
    void theEventStreamShowsATenantItsOwnEventsInOrderAndResumesAfterADisconnectWithoutAGap() {
        List<SseEvent> first = listen(tenant("reg-a"), "0", new java.util.concurrent.CopyOnWriteArrayList<>());
        for (int i = 0; i < 3; i++) {
            push("reg-a", "stream-" + i, "stream-" + i + ".csv");
        }
        push("reg-b", "stream-b", "stream-b.csv");
        await().atMost(Duration.ofSeconds(30)).until(() -> streamed(first, "file.delivered").size() == 3);
        assertTrue(first.stream().allMatch(e -> "reg-a".equals(e.field("tenant"))), "only its own tenant");
        assertIncreasing(first);
        // Disconnected; two more files meanwhile; back with the id of the last event it saw.
        long last = first.get(first.size() - 1).id();
        streams.forEach(f -> f.cancel(true));
        streams.clear();
        int seen = first.size();
        for (int i = 3; i < 5; i++) {
            push("reg-a", "stream-" + i, "stream-" + i + ".csv");
        }
        List<SseEvent> second = listen(tenant("reg-a"), Long.toString(last), new java.util.concurrent.CopyOnWriteArrayList<>());
        await().atMost(Duration.ofSeconds(30)).until(() -> streamed(second, "file.delivered").size() == 2);
        assertTrue(second.stream().allMatch(e -> e.id() > last), "nothing it saw before");
        assertIncreasing(second);
        assertEquals(Set.of("stream-3.csv", "stream-4.csv"), Set.copyOf(streamed(second, "file.delivered")), "nothing missed");
        assertEquals(Set.of("stream-0.csv", "stream-1.csv", "stream-2.csv"), Set.copyOf(streamed(first, "file.delivered")));
        assertTrue(first.size() >= seen);
        streams.forEach(f -> f.cancel(true));

        given().auth().oauth2(tenant("reg-a")).header("Last-Event-ID", "abc").get("/api/events/stream")
                .then().statusCode(400).contentType(Problems.TYPE);
        given().auth().oauth2(tenant("reg-a")).header("Last-Event-ID", "0").get("/api/events/stream?tenant=reg-b")
                .then().statusCode(404);
        given().get("/api/events/stream").then().statusCode(401);
    }

    static final String DAG = "\"fileTypes\": [{\"name\": \"summary\", \"pattern\": \"summary-*\", \"dependsOn\": [\"payroll\"]},"
            + " {\"name\": \"payroll\", \"pattern\": \"payroll-*\", \"dependsOn\": [\"employees\"]},"
            + " {\"name\": \"employees\", \"pattern\": \"employees-*\"}]";

    @OnEveryDatabase
    @Test
    @Order(7)
    void filesArriveInDependencyOrderAndADeadPrerequisiteHoldsItsDependantsUntilItsReplay() {
        JsonPath made = create(tenant("reg-b"), webhook("dag", receiver.url("/dag"), ", \"filter\": {\"eventTypes\":"
                + " [\"file.delivered\"]}, \"batching\": {\"debounce\": \"PT2S\"}, " + DAG));
        String id = made.getString("registration.id");
        receiver.secrets("/dag", made.getString("secret"));
        receiver.answer("/dag", 503);
        List<String> names = new ArrayList<>();
        for (String type : List.of("summary", "payroll", "employees")) {
            for (int i = 0; i < 2; i++) {
                names.add(type + "-dag-" + i + ".csv");
            }
        }
        java.util.Collections.shuffle(names);
        names.forEach(n -> push("reg-b", "dag-" + n, n));

        // The first part (employees) fails until DEAD; its dependants are HELD with the reason, never sent.
        await().atMost(Duration.ofSeconds(30)).until(() -> given().auth().oauth2(tenant("reg-b"))
                .get(API + "/" + id + "/batches").jsonPath().getList("state").containsAll(List.of("DEAD", "HELD")));
        JsonPath parts = given().auth().oauth2(tenant("reg-b")).get(API + "/" + id + "/batches").jsonPath();
        assertEquals("DEAD", parts.getString("find { it.fileType == 'employees' }.state"), parts.prettify());
        for (String dependant : List.of("payroll", "summary")) {
            assertEquals("HELD", parts.getString("find { it.fileType == '" + dependant + "' }.state"), parts.prettify());
            assertTrue(parts.getString("find { it.fileType == '" + dependant + "' }.lastError")
                    .startsWith("held: prerequisite employees"), parts.prettify());
        }
        assertEquals(1, new HashSet<>(parts.getList("windowId")).size(), "one window: " + parts.prettify());
        assertTrue(receiver.calls("/dag").stream().allMatch(c -> "employees".equals(JsonPath.from(c.text()).getString("fileType"))),
                "nothing of a dependant went out");

        // The replay releases them: employees, then payroll, then summary.
        receiver.answer("/dag", 200);
        given().auth().oauth2(tenant("reg-b")).contentType("application/json").body("{\"comment\": \"HR system back\"}")
                .post(API + "/" + id + "/replays").then().statusCode(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> receiver.accepted("/dag").size() == 3);
        List<Call> accepted = receiver.accepted("/dag");
        assertEquals(List.of("employees", "payroll", "summary"),
                accepted.stream().map(c -> JsonPath.from(c.text()).getString("fileType")).toList());
        for (Call c : accepted) {
            JsonPath m = JsonPath.from(c.text());
            assertEquals(2, m.getList("events").size());
            assertTrue(m.getList("events.fileName", String.class).stream().allMatch(n -> n.startsWith(m.getString("fileType") + "-")),
                    c.text());
        }
    }

    @OnEveryDatabase
    @Test
    @Order(8)
    void aWindowWithoutARequiredTypeIsRejectedWithItsReasonAndAnEvent() {
        List<SseEvent> events = listen(admin(), "0", new java.util.concurrent.CopyOnWriteArrayList<>());
        JsonPath made = create(tenant("reg-c"), webhook("checked", receiver.url("/checked"), ", \"filter\": {\"eventTypes\":"
                + " [\"file.delivered\"]}, \"batching\": {\"debounce\": \"PT0.5S\"}, " + DAG
                + ", \"checks\": {\"requiredTypes\": [\"employees\", \"payroll\"]}"));
        String id = made.getString("registration.id");
        receiver.secrets("/checked", made.getString("secret"));
        push("reg-c", "checked-1", "payroll-checked-1.csv");
        await().atMost(Duration.ofSeconds(30)).until(() -> given().auth().oauth2(tenant("reg-c"))
                .get(API + "/" + id + "/batches?state=REJECTED").jsonPath().getList("id").size() == 1);
        assertEquals("no file of required type employees", given().auth().oauth2(tenant("reg-c"))
                .get(API + "/" + id + "/batches").jsonPath().getString("[0].lastError"));
        await().atMost(Duration.ofSeconds(30)).until(() -> events.stream().anyMatch(e -> "batch.rejected".equals(e.name())
                && id.equals(e.field("registrationId"))));
        assertTrue(receiver.calls("/checked").isEmpty(), "a rejected window is not sent");
        streams.forEach(f -> f.cancel(true));
    }

    @jakarta.inject.Inject
    erphub.state.StateDataSource db;

    @jakarta.inject.Inject
    org.apache.camel.ProducerTemplate producer;

    /**
     * A node killed between a file's end state in the ledger and its event (the row is DELIVERED, no event was
     * logged): the recovery sweep publishes the event, once, to the registration; building it again (a slow node's
     * late event, two replicas' sweeps) is refused and sends nothing more.
     */
    @OnEveryDatabase
    @Test
    @Order(9)
    void anEndStateCommittedWithoutItsEventIsPublishedOnceByTheRecoverySweep() throws Exception {
        JsonPath made = create(tenant("reg-c"), webhook("recovered", receiver.url("/recovered"), ", \"filter\":"
                + " {\"eventTypes\": [\"file.delivered\"], \"fileNamePattern\": \"lost-*\"},"
                + " \"batching\": {\"debounce\": \"PT0.5S\"}"));
        receiver.secrets("/recovered", made.getString("secret"));
        long lost = settledWithoutEvent("reg-c", "lost-1.csv");

        await().atMost(Duration.ofSeconds(30)).until(() -> recoveredFileIds().contains(lost));
        assertEquals(1, eventRows(lost), "one event for the end state");
        // The same end state's event built again: refused by the event log, published nowhere.
        producer.send("direct:erphub-event-settled", x -> x.setProperty("erphubFileId", lost));
        assertEquals(1, eventRows(lost), "no second event");
        // Sweeps go on every half second: none publishes it again.
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(6)).until(() -> eventRows(lost) == 1);
        assertEquals(List.of(lost), recoveredFileIds(), "the registration got the file once");
        assertTrue(receiver.calls("/recovered").stream().allMatch(Call::accepted));
        given().auth().oauth2(tenant("reg-c")).delete(API + "/" + made.getString("registration.id")).then()
                .statusCode(204);
    }

    private List<Long> recoveredFileIds() {
        List<Long> ids = new ArrayList<>();
        receiver.accepted("/recovered").forEach(c -> ids.addAll(fileIds(c)));
        return ids;
    }

    /** A DELIVERED ledger row committed 3 s ago whose event was never logged, as a node killed in between leaves it. */
    private long settledWithoutEvent(String tenant, String name) throws Exception {
        java.sql.Timestamp at = java.sql.Timestamp.from(java.time.Instant.now().minusSeconds(3));
        try (java.sql.Connection c = db.connection(); java.sql.PreparedStatement ps = c.prepareStatement(
                "INSERT INTO file_version (tenant, upstream, remote_id, version, file_name, size_bytes, state, attempt,"
                        + " created_at, updated_at) VALUES (?, 'payroll-exports', ?, '1', ?, 10, 'DELIVERED', 1, ?, ?)",
                java.sql.Statement.RETURN_GENERATED_KEYS)) {
            ps.setString(1, tenant);
            ps.setString(2, "lost-" + java.util.UUID.randomUUID());
            ps.setString(3, name);
            ps.setTimestamp(4, at);
            ps.setTimestamp(5, at);
            ps.executeUpdate();
            try (java.sql.ResultSet keys = ps.getGeneratedKeys()) {
                keys.next();
                return keys.getLong(1);
            }
        }
    }

    private int eventRows(long fileId) throws Exception {
        try (java.sql.Connection c = db.connection(); java.sql.PreparedStatement ps = c.prepareStatement(
                "SELECT COUNT(*) FROM event_log WHERE file_id = ?")) {
            ps.setLong(1, fileId);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** The file names of the stream's events of one type whose files this test pushed, in stream order. */
    static List<String> streamed(List<SseEvent> events, String type) {
        return events.stream().filter(e -> type.equals(e.name()) && e.field("fileName").startsWith("stream-"))
                .map(e -> e.field("fileName")).toList();
    }

    static void assertIncreasing(List<SseEvent> events) {
        for (int i = 1; i < events.size(); i++) {
            assertTrue(events.get(i).id() > events.get(i - 1).id(), "in order: " + events.stream().map(SseEvent::id).toList());
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "{\"type\": \"kafka\", \"topic\": \"erphub.events\"}                    | must start with 'registrations.reg-a.'",
            "{\"type\": \"kafka\", \"topic\": \"registrations.reg-b.payroll\"}      | must start with 'registrations.reg-a.'",
            "{\"type\": \"kafka\", \"topic\": \"registrations.reg-a.\"}             | must start with 'registrations.reg-a.'",
            "{\"type\": \"kafka\", \"topic\": \"registrations.reg-a.x y\"}          | a Kafka topic name",
            "{\"type\": \"kafka\"}                                                  | a Kafka topic name",
            "{\"type\": \"sftp\", \"folder\": \"../reg-b\"}                          | channel.folder",
            "{\"type\": \"sftp\", \"folder\": \"/etc\"}                              | channel.folder",
            "{\"type\": \"sftp\", \"folder\": \"a/../../b\"}                         | channel.folder",
            "{\"type\": \"sftp\", \"folder\": \"in\", \"url\": \"https://x.example\"} | a sftp channel takes a folder only",
    })
    void aChannelOutsideTheTenantsOwnIsRefused(String channel, String detail) {
        String answer = given().auth().oauth2(tenant("reg-a")).contentType("application/json")
                .body("{\"name\": \"a\", \"channel\": " + channel + "}").post(API)
                .then().statusCode(400).contentType(Problems.TYPE).extract().asString();
        assertTrue(answer.contains(detail.strip()), answer);
    }
}
