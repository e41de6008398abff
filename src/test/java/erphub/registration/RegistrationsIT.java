package erphub.registration;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import erphub.testing.BesideTheApplication;
import erphub.testing.PackagedApp;
import erphub.testing.OAuth2ServerResource;
import erphub.testing.PayrollFileServer;
import erphub.testing.TestServers;
import erphub.testing.TestTenants;
import erphub.testing.WebhookReceiver;
import erphub.testing.WebhookReceiver.Call;
import io.restassured.path.json.JsonPath;
import no.nav.security.mock.oauth2.MockOAuth2Server;

/**
 * The packaged jar killed (kill -9) while a registration's batch is gathering, then started again on the same state
 * store: every event of the window arrives, in one batch, once, signed. The events were rows before the kill; the
 * batch is closed and sent by the next run.
 */
@BesideTheApplication(seconds = 30)
class RegistrationsIT {

    static final String ISSUER = "erphub";
    static final int FILES = 20;

    @Test
    void killedDuringADebounceWindowNothingIsLostAndNothingSentTwice() throws Exception {
        try (PayrollFileServer upstream = new PayrollFileServer(); WebhookReceiver receiver = new WebhookReceiver()) {
            MockOAuth2Server oauth2 = new MockOAuth2Server();
            oauth2.start(InetAddress.getByName(TestServers.LOOPBACK), TestServers.freePort());
            try {
                Path work = TestServers.scratchDir("registrations-");
                Map<String, String> config = new HashMap<>();
                config.put("erphub.upstreams.payroll-exports.base-url", upstream.baseUrl());
                config.put("erphub.upstreams.payroll-exports.token-url", oauth2.tokenEndpointUrl("erphub").toString());
                config.put("erphub.upstreams.payroll-exports.poll-interval", "500");
                config.put("erphub.upstreams.payroll-exports.destinations", "none");
                config.put("erphub.registrations.allow-http", "true");
                config.put("erphub.registrations.allow-private-addresses", "true");
                config.put("erphub.registrations.batch-interval", "200");
                config.put("erphub.node-id", "registrations-node");
                config.putAll(new TestTenants().tenant("acme", Map.of("payroll-exports", "payroll")).write("registrations-it"));
                Map<String, String> environment = OAuth2ServerResource.apiEnvironment(oauth2, ISSUER);
                String admin = oauth2.issueToken(ISSUER, "ops-dave", "erphub-api",
                        Map.of("groups", List.of("erphub-admin")), 600).serialize();

                String id;
                try (PackagedApp app = PackagedApp.start(work, config, environment)) {
                    app.awaitReady(Duration.ofSeconds(90));
                    // A debounce far longer than the run before the kill: the batch cannot close before it.
                    HttpResponse<String> made = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create(app.url("/api/registrations"))).header("Authorization", "Bearer " + admin)
                            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"name\": \"crash\", \"filter\": {\"eventTypes\": [\"file.discovered\"]},"
                                            + " \"channel\": {\"type\": \"webhook\", \"url\": \"" + receiver.url("/crash")
                                            + "\"}, \"batching\": {\"debounce\": \"PT8S\", \"maxWait\": \"PT60S\"}}"))
                            .build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(201, made.statusCode(), made.body());
                    id = JsonPath.from(made.body()).getString("registration.id");
                    receiver.secrets("/crash", JsonPath.from(made.body()).getString("secret"));
                    for (int i = 0; i < FILES; i++) {
                        upstream.add("acme", String.format("r-%03d", i), 1024);
                    }
                    await().atMost(Duration.ofSeconds(60)).until(() -> matchedEvents(app) >= FILES);
                    assertTrue(receiver.calls("/crash").isEmpty(), "the window is still open");
                    app.kill();
                }
                try (PackagedApp app = PackagedApp.start(work, config, environment)) {
                    app.awaitReady(Duration.ofSeconds(90));
                    await().atMost(Duration.ofSeconds(60)).until(() -> receiver.accepted("/crash").stream()
                            .mapToInt(c -> JsonPath.from(c.text()).getList("events").size()).sum() >= FILES);
                    // A second (wrong) send would come within a look or two (200 ms apart): none does.
                    await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5))
                            .until(() -> receiver.calls("/crash").size() == 1);
                    List<Call> calls = receiver.calls("/crash");
                    assertTrue(calls.stream().allMatch(Call::accepted), calls.stream().map(Call::refusal).toList().toString());
                    List<String> names = new ArrayList<>();
                    for (Call c : calls) {
                        names.addAll(JsonPath.from(c.text()).getList("events.fileName"));
                    }
                    assertEquals(FILES, names.size(), "nothing sent twice: " + names);
                    Set<String> expected = new HashSet<>();
                    for (int i = 0; i < FILES; i++) {
                        expected.add(String.format("r-%03d.bin", i));
                    }
                    assertEquals(expected, new HashSet<>(names), "nothing lost");
                    assertEquals(1, calls.size(), "one window, one batch");
                    HttpResponse<String> batches = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create(app.url("/api/registrations/" + id + "/batches")))
                            .header("Authorization", "Bearer " + admin).build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(List.of("DELIVERED"), JsonPath.from(batches.body()).getList("state"), batches.body());
                }
            } finally {
                oauth2.shutdown();
            }
        }
    }

    /** Events stored for registrations by this run, from its Prometheus metrics. */
    private static long matchedEvents(PackagedApp app) throws Exception {
        HttpResponse<String> metrics = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(app.url("/q/metrics"))).build(), HttpResponse.BodyHandlers.ofString());
        return metrics.body().lines().filter(line -> line.startsWith("erphub_registrations_events_total"))
                .mapToLong(line -> (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
    }
}
