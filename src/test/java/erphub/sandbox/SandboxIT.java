package erphub.sandbox;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import erphub.testing.BesideTheApplication;
import erphub.testing.PackagedApp;
import erphub.testing.SftpServerResource;
import erphub.testing.TestServers;
import io.restassured.path.json.JsonPath;

/**
 * The first run as a new user has it: the packaged jar on the embedded default, started in a checkout (the
 * repository's config/tenants.yaml) with its data in an absolute ERPHUB_DATA_DIR. Files reach the sandbox SFTP folder
 * within a minute, the printed admin token opens the API, the sandbox refuses what it must, and a restart from
 * another folder with the same data directory does not process delivered files again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@BesideTheApplication(seconds = 80)
class SandboxIT {

    private Path data;
    private Map<String, String> props;
    private Map<String, String> env;
    private PackagedApp app;
    private String token;

    @BeforeAll
    void firstRun() throws Exception {
        Path work = checkout("first-run-");
        // Outside the working folder, absolute: where the ledger and archive must be, whatever the folder erphub starts in.
        data = TestServers.scratchDir("data-dir-").resolve("erphub");
        env = Map.of("ERPHUB_DATA_DIR", data.toString());
        props = new HashMap<>(PackagedApp.SANDBOX_AS_THE_PROFILE_SAYS);
        props.put("erphub.sandbox.sftp-port", String.valueOf(TestServers.freePort()));
        // A heap that four buffered 60 MiB imports would exhaust.
        app = PackagedApp.start(work, props, env, "-Xmx192m");
        app.awaitReady(Duration.ofSeconds(90));
        token = adminToken(app);
    }

    @AfterAll
    void stop() {
        if (app != null) {
            app.close();
        }
    }

    @Test
    @Order(1)
    void theEmbeddedDefaultMovesFilesEndToEndOutOfTheBox() throws Exception {
        Path sftp = data.resolve("sandbox/sftp");
        // Within 60 s of the process start, delivered files are in each demo tenant's SFTP folder.
        await().atMost(Duration.ofSeconds(60)).until(() -> count(sftp.resolve("acme")) > 0
                && count(sftp.resolve("globex")) > 0 && count(sftp.resolve("initech")) > 0);
        assertTrue(Files.exists(data.resolve("state/erphub.mv.db")), "the ledger is in ERPHUB_DATA_DIR");
        assertFalse(Files.exists(app.workDir().resolve(data.toString().substring(1))), "not below the working folder");
        JsonPath files = api(app, token, "/api/files?state=DELIVERED&limit=1000");
        List<Long> ids = files.getList("items.id", Long.class);
        assertTrue(!ids.isEmpty(), files.prettify());
        JsonPath one = api(app, token, "/api/files/" + ids.get(0));
        assertEquals("DELIVERED", one.getString("file.state"));
        assertEquals(List.of("erp-api", "kafka", "sftp"), one.getList("deliveries.destination"));
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

    /**
     * What a stranger or a broken client sends the sandbox. Columns: method, path (TOKEN: a sandbox token for acme,
     * KEY and NAME: the import's Idempotency-Key and X-Erphub-File-Name, - for none), the answer.
     */
    @ParameterizedTest(name = "{0} {1} key={2} name={3} -> {4}")
    @Order(2)
    @CsvSource(delimiter = '|', value = {
            "GET  | /sandbox/payroll/v2/tenants/acme/exports?after=abc          | -                  | -                  | 400",
            "GET  | /sandbox/payroll/v2/tenants/acme/exports?after=-1           | -                  | -                  | 400",
            "GET  | /sandbox/payroll/v2/tenants/acme/exports?after=99999999999  | -                  | -                  | 400",
            "GET  | /sandbox/invoices/api/documents?org=acme&page=0             | -                  | -                  | 400",
            "GET  | /sandbox/invoices/api/documents?org=acme&page=x             | -                  | -                  | 400",
            "GET  | /sandbox/invoices/api/documents?org=acme&per_page=-5        | -                  | -                  | 400",
            "GET  | /sandbox/invoices/api/documents?org=acme&per_page=100000000 | -                  | -                  | 400",
            "POST | /sandbox/erp/imports/payroll/acme                           | ..                 | ../../escaped.csv  | 400",
            "POST | /sandbox/erp/imports/payroll/acme                           | k1                 | %ZZ.csv            | 400",
            "POST | /sandbox/erp/imports/payroll/acme                           | k2                 | ..                 | 400",
            "POST | /sandbox/erp/imports/payroll/acme                           | k3                 | a%0Ab.csv          | 400",
            "POST | /sandbox/erp/imports/payroll/acme                           | -                  | x.csv              | 400",
            "POST | /sandbox/erp/imports/payroll/acme                           | ..                 | kept.csv           | 201",
            "POST | /sandbox/erp/imports/payroll/acme                           | ../../../../evil   | kept.csv           | 201",
            "POST | /sandbox/erp/imports/payroll/acme                           | ../../../../evil   | kept.csv           | 409",
    })
    void aBadRequestToTheSandboxIsAnsweredAndNeverWritesOutsideItsFolder(String method, String path, String key,
            String name, int status) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(app.url(path)))
                .header("Authorization", "Bearer " + sandboxToken("acme-payroll", "sandbox-acme-payroll"));
        if (!key.equals("-")) {
            request.header("Idempotency-Key", key);
        }
        if (!name.equals("-")) {
            // As erphub sends it: URL-encoded UTF-8 (the cases above are encoded already where they need to be).
            request.header("X-Erphub-File-Name", name.contains("%") ? name : URLEncoder.encode(name, StandardCharsets.UTF_8));
        }
        request.method(method, method.equals("POST") ? HttpRequest.BodyPublishers.ofString("a;b\n1;2\n")
                : HttpRequest.BodyPublishers.noBody());
        HttpResponse<String> answer = HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(status, answer.statusCode(), answer.body());
        if (status >= 400) {
            assertEquals("application/problem+json", answer.headers().firstValue("Content-Type").orElse(null), answer.body());
        }
        if (status == 201) {
            assertTrue(Files.exists(data.resolve("sandbox/erp").resolve(sha256(key)).resolve(name)),
                    "the import is kept under the key's digest, never under the key");
        }
        try (Stream<Path> all = Files.walk(data.getParent())) {
            assertEquals(List.of(), all.filter(p -> p.getFileName().toString().matches("kept\\.csv|escaped\\.csv|evil.*"))
                    .filter(p -> !p.startsWith(data.resolve("sandbox/erp"))).toList(), "nothing outside the ERP folder");
        }
    }

    @Test
    @Order(3)
    void theSandboxServesOnlyThisMachine() throws Exception {
        InetAddress outside = nonLoopbackAddress();
        String port = URI.create(app.url("/")).getPort() + "";
        HttpResponse<String> stranger = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://" + outside.getHostAddress() + ":" + port + "/sandbox/oauth2/jwks")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(403, stranger.statusCode(), stranger.body());
        HttpResponse<String> token = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://" + outside.getHostAddress() + ":" + port + "/sandbox/oauth2/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=acme-payroll"
                        + "&client_secret=sandbox-acme-payroll")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(403, token.statusCode(), "the public sandbox secrets give a stranger no token: " + token.body());
        HttpResponse<String> apiToken = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://" + outside.getHostAddress() + ":" + port + "/sandbox/oauth2/api-token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("tenant=acme")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(403, apiToken.statusCode(), "no API token for a stranger: " + apiToken.body());
        assertEquals(200, HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(app.url("/sandbox/oauth2/jwks")))
                .build(), HttpResponse.BodyHandlers.ofString()).statusCode(), "this machine is served");
    }

    /**
     * Tenant scoping, tried as a user of the sandbox would: a token for acme from the sandbox's API token endpoint
     * lists acme's files only, counts acme's only, and another tenant's file or name is not found; a tenant that is
     * not an id gets no token.
     */
    @Test
    @Order(3)
    void aTenantScopedTokenFromTheSandboxSeesOnlyItsTenantsFiles() throws Exception {
        String acme = new JsonPath(apiTokenFor("tenant=acme", 200)).getString("access_token");
        List<String> tenants = api(app, acme, "/api/files?limit=1000").getList("items.tenant", String.class);
        assertFalse(tenants.isEmpty(), "acme has delivered files by now");
        assertEquals(List.of("acme"), tenants.stream().distinct().toList());
        assertEquals(List.of("acme"), api(app, acme, "/api/files/summary").getList("tenant", String.class)
                .stream().distinct().toList());
        long globexFile = api(app, token, "/api/files?tenant=globex&limit=1").getLong("items[0].id");
        assertEquals(404, get(acme, "/api/files/" + globexFile).statusCode(), "another tenant's file is not found");
        assertEquals(404, get(acme, "/api/files/summary?tenant=globex").statusCode(), "nor its name");
        for (String hostile : List.of("tenant=", "tenant=ACME", "tenant=..%2Facme", "tenant=acme%0Aglobex",
                "tenant=" + "a".repeat(41))) {
            assertTrue(apiTokenFor(hostile, 400).contains("tenant must be a tenant id"), hostile);
        }
    }

    private String apiTokenFor(String form, int status) throws Exception {
        HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(app.url("/sandbox/oauth2/api-token"))).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(status, answer.statusCode(), form + ": " + answer.body());
        return answer.body();
    }

    private HttpResponse<String> get(String bearer, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(app.url(path)))
                .header("Authorization", "Bearer " + bearer).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Four 60 MiB imports at once into a 192 MiB heap: streamed to disk, every byte, and erphub lives on. */
    @Test
    @Order(4)
    void largeImportsAtOnceAreStreamedToDiskNotHeldInMemory() throws Exception {
        byte[] content = new byte[60 << 20];
        new java.util.Random(7).nextBytes(content);
        String bearer = sandboxToken("acme-erp", "sandbox-acme-erp");
        List<CompletableFuture<HttpResponse<String>>> imports = new ArrayList<>();
        HttpClient http = HttpClient.newHttpClient();
        for (int i = 0; i < 4; i++) {
            imports.add(http.sendAsync(HttpRequest.newBuilder(URI.create(app.url("/sandbox/erp/imports/big")))
                    .header("Authorization", "Bearer " + bearer).header("Idempotency-Key", "big-" + i)
                    .header("X-Erphub-File-Name", "big-" + i + ".bin")
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(content))).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < imports.size(); i++) {
            HttpResponse<String> answer = imports.get(i).get();
            assertEquals(201, answer.statusCode(), answer.body());
            Path stored = data.resolve("sandbox/erp").resolve(sha256("big-" + i)).resolve("big-" + i + ".bin");
            // Compared byte for byte: SHA-256 of 8 x 60 MiB took this JVM (C1, no SHA intrinsics) seconds of CPU.
            assertEquals(-1, java.util.Arrays.mismatch(content, Files.readAllBytes(stored)), stored.toString());
        }
        assertTrue(app.isAlive());
        assertFalse(app.output().contains("OutOfMemoryError"), "no OutOfMemoryError");
        assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(app.url("/q/health/live"))).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    /**
     * Started again from another folder with the same absolute ERPHUB_DATA_DIR, erphub opens the same ledger. This time
     * the user points the SFTP destination at a server of their own (ERPHUB_SFTP_*): the sandbox SFTP server keeps its
     * own port, both listen, and new files go to the user's server.
     */
    @Test
    @Order(5)
    void aRestartFromAnotherFolderResumesAndDoesNotProcessDeliveredFilesAgain() throws Exception {
        JsonPath before = api(app, token, "/api/files?state=DELIVERED&limit=1000");
        long delivered = before.getList("items").size();
        long firstFile = before.getLong("items[0].id");
        int historyBefore = api(app, token, "/api/files/" + firstFile).getList("history").size();
        app.close();
        long erpImports = count(data.resolve("sandbox/erp"));

        SftpServerResource.SftpServer own = new SftpServerResource.SftpServer(TestServers.scratchDir("own-sftp-"));
        own.start();
        Map<String, String> ownSftp = new HashMap<>(env);
        ownSftp.put("ERPHUB_SFTP_HOST", TestServers.LOOPBACK);
        ownSftp.put("ERPHUB_SFTP_PORT", String.valueOf(own.port()));
        ownSftp.put("ERPHUB_SFTP_USER", SftpServerResource.USER);
        ownSftp.put("ERPHUB_SFTP_PASSWORD", SftpServerResource.PASSWORD);
        ownSftp.put("ERPHUB_SFTP_KNOWN_HOSTS", own.knownHosts().toString());
        try {
            app = PackagedApp.start(checkout("restart-elsewhere-"), props, ownSftp);
            // The banner is printed before the HTTP server listens: wait for readiness before calling the API.
            app.awaitReady(Duration.ofSeconds(90));
            assertTrue(sshGreets(Integer.parseInt(props.get("erphub.sandbox.sftp-port"))),
                    "the sandbox SFTP server listens on its own port");
            await().atMost(Duration.ofSeconds(90)).until(() -> count(own.root()) > 0);
            String again = adminToken(app);
            // Two poll cycles of the payroll upstream later, the delivered files were not processed again.
            await().atMost(Duration.ofSeconds(90)).until(() -> api(app, again, "/api/files?state=DELIVERED&limit=1000")
                    .getList("items").size() > delivered);
            JsonPath one = api(app, again, "/api/files/" + firstFile);
            assertEquals(historyBefore, one.getList("history").size(), "no new transition for a delivered file");
            // At most once: erphub goes on delivering while this looks, and an import in progress has its key's
            // folder but not yet its file (a CI run caught one with the packaged-jar tests beside the others).
            try (Stream<Path> keys = Files.list(data.resolve("sandbox/erp"))) {
                List<Path> twice = keys.filter(k -> count(k) > 1).toList();
                assertTrue(twice.isEmpty(), "each idempotency key imported at most once: " + twice);
            }
            assertTrue(count(data.resolve("sandbox/erp")) >= erpImports);
        } finally {
            own.stop();
        }
    }

    /** Whether an SSH server answers on this loopback port with its identification line. */
    private static boolean sshGreets(int port) throws Exception {
        try (java.net.Socket socket = new java.net.Socket(TestServers.LOOPBACK, port)) {
            socket.setSoTimeout(5000);
            byte[] greeting = new byte[8];
            return socket.getInputStream().readNBytes(greeting, 0, 8) == 8
                    && new String(greeting, StandardCharsets.US_ASCII).startsWith("SSH-2.0");
        }
    }

    private static Path checkout(String prefix) throws Exception {
        Path work = TestServers.scratchDir(prefix);
        Files.createDirectories(work.resolve("config"));
        Files.copy(Path.of("config/tenants.yaml"), work.resolve("config/tenants.yaml"));
        return work;
    }

    private String sandboxToken(String client, String secret) throws Exception {
        HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                app.url("/sandbox/oauth2/token"))).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=" + client
                        + "&client_secret=" + secret)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, answer.statusCode(), answer.body());
        return new JsonPath(answer.body()).getString("access_token");
    }

    /** An address of this machine that is not loopback: how a stranger on the network reaches the HTTP port. */
    private static InetAddress nonLoopbackAddress() throws Exception {
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (nic.isUp() && !nic.isLoopback()) {
                for (InetAddress a : Collections.list(nic.getInetAddresses())) {
                    if (a instanceof Inet4Address) {
                        return a;
                    }
                }
            }
        }
        throw new AssertionError("this test needs a network interface besides loopback to play the stranger");
    }

    private static String sha256(String key) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
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
