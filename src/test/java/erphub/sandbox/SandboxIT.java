package erphub.sandbox;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import erphub.testing.PackagedApp;
import erphub.testing.TestServers;
import io.restassured.path.json.JsonPath;

/**
 * The first run as a new user has it: the packaged jar on the embedded default, started in a checkout (the
 * repository's config/tenants.yaml) with nothing else. Files reach the sandbox SFTP folder within a minute,
 * the printed admin token opens the API, and a restart does not process delivered files again.
 */
class SandboxIT {

    @Test
    void theEmbeddedDefaultMovesFilesEndToEndOutOfTheBoxAndResumesAfterARestart() throws Exception {
        Path work = TestServers.scratchDir("first-run-");
        Files.createDirectories(work.resolve("config"));
        Files.copy(Path.of("config/tenants.yaml"), work.resolve("config/tenants.yaml"));
        Map<String, String> props = new HashMap<>(PackagedApp.SANDBOX_AS_THE_PROFILE_SAYS);
        props.put("erphub.destinations.sftp.port", String.valueOf(TestServers.freePort()));
        Path sftp = work.resolve("data/sandbox/sftp");

        long delivered;
        long firstFile;
        int historyBefore;
        try (PackagedApp app = PackagedApp.start(work, props)) {
            // Within 60 s of the process start, delivered files are in each demo tenant's SFTP folder.
            await().atMost(Duration.ofSeconds(60)).until(() -> count(sftp.resolve("acme")) > 0
                    && count(sftp.resolve("globex")) > 0 && count(sftp.resolve("initech")) > 0);
            String token = adminToken(app);
            JsonPath files = api(app, token, "/api/files?state=DELIVERED&limit=1000");
            List<Long> ids = files.getList("items.id", Long.class);
            assertTrue(!ids.isEmpty(), files.prettify());
            firstFile = ids.get(0);
            JsonPath one = api(app, token, "/api/files/" + firstFile);
            assertEquals("DELIVERED", one.getString("file.state"));
            assertEquals(List.of("erp-api", "kafka", "sftp"), one.getList("deliveries.destination"));
            historyBefore = one.getList("history").size();
            delivered = ids.size();
            await().atMost(Duration.ofSeconds(30)).until(() -> app.output().contains("sandbox progress:"));
            // The one file whose listed checksum is wrong is rejected, visibly; once its upstream has corrected the
            // listing, an operator has it processed again and it is delivered.
            await().atMost(Duration.ofSeconds(60)).until(() -> !api(app, token, "/api/files?state=REJECTED")
                    .getList("items").isEmpty());
            long rejected = api(app, token, "/api/files?state=REJECTED").getLong("items[0].id");
            HttpResponse<String> reprocess = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(app.url("/api/files/" + rejected + "/reprocess"))).header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"comment\":\"supplier portal fixed its checksum\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(202, reprocess.statusCode(), reprocess.body());
            await().atMost(Duration.ofSeconds(60)).until(() -> "DELIVERED".equals(api(app, token, "/api/files/" + rejected)
                    .getString("file.state")));
            assertTrue(api(app, token, "/api/files/" + rejected).getList("history.detail").contains(
                    "reprocess requested by sandbox-admin: supplier portal fixed its checksum"));
        }
        long erpImports = count(work.resolve("data/sandbox/erp"));

        try (PackagedApp again = PackagedApp.start(work, props)) {
            String token = adminToken(again);
            // Two poll cycles of the payroll upstream later, the delivered files were not processed again.
            await().atMost(Duration.ofSeconds(90)).until(() -> api(again, token, "/api/files?state=DELIVERED&limit=1000")
                    .getList("items").size() > delivered);
            JsonPath one = api(again, token, "/api/files/" + firstFile);
            assertEquals(historyBefore, one.getList("history").size(), "no new transition for a delivered file");
            try (Stream<Path> keys = Files.list(work.resolve("data/sandbox/erp"))) {
                assertTrue(keys.allMatch(k -> count(k) == 1), "each idempotency key imported once");
            }
            assertTrue(count(work.resolve("data/sandbox/erp")) >= erpImports);
        }
    }

    /** The token the banner prints once the sandbox is up. */
    private static String adminToken(PackagedApp app) {
        Pattern banner = Pattern.compile("Admin token for the API[^\\n]*\\n\\s+(\\S+)");
        await().atMost(Duration.ofSeconds(60)).until(() -> banner.matcher(app.output()).find());
        Matcher m = banner.matcher(app.output());
        assertTrue(m.find());
        return m.group(1);
    }

    private static JsonPath api(PackagedApp app, String token, String path) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(app.url(path)))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), path + ": " + response.body());
        return new JsonPath(response.body());
    }

    private static long count(Path dir) {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith(".")).count();
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}
