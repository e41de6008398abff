package erphub.api;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import erphub.testing.EveryDatabaseTestsOnly;
import erphub.testing.OnEveryDatabase;
import erphub.testing.KafkaBrokerResource;
import erphub.testing.PostgresResource;
import erphub.testing.SftpServerResource;
import erphub.testing.TestRoutes;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The tests of {@link ManagementApiTest} that rest on the state store's SQL ({@link OnEveryDatabase}: tenant
 * scoping, replay, pushes, paging), with the ledger on a real PostgreSQL server.
 */
@QuarkusTest
@ExtendWith(EveryDatabaseTestsOnly.class)
@TestProfile(ManagementApiOnPostgresTest.ApiOnPostgres.class)
public class ManagementApiOnPostgresTest extends ManagementApiTest {

    public static class ApiOnPostgres extends Api {
        /**
         * Without RegistrationsTest's SFTP and Kafka registrants (their channel test runs on H2 only: the SQL is the
         * webhook's), so this application does not start a broker and an SFTP server it would not use; with the
         * ledger's test route, for FileStateStoreOnPostgresTest (the same application: one boot fewer).
         */
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> config = new HashMap<>(super.getConfigOverrides());
            SftpServerResource.asDestination().keySet().forEach(config::remove);
            config.remove("erphub.destinations.kafka.uri");
            // The default routes (the operators' folder of the test profile included) and the ledger's test route.
            config.put("camel.main.routes-include-pattern", TestRoutes.include("ledger")
                    .get("camel.main.routes-include-pattern") + ",file:target/test-operator-routes/*.yaml");
            return config;
        }

        @Override
        public List<TestResourceEntry> testResources() {
            List<TestResourceEntry> resources = new ArrayList<>(super.testResources());
            resources.removeIf(r -> r.getClazz() == SftpServerResource.class || r.getClazz() == KafkaBrokerResource.class);
            resources.add(new TestResourceEntry(PostgresResource.class, Map.of(), true));
            return resources;
        }
    }
}
