package erphub.api;

import java.util.ArrayList;
import java.util.List;

import erphub.testing.PostgresResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/** {@link ManagementApiTest} with the ledger on a real PostgreSQL server. */
@QuarkusTest
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
