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

    private SshServer server;
    private SftpServer handle;

    /** What a test needs to look at the server: its root folder on disk. */
    public record SftpServer(Path root, int port, Path knownHosts) {
    }

    @Override
    public Map<String, String> start() {
        try {
            Path work = TestServers.scratchDir("sftp-");
            Path root = Files.createDirectories(work.resolve("root"));
            SimpleGeneratorHostKeyProvider hostKeys = new SimpleGeneratorHostKeyProvider(work.resolve("host.key"));
            server = SshServer.setUpDefaultServer();
            server.setHost(TestServers.LOOPBACK);
            server.setPort(0);
            server.setKeyPairProvider(hostKeys);
            server.setPasswordAuthenticator((user, password, session) -> USER.equals(user) && PASSWORD.equals(password));
            server.setSubsystemFactories(List.of(new SftpSubsystemFactory()));
            server.setFileSystemFactory(new VirtualFileSystemFactory(root));
            server.start();
            int port = server.getPort();

            KeyPair hostKey = hostKeys.loadKeys(null).iterator().next();
            Path knownHosts = work.resolve("known_hosts");
            Files.writeString(knownHosts,
                    "[" + TestServers.LOOPBACK + "]:" + port + " " + PublicKeyEntry.toString(hostKey.getPublic()) + "\n");
            handle = new SftpServer(root, port, knownHosts);
            return Map.of(
                    "test.sftp.host", TestServers.LOOPBACK,
                    "test.sftp.port", String.valueOf(port),
                    "test.sftp.username", USER,
                    "test.sftp.password", PASSWORD,
                    "test.sftp.known-hosts", knownHosts.toString());
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the SFTP test server", e);
        }
    }

    @Override
    public void inject(TestInjector injector) {
        TestServers.inject(injector, handle);
    }

    @Override
    public void stop() {
        if (server != null) {
            try {
                server.stop(true);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
