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
     * options for test processes ({@code test.app.jvm.options} in pom.xml, empty under the bench and chaos profiles), then
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

    /**
     * A loopback port nothing listens on, and that no other call of this JVM has handed out. It comes from below the
     * kernel's ephemeral range ({@code net.ipv4.ip_local_port_range}): a port from {@code bind(0)} is an ephemeral one,
     * which any outgoing connection of any process may take as its local port between this call and the server's
     * bind (Keycloak binds ~10 s later, and the suite runs classes side by side: CI lost a run to
     * "Port already bound: 32803"). Ports are handed out in turn from a random start, so two calls never collide.
     */
    public static int freePort() {
        synchronized (PORTS) {
            for (int tries = 0; tries < PORTS.span; tries++) {
                int port = PORTS.next();
                if (listenable(port)) {
                    return port;
                }
            }
        }
        throw new IllegalStateException("no free loopback port in " + PORTS);
    }

    private static boolean listenable(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(java.net.InetAddress.getByName(LOOPBACK), port), 0);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static final PortRange PORTS = PortRange.belowEphemeral();

    /** The ports {@link #freePort()} hands out in turn: from 10000 to just below the ephemeral range. */
    private static final class PortRange {
        private final int first;
        private final int span;
        private int offset;

        private PortRange(int first, int last) {
            this.first = first;
            this.span = last - first + 1;
            this.offset = java.util.concurrent.ThreadLocalRandom.current().nextInt(span);
        }

        /** Linux says its ephemeral range in /proc; elsewhere (macOS, Windows) it starts at 49152. */
        static PortRange belowEphemeral() {
            int ephemeralFirst = 49152;
            try {
                String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).strip();
                ephemeralFirst = Integer.parseInt(range.split("\\s+")[0]);
            } catch (IOException | RuntimeException e) {
                // not Linux: the IANA default above
            }
            int last = Math.max(ephemeralFirst - 1, 20000);
            return new PortRange(10000, Math.min(last, 65535));
        }

        int next() {
            int port = first + offset;
            offset = (offset + 1) % span;
            return port;
        }

        @Override
        public String toString() {
            return first + "-" + (first + span - 1);
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
