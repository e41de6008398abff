package erphub.api;

import org.junit.jupiter.api.extension.ExtendWith;

import erphub.testing.EveryDatabaseTestsOnly;
import erphub.testing.OnEveryDatabase;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * The tests of {@link RegistrationsTest} that rest on the state store's SQL ({@link OnEveryDatabase}: closing
 * batches, claiming them, retries and replay), with the state store on a real PostgreSQL server.
 */
@QuarkusTest
@ExtendWith(EveryDatabaseTestsOnly.class)
@TestProfile(ManagementApiOnPostgresTest.ApiOnPostgres.class)
class RegistrationsOnPostgresTest extends RegistrationsTest {

    /** The same SQL closes and claims a burst of any size: 150 files here, the full 500 on H2 (suite time). */
    @Override
    int burstFiles() {
        return 150;
    }
}
