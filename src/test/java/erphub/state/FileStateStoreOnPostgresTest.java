package erphub.state;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import erphub.api.ManagementApiOnPostgresTest;
import erphub.testing.InjectTestServer;
import erphub.testing.PostgresResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * Every ledger test of {@link FileStateStoreTest}, against a real PostgreSQL server; then, last, health as the load
 * balancer and the kubelet poll it when the test stops that server under the application: readiness goes DOWN
 * within one readiness period (5 s in kubernetes/), liveness stays UP, and readiness is UP again once the server is
 * back (the pool drops the dead connections). (IntakeFailuresTest covers the other half: an unreachable upstream is
 * DOWN in its own check, readiness UP.) It shares the PostgreSQL application of the API tests: one application
 * boot fewer in the suite, and the server is back for whichever class runs next.
 */
@QuarkusTest
@TestProfile(ManagementApiOnPostgresTest.ApiOnPostgres.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FileStateStoreOnPostgresTest extends FileStateStoreTest {

    @InjectTestServer
    PostgresResource.Server postgres;

    /** Last: no ledger test can run after it. */
    @Test
    @Order(Integer.MAX_VALUE)
    void stoppingTheStateDatabaseTakesReadinessDownWithinAProbePeriodAndLivenessStaysUp() throws Exception {
        assertEquals(200, given().get("/q/health/ready").statusCode());
        assertEquals(200, given().get("/q/health/live").statusCode());

        postgres.stop();
        try {
            readinessFollowsTheDatabase();
        } finally {
            postgres.start();
        }
        long restarted = System.nanoTime();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> given().get("/q/health/ready").statusCode() == 200);
        System.out.printf("[%s] readiness UP %.1f s after the database was back%n", getClass().getSimpleName(),
                (System.nanoTime() - restarted) / 1e9);
        // And the ledger works again on the same data: no application restart needed.
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .until(() -> claims.claim(newKey("after-outage"), "after-outage.csv", null, null, null).isPresent());
    }

    private void readinessFollowsTheDatabase() {
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
