package erphub.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import io.restassured.path.json.JsonPath;

/**
 * A real Keycloak (its distribution from Maven Central, unpacked by the build into target/test-servers) on a free
 * loopback port, in development mode with an in-memory database, with one realm imported from a JSON file: the
 * identity provider a user points erphub at (docs/api.md, "Tokens from an identity provider of your own").
 */
public final class KeycloakServer implements AutoCloseable {

    private final Process process;
    private final Path log;
    private final int port;
    private final String realm;

    private KeycloakServer(Process process, Path log, int port, String realm) {
        this.process = process;
        this.log = log;
        this.port = port;
        this.realm = realm;
    }

    /** Starts Keycloak with the realm in {@code realmJson} (a classpath resource) and waits until it serves it. */
    public static KeycloakServer start(String realmJson, String realm, Duration timeout) throws IOException {
        Path home = home();
        // --import-realm reads the distribution's data/import; the database is in memory, so every start imports.
        Path imports = Files.createDirectories(home.resolve("data").resolve("import"));
        try (var in = KeycloakServer.class.getResourceAsStream(realmJson)) {
            if (in == null) {
                throw new IllegalStateException("no resource " + realmJson);
            }
            Files.write(imports.resolve(realm + "-realm.json"), in.readAllBytes());
        }
        int port = TestServers.freePort();
        List<String> command = new ArrayList<>(List.of(home.resolve("bin").resolve("kc.sh").toString(), "start-dev",
                "--db=dev-mem", "--http-host=" + TestServers.LOOPBACK, "--http-port=" + port,
                "--http-management-port=" + TestServers.freePort(), "--import-realm", "--cache=local"));
        Path log = TestServers.scratchDir("keycloak-").resolve("keycloak.log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        // Keycloak runs on this JVM's Java (17 or newer), with a modest heap (it is one of several processes here).
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().put("JAVA_OPTS_KC_HEAP", "-Xms64m -Xmx384m");
        // The build's options for short-lived test JVMs (C1 only: ready in 15 s instead of 17.5 s here), less the
        // collector: kc.sh chooses the parallel one, and a second choice stops the JVM.
        builder.environment().put("JAVA_OPTS_APPEND", System.getProperty("test.app.jvm.options", "")
                .replaceAll("-XX:\\+Use\\w+GC", "").strip());
        KeycloakServer server = new KeycloakServer(builder.start(), log, port, realm);
        try {
            server.awaitRealm(timeout);
        } catch (RuntimeException | Error e) {
            server.close();
            throw e;
        }
        return server;
    }

    /** The unpacked distribution (pom.xml, execution keycloak-dist). */
    static Path home() throws IOException {
        Path servers = Path.of(System.getProperty("test.servers.dir", "target/test-servers"));
        try (Stream<Path> dirs = Files.list(servers)) {
            return dirs.filter(d -> d.getFileName().toString().startsWith("keycloak-") && Files.isDirectory(d))
                    .findFirst().orElseThrow(() -> new IllegalStateException("no Keycloak distribution under "
                            + servers + ": ./mvnw verify unpacks it before the *IT tests"));
        }
    }

    private void awaitRealm(Duration timeout) {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest discovery = HttpRequest.newBuilder(URI.create(issuer() + "/.well-known/openid-configuration"))
                .timeout(Duration.ofSeconds(5)).build();
        try {
            org.awaitility.Awaitility.await("Keycloak serving realm " + realm).atMost(timeout)
                    .pollInterval(Duration.ofMillis(500)).ignoreExceptionsInstanceOf(IOException.class).until(() -> {
                        if (!process.isAlive()) {
                            throw new IllegalStateException("Keycloak exited with " + process.exitValue() + ":\n"
                                    + output());
                        }
                        return http.send(discovery, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
                    });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new IllegalStateException("Keycloak did not serve realm " + realm + " within " + timeout + ":\n"
                    + output(), e);
        }
    }

    /** The realm's issuer, as its tokens' {@code iss} says it. */
    public String issuer() {
        return "http://" + TestServers.LOOPBACK + ":" + port + "/realms/" + realm;
    }

    public String tokenUrl() {
        return issuer() + "/protocol/openid-connect/token";
    }

    public String jwksUrl() {
        return issuer() + "/protocol/openid-connect/certs";
    }

    /** An access token for a confidential client, by the client-credentials grant (as docs/api.md shows with curl). */
    public String clientToken(String clientId, String secret) {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(tokenUrl()))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id="
                            + URLEncoder.encode(clientId, StandardCharsets.UTF_8) + "&client_secret="
                            + URLEncoder.encode(secret, StandardCharsets.UTF_8)))
                    .build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("Keycloak refused a token to " + clientId + ": " + r.statusCode() + " "
                        + r.body());
            }
            return JsonPath.from(r.body()).getString("access_token");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The end of what Keycloak printed. */
    public String output() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
