package erphub.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import erphub.testing.EveryDatabaseTestsOnly;
import erphub.testing.OnEveryDatabase;
import erphub.testing.PostgresResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The intake tests of {@link FileIntakeTest} that rest on the state store's SQL ({@link OnEveryDatabase}: claims,
 * versions, a complete ledger), with the ledger on a real PostgreSQL server.
 */
@QuarkusTest
@ExtendWith(EveryDatabaseTestsOnly.class)
@TestProfile(FileIntakeOnPostgresTest.ThreeTenantsOnPostgres.class)
class FileIntakeOnPostgresTest extends FileIntakeTest {

    public static class ThreeTenantsOnPostgres extends ThreeTenants {
        @Override
        public Map<String, String> getConfigOverrides() {
            return super.getConfigOverrides();
        }

        @Override
        public List<TestResourceEntry> testResources() {
            List<TestResourceEntry> resources = new ArrayList<>(super.testResources());
            resources.add(new TestResourceEntry(PostgresResource.class));
            return resources;
        }
    }
}
