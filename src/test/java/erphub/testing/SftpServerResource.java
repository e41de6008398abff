package erphub.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.Map;

import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.file.virtualfs.VirtualFileSystemFactory;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * A real SFTP server: Apache MINA SSHD in-process on a free 127.0.0.1 port, password auth, its
 * file system rooted in a scratch folder, and a known_hosts file holding its host key.
 */
public class SftpServerResource implements QuarkusTestResourceLifecycleManager {

    public static final String USER = "erp-drop";
    public static final String PASSWORD = "sftp-test-password";

    private SftpServer handle;

    /**
     * The running server, as tests see it: its root folder on disk, port and known_hosts. Tests may stop it,
     * start it again on the same port, or put an impostor with another host key on that port.
     */
    public static final class SftpServer {
        private final Path work;
        private final Path root;
        private final Path knownHosts;
        private final SimpleGeneratorHostKeyProvider hostKeys;
        private int port;
        private SshServer server;

        public SftpServer(Path work) throws IOException {
            this.work = work;
            this.root = Files.createDirectories(work.resolve("root"));
            this.knownHosts = work.resolve("known_hosts");
            this.hostKeys = new SimpleGeneratorHostKeyProvider(work.resolve("host.key"));
        }

        public Path root() {
            return root;
        }

        public int port() {
            return port;
        }

        public Path knownHosts() {
            return knownHosts;
        }

        /** Starts (again) with the real host key, on the same port as before. */
        public synchronized void start() {
            startWith(hostKeys);
        }

        /** Starts a server on the same port with a host key of its own: not the one in known_hosts. */
        public synchronized void startImpostor() {
            startWith(new SimpleGeneratorHostKeyProvider(work.resolve("impostor.key")));
        }

        public synchronized void stop() {
            if (server != null) {
                try {
                    server.stop(true);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                server = null;
            }
        }

        private void startWith(SimpleGeneratorHostKeyProvider keys) {
            stop();
            SshServer s = SshServer.setUpDefaultServer();
            s.setHost(TestServers.LOOPBACK);
            s.setPort(port);
            s.setKeyPairProvider(keys);
            s.setPasswordAuthenticator((user, password, session) -> USER.equals(user) && PASSWORD.equals(password));
            s.setSubsystemFactories(List.of(new SftpSubsystemFactory()));
            s.setFileSystemFactory(new VirtualFileSystemFactory(root));
            try {
                s.start();
                server = s;
                if (port == 0) {
                    port = s.getPort();
                    KeyPair hostKey = keys.loadKeys(null).iterator().next();
                    Files.writeString(knownHosts, "[" + TestServers.LOOPBACK + "]:" + port + " "
                            + PublicKeyEntry.toString(hostKey.getPublic()) + "\n");
                }
            } catch (IOException e) {
                throw new IllegalStateException("cannot start the SFTP test server on port " + port, e);
            }
        }
    }

    /** erphub's SFTP destination pointed at this server (host, port, login, known_hosts). */
    public static Map<String, String> asDestination() {
        return Map.of(
                "erphub.destinations.sftp.host", "${test.sftp.host}",
                "erphub.destinations.sftp.port", "${test.sftp.port}",
                "erphub.destinations.sftp.username", "${test.sftp.username}",
                "erphub.destinations.sftp.password", "${test.sftp.password}");
    }

    @Override
    public Map<String, String> start() {
        try {
            handle = new SftpServer(TestServers.scratchDir("sftp-"));
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the SFTP test server", e);
        }
        handle.start();
        return Map.of(
                "test.sftp.host", TestServers.LOOPBACK,
                "test.sftp.port", String.valueOf(handle.port()),
                "test.sftp.username", USER,
                "test.sftp.password", PASSWORD,
                "test.sftp.known-hosts", handle.knownHosts().toString(),
                // A plain value, not "${test.sftp.known-hosts}": the sftp route's toD is a simple expression.
                "erphub.destinations.sftp.known-hosts-file", handle.knownHosts().toString());
    }

    @Override
    public void inject(TestInjector injector) {
        TestServers.inject(injector, handle);
    }

    @Override
    public void stop() {
        if (handle != null) {
            handle.stop();
        }
    }
}
