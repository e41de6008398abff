package erphub.api;

import java.util.ArrayList;
import java.util.List;

import erphub.testing.EveryDatabaseTestsOnly;
import erphub.testing.OnEveryDatabase;
import erphub.testing.PostgresResource;
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
class ManagementApiOnPostgresTest extends ManagementApiTest {

    public static class ApiOnPostgres extends Api {
        @Override
        public List<TestResourceEntry> testResources() {
            List<TestResourceEntry> resources = new ArrayList<>(super.testResources());
            resources.add(new TestResourceEntry(PostgresResource.class));
            return resources;
        }
    }
}
