package erphub.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A wide-area network in front of a loopback server: a TCP proxy on a free 127.0.0.1 port that delivers every chunk
 * of bytes, in each direction, half a round trip after it arrived. The bytes are not slowed down (a chunk read while
 * others are in flight leaves as soon as its own delay is over, like packets on a long link), only delayed, so a
 * request/response exchange costs one round trip more than on loopback and a TCP connect one more still, the way a
 * WAN charges a protocol for each of its round trips. Toxiproxy does the same as a separate Go server, which this
 * machine cannot fetch.
 *
 * <p>Per connection: one reader and one writer per direction. A reader stamps each chunk with the time it is due;
 * its writer sleeps until then and writes it. End of stream travels the same way (a half close, so HTTP/1.1 and SSH
 * see what they would see on the real link), and an error on either side closes both.
 */
public final class LatencyProxy implements AutoCloseable {

    /** At most this many chunks wait per direction (64 KiB each): a slow receiver holds up its sender, as TCP would. */
    private static final int IN_FLIGHT = 256;
    private static final byte[] END = new byte[0];

    private final String name;
    private final int targetPort;
    private final long halfTripNanos;
    private final ServerSocket server;
    private final ExecutorService threads;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicLong bytes = new AtomicLong();
    private volatile boolean closed;

    /**
     * @param name what the proxy stands in front of, for thread names
     * @param targetPort the loopback port it forwards to
     * @param roundTrip the round trip it adds (half of it each way)
     */
    public LatencyProxy(String name, int targetPort, Duration roundTrip) throws IOException {
        this.name = name;
        this.targetPort = targetPort;
        this.halfTripNanos = roundTrip.toNanos() / 2;
        this.server = new ServerSocket(0, 200, InetAddress.getByName(TestServers.LOOPBACK));
        AtomicInteger n = new AtomicInteger();
        this.threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "latency-" + name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        threads.execute(this::accept);
    }

    /** The port clients connect to instead of the target's. */
    public int port() {
        return server.getLocalPort();
    }

    /** {@code url} (pointing at the target) with this proxy's port instead. */
    public String url(String url) {
        URI u = URI.create(url);
        if (u.getPort() != targetPort) {
            throw new IllegalArgumentException(url + " is not on port " + targetPort);
        }
        return URI.create(u.getScheme() + "://" + u.getHost() + ":" + port() + u.getRawPath()
                + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery())).toString();
    }

    /** Connections accepted so far. */
    public int connections() {
        return connections.get();
    }

    /** Bytes forwarded so far, both directions. */
    public long bytes() {
        return bytes.get();
    }

    private void accept() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            connections.incrementAndGet();
            threads.execute(() -> connect(client));
        }
    }

    private void connect(Socket client) {
        // The TCP handshake to the far end is a round trip too: the client's first bytes wait for it.
        long connected = System.nanoTime() + 2 * halfTripNanos;
        Socket target = new Socket();
        try {
            client.setTcpNoDelay(true);
            target.setTcpNoDelay(true);
            target.connect(new java.net.InetSocketAddress(TestServers.LOOPBACK, targetPort), 10_000);
            sleepUntil(connected);
        } catch (IOException | InterruptedException e) {
            closeQuietly(client, target);
            return;
        }
        AtomicInteger ended = new AtomicInteger();
        pipe(client, target, ended);
        pipe(target, client, ended);
    }

    /**
     * One direction: a reader stamping chunks and a writer delivering them when due. When both directions have
     * ended ({@code ended} counts them), the connection is closed.
     */
    private void pipe(Socket from, Socket to, AtomicInteger ended) {
        BlockingQueue<Object[]> queue = new ArrayBlockingQueue<>(IN_FLIGHT);
        threads.execute(() -> {
            byte[] buffer = new byte[64 * 1024];
            try {
                // Not closed here: closing a socket's stream closes the socket, and the other direction may still run.
                InputStream in = from.getInputStream();
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    queue.put(new Object[] {System.nanoTime() + halfTripNanos, Arrays.copyOf(buffer, n)});
                }
                queue.put(new Object[] {System.nanoTime() + halfTripNanos, END});
            } catch (IOException | InterruptedException e) {
                closeQuietly(from, to);
            }
        });
        threads.execute(() -> {
            try {
                OutputStream out = to.getOutputStream();
                while (true) {
                    Object[] chunk = queue.poll(1, TimeUnit.SECONDS);
                    if (chunk == null) {
                        if (from.isClosed() && to.isClosed()) {
                            return;
                        }
                        continue;
                    }
                    sleepUntil((Long) chunk[0]);
                    byte[] data = (byte[]) chunk[1];
                    if (data == END) {
                        to.shutdownOutput();
                        if (ended.incrementAndGet() == 2) {
                            closeQuietly(from, to);
                        }
                        return;
                    }
                    out.write(data);
                    out.flush();
                    bytes.addAndGet(data.length);
                }
            } catch (IOException | InterruptedException e) {
                closeQuietly(from, to);
            }
        });
    }

    private static void sleepUntil(long dueNanos) throws InterruptedException {
        long wait = dueNanos - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }

    private static void closeQuietly(Socket... sockets) {
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        threads.shutdownNow();
    }

    @Override
    public String toString() {
        return "LatencyProxy[" + name + " :" + port() + " -> :" + targetPort + ", +" + 2 * halfTripNanos / 1_000_000 + " ms]";
    }
}
