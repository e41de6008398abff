package erphub.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;

import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.file.virtualfs.VirtualFileSystemFactory;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;

/**
 * The sandbox's SFTP drop server (Apache MINA SSHD) on localhost: password login with erphub's configured SFTP
 * user, a host key kept across restarts and written to the known_hosts file erphub checks it against.
 */
final class SandboxSftp {

    private final Path root;
    private final Path knownHosts;
    private final Path hostKey;
    private final int port;
    private final String user;
    private final String password;
    private SshServer server;

    SandboxSftp(Path root, Path knownHosts, Path hostKey, int port, String user, String password) {
        this.root = root;
        this.knownHosts = knownHosts;
        this.hostKey = hostKey;
        this.port = port;
        this.user = user;
        this.password = password;
    }

    Path root() {
        return root;
    }

    void start() throws IOException {
        Files.createDirectories(root);
        SimpleGeneratorHostKeyProvider keys = new SimpleGeneratorHostKeyProvider(hostKey);
        SshServer s = SshServer.setUpDefaultServer();
        s.setHost("127.0.0.1");
        s.setPort(port);
        s.setKeyPairProvider(keys);
        s.setPasswordAuthenticator((u, p, session) -> !password.isEmpty() && user.equals(u) && password.equals(p));
        s.setSubsystemFactories(List.of(new SftpSubsystemFactory()));
        s.setFileSystemFactory(new VirtualFileSystemFactory(root));
        s.start();
        server = s;
        KeyPair key = keys.loadKeys(null).iterator().next();
        String entry = PublicKeyEntry.toString(key.getPublic());
        Files.writeString(knownHosts, "[localhost]:" + port + " " + entry + "\n[127.0.0.1]:" + port + " " + entry + "\n");
    }

    void stop() {
        if (server != null) {
            try {
                server.stop(true);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
