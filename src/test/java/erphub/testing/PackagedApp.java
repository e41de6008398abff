package erphub.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The packaged application ({@code target/quarkus-app/quarkus-run.jar}) started as a user starts it:
 * {@code java -jar} in its own working folder, as a separate process. Used by the {@code *IT} tests,
 * which run after {@code package}.
 */
public final class PackagedApp implements AutoCloseable {

    private final Process process;
    private final Path workDir;
    private final Path log;
    private final int port;
    private final long startedNanos;

    private PackagedApp(Process process, Path workDir, Path log, int port, long startedNanos) {
        this.process = process;
        this.workDir = workDir;
        this.log = log;
        this.port = port;
        this.startedNanos = startedNanos;
    }

    /** System properties that leave the sandbox as the active profile has it (on in the embedded default, off in prod). */
    public static final Map<String, String> SANDBOX_AS_THE_PROFILE_SAYS = Map.of("erphub.sandbox.enabled", "");

    /** Starts the jar in {@code workDir} with the given system properties (and a free HTTP port). */
    public static PackagedApp start(Path workDir, Map<String, String> systemProperties, String... jvmArgs) {
        return start(workDir, systemProperties, Map.of(), jvmArgs);
    }

    /** As {@link #start(Path, Map, String...)}, with extra environment variables, as a container gets them. */
    public static PackagedApp start(Path workDir, Map<String, String> systemProperties, Map<String, String> environment,
            String... jvmArgs) {
        Path jar = Path.of(System.getProperty("test.app.dir", "target/quarkus-app"), "quarkus-run.jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: the *IT tests run after 'package' (./mvnw verify)");
        }
        int port = TestServers.freePort();
        List<String> command = TestServers.javaCommand(jvmArgs);
        command.add("-Dquarkus.http.port=" + port);
        // The sandbox (SFTP on a fixed port) only where a test asks for it: several apps may run at once.
        if (!systemProperties.containsKey("erphub.sandbox.enabled")) {
            command.add("-Derphub.sandbox.enabled=false");
        }
        // Jolokia and the Hawtio console listen on fixed ports: also only where a test asks for them. The Jolokia
        // agent binds its port even when it does not start, so every process gets a port of its own.
        if (!systemProperties.containsKey("erphub.jolokia.enabled")) {
            command.add("-Derphub.jolokia.enabled=false");
        }
        if (!systemProperties.containsKey("quarkus.camel.jolokia.server.port")) {
            command.add("-Dquarkus.camel.jolokia.server.port=" + TestServers.freePort());
        }
        if (!systemProperties.containsKey("erphub.console.enabled")) {
            command.add("-Derphub.console.enabled=false");
        }
        // An empty value sets nothing: the profile decides (see SANDBOX_AS_THE_PROFILE_SAYS).
        systemProperties.forEach((k, v) -> {
            if (!v.isEmpty()) {
                command.add("-D" + k + "=" + v);
            }
        });
        command.add("-jar");
        command.add(jar.toString());
        try {
            Files.createDirectories(workDir);
            Path log = Files.createTempFile(workDir, "erphub-", ".log");
            long started = System.nanoTime();
            ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile())
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().putAll(environment);
            Process process = builder.start();
            return new PackagedApp(process, workDir, log, port, started);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits for {@code /q/health/ready} to answer UP; returns the time it took since the process started. */
    public Duration awaitReady(Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest ready = HttpRequest.newBuilder(URI.create(url("/q/health/ready"))).timeout(Duration.ofSeconds(2)).build();
        try {
            Awaitility.await("erphub ready").atMost(timeout).pollInterval(Duration.ofMillis(100))
                    .ignoreExceptionsInstanceOf(IOException.class)
                    .until(() -> {
                        if (!process.isAlive()) {
                            throw new IllegalStateException("erphub exited with " + process.exitValue()
                                    + " before it was ready:\n" + output());
                        }
                        return http.send(ready, HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
                    });
        } catch (ConditionTimeoutException e) {
            throw new IllegalStateException("erphub not ready after " + timeout + ":\n" + output(), e);
        }
        return Duration.ofNanos(System.nanoTime() - startedNanos);
    }

    /** Whether {@code /q/health/ready} answers UP now (one request, two seconds at most). */
    public boolean isReady() {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        try {
            return process.isAlive() && http.send(HttpRequest.newBuilder(URI.create(url("/q/health/ready")))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Waits for the process to end by itself; returns its exit code. */
    public int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("erphub still running after " + timeout + ":\n" + output());
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /**
     * A GET of one of this app's paths, with a bearer token (or {@code null}): the response, whatever its status (a
     * health endpoint answers 503 when DOWN).
     */
    public HttpResponse<String> get(String path, String bearerToken) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(10));
        if (bearerToken != null) {
            request.header("Authorization", "Bearer " + bearerToken);
        }
        try {
            return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Resident memory of the process in KiB, from /proc (Linux). */
    public long residentKiB() {
        return ProcessMemory.residentKiB(String.valueOf(process.pid()));
    }

    public long pid() {
        return process.pid();
    }

    public String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    public Path workDir() {
        return workDir;
    }

    public String output() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    /** Kills the process at once (SIGKILL), as a crash or an OOM kill would. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Stops the process as an orchestrator does (SIGTERM), waiting for the graceful shutdown; prints the CPU time it
     * used (the suite is CPU-bound on two cores: docs/testing.md, "How long the suite takes").
     */
    @Override
    public void close() {
        process.info().totalCpuDuration().ifPresent(cpu -> System.out.printf(
                "[PackagedApp] %s: %.1f CPU s in %.1f s%n", workDir.getFileName(), cpu.toMillis() / 1000.0,
                (System.nanoTime() - startedNanos) / 1e9));
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
