package erphub.pipeline;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;

import erphub.state.FileKey;
import erphub.state.FileRecord;
import erphub.state.FileState;
import erphub.state.ClaimStore;
import erphub.state.FileLedger;
import erphub.state.LedgerQueries;
import erphub.state.PollRecord;
import erphub.state.PollStateStore;
import erphub.testing.ExampleUpstreams;
import erphub.testing.InjectTestServer;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * Upstream misbehaviour, each case ending as DESIGN.md says with its reason in the ledger: transient
 * failures retried (503, 429 with an over-long Retry-After capped), timeouts dead-lettered after the
 * retries, bad input rejected without retry, a malformed list page failing only that poll. It runs in
 * {@link FileIntakeTest}'s application (its profile declares these upstreams too): one application boot fewer.
 */
@QuarkusTest
@TestProfile(FileIntakeTest.ThreeTenants.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IntakeFailuresTest {

    static final String TENANT = "acme";
    static final String UPSTREAM = "flaky";

    static final byte[] GOOD = "id;amount\n1;100\n".getBytes();
    static final java.time.Instant STARTED = java.time.Instant.now();

    @InjectTestServer
    WireMockServer upstream;

    @Inject
    LedgerQueries store;

    @org.eclipse.microprofile.config.inject.ConfigProperty(name = "erphub.archive.uri")
    String archiveUri;

    @Inject
    ClaimStore claims;

    @Inject
    FileLedger ledger;

    @Inject
    erphub.health.HealthDetails health;

    @Inject
    PollStateStore polls;

    @BeforeAll
    void serveTheTroublesomeFiles() {
        String sum = ExampleUpstreams.hex("SHA-256", GOOD);
        String list = "{\"files\":["
                + item("after-503", "after-503.csv", GOOD.length, sum) + ","
                + item("slow", "slow.csv", GOOD.length, sum) + ","
                + item("retry-after", "retry-after.csv", GOOD.length, sum) + ","
                + item("bad-sum", "bad-sum.csv", GOOD.length, "00" + sum.substring(2)) + ","
                + item("traversal", "../../etc/passwd", GOOD.length, sum) + ","
                + item("gone", "gone.csv", GOOD.length, sum) + ","
                + item("huge", "huge.bin", 200000, sum)
                + "]}";
        upstream.stubFor(get(urlPathEqualTo("/flaky/acme/files")).willReturn(okJson(list)));
        upstream.stubFor(get(urlPathEqualTo("/flaky/broken/files")).willReturn(okJson("{\"files\": [{\"id\": ")));

        upstream.stubFor(get(urlPathEqualTo(content("after-503"))).inScenario("503").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(503)).willSetStateTo("once"));
        upstream.stubFor(get(urlPathEqualTo(content("after-503"))).inScenario("503").whenScenarioStateIs("once")
                .willReturn(aResponse().withStatus(503)).willSetStateTo("twice"));
        upstream.stubFor(get(urlPathEqualTo(content("after-503"))).inScenario("503").whenScenarioStateIs("twice")
                .willReturn(aResponse().withBody(GOOD)));
        upstream.stubFor(get(urlPathEqualTo(content("slow"))).willReturn(aResponse().withBody(GOOD).withFixedDelay(3000)));
        upstream.stubFor(get(urlPathEqualTo(content("retry-after"))).inScenario("429").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(429).withHeader("Retry-After", "3600")).willSetStateTo("waited"));
        upstream.stubFor(get(urlPathEqualTo(content("retry-after"))).inScenario("429").whenScenarioStateIs("waited")
                .willReturn(aResponse().withBody(GOOD)));
        upstream.stubFor(get(urlPathEqualTo(content("bad-sum"))).willReturn(aResponse().withBody(GOOD)));
        upstream.stubFor(get(urlPathEqualTo(content("traversal"))).willReturn(aResponse().withBody(GOOD)));
        upstream.stubFor(get(urlPathEqualTo(content("gone"))).willReturn(aResponse().withStatus(404)));
        upstream.stubFor(get(urlPathEqualTo(content("huge"))).willReturn(aResponse().withBody(new byte[200000])));
        // The application polled these lists before they were served (it is FileIntakeTest's too): the cases start
        // once each pair has been polled against them.
        java.time.Instant served = java.time.Instant.now();
        await().atMost(Duration.ofSeconds(20)).until(() -> polls.find(UPSTREAM, TENANT)
                .map(p -> p.lastSuccessAt() != null && p.lastSuccessAt().isAfter(served)).orElse(false)
                && polls.find(UPSTREAM, "broken").map(p -> p.lastErrorAt() != null && p.lastErrorAt().isAfter(served)
                        && p.lastError().contains("is not JSON")).orElse(false));
    }

    @Test
    void upstream503sAreRetriedAndTheFileArchived() throws Exception {
        FileRecord row = awaitState("after-503", FileState.ARCHIVED);
        String archive = archiveUri.substring("file:".length(), archiveUri.indexOf('?'));
        assertArrayEquals(GOOD, Files.readAllBytes(Path.of(archive, row.archiveKey())));
        upstream.verify(3, getRequestedFor(urlPathEqualTo(content("after-503"))));
    }

    @Test
    void aRetryAfterOverTheCapDoesNotStallTheFile() {
        // Retry-After: 3600 is capped at 1 s: the file is archived within seconds, not an hour.
        awaitState("retry-after", FileState.ARCHIVED);
        upstream.verify(2, getRequestedFor(urlPathEqualTo(content("retry-after"))));
    }

    @Test
    void aTimeoutIsRetriedThenDeadLetteredWithTheReason() {
        FileRecord row = awaitState("slow", FileState.DEAD_LETTERED);
        assertTrue(row.reason().contains("timed out"), row.reason());
        assertTrue(row.reason().contains("after 2 redeliveries"), row.reason());
        upstream.verify(3, getRequestedFor(urlPathEqualTo(content("slow"))));
    }

    @Test
    void aChecksumMismatchIsRejectedWithoutRetry() {
        FileRecord row = awaitState("bad-sum", FileState.REJECTED);
        assertTrue(row.reason().startsWith("checksum mismatch"), row.reason());
        upstream.verify(1, getRequestedFor(urlPathEqualTo(content("bad-sum"))));
    }

    @Test
    void aPathTraversalNameIsRejectedBeforeAnyDownload() {
        FileRecord row = awaitState("traversal", FileState.REJECTED);
        assertEquals("unsafe file name '../../etc/passwd': file name contains a path separator", row.reason());
        assertEquals("../../etc/passwd", row.fileName(), "the ledger keeps what the upstream said");
        upstream.verify(0, getRequestedFor(urlPathEqualTo(content("traversal"))));
    }

    @Test
    void aFileOverTheSizeLimitIsRejectedBeforeAnyDownload() {
        FileRecord row = awaitState("huge", FileState.REJECTED);
        assertTrue(row.reason().contains("over the limit of 100000 bytes"), row.reason());
        upstream.verify(0, getRequestedFor(urlPathEqualTo(content("huge"))));
    }

    @Test
    void aPermanent404IsDeadLetteredWithoutRetry() {
        FileRecord row = awaitState("gone", FileState.DEAD_LETTERED);
        assertTrue(row.reason().contains("answered 404"), row.reason());
        upstream.verify(1, getRequestedFor(urlPathEqualTo(content("gone"))));
    }

    @Test
    void aMalformedListPageFailsThatPollWithAClearReasonAndTheRouteGoesOn() {
        await().atMost(Duration.ofSeconds(20)).until(() -> polls.find("flaky", "broken")
                .map(p -> p.consecutiveFailures() >= 2).orElse(false));
        PollRecord broken = polls.find("flaky", "broken").orElseThrow();
        assertTrue(broken.lastError().contains("is not JSON"), broken.lastError());
        PollRecord acme = polls.find("flaky", "acme").orElseThrow();
        assertEquals(0, acme.consecutiveFailures());
        assertTrue(acme.lastSuccessAt() != null);
    }

    @Test
    void aFailingUpstreamShowsInHealthWithoutFailingReadiness() {
        await().atMost(Duration.ofSeconds(20)).until(() -> polls.find("flaky", "broken").isPresent());
        io.restassured.RestAssured.when().get("/q/health/ready").then().statusCode(200);
        // Which poll failed and why is for operators (GET /api/health); the open health endpoint shows only states.
        String well = io.restassured.RestAssured.when().get("/q/health/well").then().statusCode(503)
                .body("checks.find { it.name == 'erphub-upstreams' }.status", org.hamcrest.Matchers.equalTo("DOWN"))
                .body("checks.find { it.name == 'erphub-upstreams' }.data", org.hamcrest.Matchers.nullValue())
                .extract().asString();
        for (String secretish : List.of("broken", "acme", "http", "not JSON", "token", "/")) {
            assertTrue(!well.contains(secretish), "/q/health/well tells strangers '" + secretish + "': " + well);
        }
        Map<String, Object> details = health.upstreams().data();
        assertTrue(String.valueOf(details.get("poll flaky/broken")).contains("is not JSON"), details.toString());
        assertTrue(String.valueOf(details.get("poll flaky/acme")).startsWith("UP"), details.toString());
    }

    @Test
    void laterPollsAskForChangesSinceTheLastSuccessfulPollMinusTheOverlap() {
        await().atMost(Duration.ofSeconds(20)).until(() -> polls.find("flaky", "acme")
                .map(p -> p.watermark() != null).orElse(false));
        await().atMost(Duration.ofSeconds(20)).until(() -> !upstream.findAll(getRequestedFor(urlPathEqualTo("/flaky/acme/files"))
                .withQueryParam("since", com.github.tomakehurst.wiremock.client.WireMock.matching("\\d{4}-.*Z"))).isEmpty());
        String since = upstream.findAll(getRequestedFor(urlPathEqualTo("/flaky/acme/files"))
                .withQueryParam("since", com.github.tomakehurst.wiremock.client.WireMock.matching(".+")))
                .get(0).queryParameter("since").firstValue();
        // since = the start of an earlier successful poll of this run, minus the one-minute overlap.
        java.time.Instant pollStart = java.time.Instant.parse(since).plus(Duration.ofMinutes(1));
        assertTrue(!pollStart.isBefore(STARTED) && !pollStart.isAfter(java.time.Instant.now()),
                "since " + since + " is a poll start of this run minus a minute");
        upstream.verify(com.github.tomakehurst.wiremock.client.WireMock.moreThanOrExactly(1),
                getRequestedFor(urlPathEqualTo("/flaky/acme/files"))
                        .withQueryParam("since", com.github.tomakehurst.wiremock.client.WireMock.absent()));
    }

    @Test
    void aFailingTokenEndpointIsRetriedThenShowsInHealthAndThePoll() {
        await().atMost(Duration.ofSeconds(20)).until(() -> polls.find("flaky-token", "broken")
                .map(p -> p.lastError() != null).orElse(false));
        PollRecord poll = polls.find("flaky-token", "broken").orElseThrow();
        assertTrue(poll.lastError().contains("after 3 attempts"), poll.lastError());
        upstream.verify(com.github.tomakehurst.wiremock.client.WireMock.moreThanOrExactly(3),
                com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor(urlPathEqualTo("/broken-token-endpoint")));
        io.restassured.RestAssured.when().get("/q/health/ready").then().statusCode(200);
        io.restassured.RestAssured.when().get("/q/health/well").then().statusCode(503)
                .body("checks.find { it.name == 'erphub-upstreams' }.status", org.hamcrest.Matchers.equalTo("DOWN"));
        assertTrue(health.upstreams().data().entrySet().stream().anyMatch(e -> e.getKey().startsWith("token endpoint")
                && e.getKey().endsWith("/broken-token-endpoint") && String.valueOf(e.getValue()).startsWith("DOWN")),
                health.upstreams().data().toString());
    }

    private FileRecord awaitState(String remoteId, FileState state) {
        FileKey key = new FileKey("acme", "flaky", remoteId, "1");
        await().atMost(Duration.ofSeconds(30)).until(() -> store.find(key).map(r -> r.state() == state).orElse(false));
        return store.find(key).orElseThrow();
    }

    private static String item(String id, String name, long size, String sum) {
        return "{\"id\":\"" + id + "\",\"name\":\"" + name + "\",\"v\":\"1\",\"size\":" + size + ",\"sha256\":\"" + sum
                + "\",\"href\":\"" + content(id) + "\"}";
    }

    private static String content(String id) {
        return "/flaky/content/" + id;
    }

    private static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder okJson(String body) {
        return aResponse().withHeader("Content-Type", "application/json").withBody(body);
    }
}
