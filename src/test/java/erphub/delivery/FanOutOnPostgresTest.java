package erphub.delivery;

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
 * The fan-out tests of {@link FanOutTest} that rest on the state store's SQL ({@link OnEveryDatabase}: delivery,
 * exactly once under 503s, dead letters replayed by filter), with the ledger on a real PostgreSQL server.
 */
@QuarkusTest
@ExtendWith(EveryDatabaseTestsOnly.class)
@TestProfile(FanOutOnPostgresTest.AllDestinationsOnPostgres.class)
class FanOutOnPostgresTest extends FanOutTest {

    public static class AllDestinationsOnPostgres extends AllDestinations {
        @Override
        public List<TestResourceEntry> testResources() {
            List<TestResourceEntry> resources = new ArrayList<>(super.testResources());
            resources.add(new TestResourceEntry(PostgresResource.class, Map.of(), true));
            return resources;
        }
    }
}
