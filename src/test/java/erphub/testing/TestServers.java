package erphub.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.awaitility.Awaitility;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager.TestInjector;

/** Small helpers shared by the test resources: loopback ports, scratch folders, waiting for a port. */
public final class TestServers {

    public static final String LOOPBACK = "127.0.0.1";

    private TestServers() {
    }

    /**
     * A command line for a JVM of its own (the packaged app, s3proxy): this JVM's {@code java}, then the build's
     * options for test processes ({@code test.jvm.options} in pom.xml, empty under the bench and chaos profiles), then
     * {@code args}, so a test's own options win.
     */
    public static List<String> javaCommand(String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String options = System.getProperty("test.app.jvm.options", "").strip();
        if (!options.isEmpty()) {
            command.addAll(List.of(options.split("\\s+")));
        }
        command.addAll(List.of(args));
        return command;
    }

    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 0, java.net.InetAddress.getByName(LOOPBACK))) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fresh folder under target/, so a test run leaves nothing outside the build directory. */
    public static Path scratchDir(String prefix) {
        try {
            Path base = Path.of("target", "test-servers-work");
            Files.createDirectories(base);
            return Files.createTempDirectory(base.toAbsolutePath(), prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until something accepts connections on the port, or fails after the timeout. */
    public static void awaitPort(int port, Duration timeout) {
        Awaitility.await("something listening on " + LOOPBACK + ":" + port).atMost(timeout)
                .pollInterval(Duration.ofMillis(50)).ignoreExceptions()
                .until(() -> {
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress(LOOPBACK, port), 200);
                        return true;
                    }
                });
    }

    /** Hands a server object to the test's fields annotated {@link InjectTestServer} of a matching type. */
    public static void inject(TestInjector injector, Object server) {
        injector.injectIntoFields(server,
                new TestInjector.AnnotatedAndMatchesType(InjectTestServer.class, server.getClass()));
    }

    /** The SHA-256 of a file's bytes, in hex, read in 1 MiB blocks (memory does not grow with the file). */
    public static String sha256(Path file) throws IOException {
        java.security.MessageDigest md;
        try {
            md = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (java.io.InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) > 0;) {
                md.update(buffer, 0, n);
            }
        }
        return java.util.HexFormat.of().formatHex(md.digest());
    }
}
