package erphub.state;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import erphub.testing.InjectTestServer;
import erphub.testing.PostgresResource;
import erphub.testing.TestRoutes;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * Every ledger test of {@link FileStateStoreTest}, against a real PostgreSQL server; then, last, health as the load
 * balancer and the kubelet poll it when the test stops that server under the application: readiness goes DOWN
 * within one readiness period (5 s in kubernetes/), liveness stays UP. (IntakeFailuresTest covers the other half: an
 * unreachable upstream is DOWN in its own check, readiness UP.) One application for both, not two.
 */
@QuarkusTest
@TestProfile(FileStateStoreOnPostgresTest.OnPostgres.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
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

    @InjectTestServer
    EmbeddedPostgres postgres;

    /** Last: no ledger test can run after it. */
    @Test
    @Order(Integer.MAX_VALUE)
    void stoppingTheStateDatabaseTakesReadinessDownWithinAProbePeriodAndLivenessStaysUp() throws Exception {
        assertEquals(200, given().get("/q/health/ready").statusCode());
        assertEquals(200, given().get("/q/health/live").statusCode());

        postgres.close();
        long stopped = System.nanoTime();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .until(() -> given().get("/q/health/ready").statusCode() == 503);
        System.out.printf("[%s] readiness DOWN %.1f s after the database stopped%n", getClass().getSimpleName(),
                (System.nanoTime() - stopped) / 1e9);
        given().get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name.contains('Database') }.status", org.hamcrest.Matchers.equalTo("DOWN"));
        // Liveness stays UP all along: restarting the pod would not bring the database back.
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4)).pollInterval(Duration.ofMillis(200))
                .until(() -> given().get("/q/health/live").statusCode() == 200);
    }
}
