package erphub.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The benchmark's WAN (workload d) is only as good as its proxy: each exchange must cost the round trip, no less,
 * the bytes must arrive intact and in order however they are chunked, and an end of stream must reach the other side
 * (HTTP/1.1 and SSH close connections that way). Against a real echo server on a loopback socket.
 */
@BesideTheApplication
class LatencyProxyTest {

    private static final Duration ROUND_TRIP = Duration.ofMillis(40);

    @Test
    void everyExchangeCostsTheRoundTripAndTheBytesArriveIntact() throws Exception {
        try (ServerSocket echo = echoServer(); LatencyProxy proxy = new LatencyProxy("echo", echo.getLocalPort(), ROUND_TRIP)) {
            try (Socket s = new Socket(TestServers.LOOPBACK, proxy.port())) {
                s.setTcpNoDelay(true);
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                // A few request/response exchanges: each one waits for its answer, so each pays a whole round trip
                // (the first one the TCP connect's too).
                int exchanges = 5;
                long started = System.nanoTime();
                for (int i = 0; i < exchanges; i++) {
                    out.write(i);
                    out.flush();
                    assertEquals(i, in.read());
                }
                long tookMillis = (System.nanoTime() - started) / 1_000_000;
                assertTrue(tookMillis >= exchanges * ROUND_TRIP.toMillis(),
                        exchanges + " exchanges took " + tookMillis + " ms, less than their round trips");

                // 3 MiB of random bytes, written while the echo comes back: delayed, never reordered or lost.
                byte[] payload = new byte[3 << 20];
                new Random(7).nextBytes(payload);
                Thread writer = new Thread(() -> {
                    try {
                        out.write(payload);
                        out.flush();
                        s.shutdownOutput();
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                });
                writer.start();
                ByteArrayOutputStream back = new ByteArrayOutputStream();
                in.transferTo(back); // ends only when the echo's half close came through the proxy
                writer.join();
                assertArrayEquals(payload, back.toByteArray());
            }
            assertEquals(1, proxy.connections());
        }
    }

    @Test
    void aTargetThatIsNotThereClosesTheClientsConnection() throws Exception {
        int nothingListens;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(TestServers.LOOPBACK))) {
            nothingListens = s.getLocalPort();
        }
        try (LatencyProxy proxy = new LatencyProxy("nothing", nothingListens, ROUND_TRIP);
                Socket s = new Socket(TestServers.LOOPBACK, proxy.port())) {
            s.setSoTimeout(10_000);
            assertEquals(-1, s.getInputStream().read(), "the client sees the connection end, not a hang");
        }
        try (LatencyProxy proxy = new LatencyProxy("nothing", nothingListens, ROUND_TRIP)) {
            assertThrows(IllegalArgumentException.class, () -> proxy.url("http://127.0.0.1:1/elsewhere"),
                    "a URL of another server is refused, not silently sent past the proxy");
        }
    }

    /** Echoes each connection's bytes back and half-closes when its client did. */
    private static ServerSocket echoServer() throws IOException {
        ServerSocket server = new ServerSocket(0, 10, InetAddress.getByName(TestServers.LOOPBACK));
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket c = server.accept();
                    c.setTcpNoDelay(true);
                    Thread echo = new Thread(() -> {
                        try (c) {
                            c.getInputStream().transferTo(c.getOutputStream());
                            c.shutdownOutput();
                        } catch (IOException ignored) {
                            // the test failed elsewhere
                        }
                    });
                    echo.setDaemon(true);
                    echo.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        return server;
    }
}
