package erphub.testing;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * The servers the suite starts get their ports from {@link TestServers#freePort()} and bind them seconds later, while
 * other classes run beside them. A port an outgoing connection can take in the meantime (an ephemeral one), or one
 * handed out twice, loses a CI run to "Address already in use".
 */
@BesideTheApplication
class TestServersTest {

    @Test
    void portsComeFromBelowTheEphemeralRangeAndNeverTwice() throws Exception {
        int ephemeralFirst = 49152;
        Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
        if (Files.exists(range)) {
            ephemeralFirst = Integer.parseInt(Files.readString(range).strip().split("\\s+")[0]);
        }
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 500; i++) {
            int port = TestServers.freePort();
            assertTrue(port >= 10000 && port < Math.max(ephemeralFirst, 20001),
                    port + " is in the ephemeral range, from " + ephemeralFirst);
            assertTrue(seen.add(port), port + " handed out twice");
        }
    }

    @Test
    void outgoingConnectionsDoNotTakeTheHandedOutPorts() throws Exception {
        // What lost a CI run: a port from bind(0) became the local port of some connection before Keycloak bound it.
        try (ServerSocket server = new ServerSocket(0, 200, InetAddress.getByName(TestServers.LOOPBACK))) {
            List<Socket> clients = new ArrayList<>();
            Set<Integer> handedOut = new HashSet<>();
            try {
                for (int i = 0; i < 100; i++) {
                    handedOut.add(TestServers.freePort());
                    Socket c = new Socket();
                    c.connect(new InetSocketAddress(TestServers.LOOPBACK, server.getLocalPort()));
                    clients.add(c);
                }
                for (Socket c : clients) {
                    assertTrue(!handedOut.contains(c.getLocalPort()),
                            "connection's local port " + c.getLocalPort() + " was handed out to a server");
                }
            } finally {
                for (Socket c : clients) {
                    c.close();
                }
            }
        }
    }

    @Test
    void aPortSomethingListensOnIsSkipped() throws Exception {
        int port = TestServers.freePort();
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(TestServers.LOOPBACK, port + 1));
            int next = TestServers.freePort();
            assertNotEquals(port + 1, next, "a listening port was handed out");
        } catch (java.net.BindException someoneElseHasIt) {
            // port + 1 was busy already: freePort would skip it all the same
        }
    }
}
