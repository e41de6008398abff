package erphub.state;

import java.util.List;
import java.util.Map;

import erphub.testing.PostgresResource;
import erphub.testing.TestRoutes;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/** Every ledger test of {@link FileStateStoreTest}, against a real PostgreSQL server. */
@QuarkusTest
@TestProfile(FileStateStoreOnPostgresTest.OnPostgres.class)
class FileStateStoreOnPostgresTest extends FileStateStoreTest {

    public static class OnPostgres implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return TestRoutes.include("ledger");
        }

        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(PostgresResource.class));
        }
    }
}
