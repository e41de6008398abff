package erphub.delivery;

import java.util.ArrayList;
import java.util.List;

import erphub.testing.PostgresResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/** Every fan-out test of {@link FanOutTest}, with the ledger on a real PostgreSQL server. */
@QuarkusTest
@TestProfile(FanOutOnPostgresTest.AllDestinationsOnPostgres.class)
class FanOutOnPostgresTest extends FanOutTest {

    public static class AllDestinationsOnPostgres extends AllDestinations {
        @Override
        public List<TestResourceEntry> testResources() {
            List<TestResourceEntry> resources = new ArrayList<>(super.testResources());
            resources.add(new TestResourceEntry(PostgresResource.class));
            return resources;
        }
    }
}
