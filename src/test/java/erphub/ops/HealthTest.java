package erphub.ops;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import erphub.testing.InjectTestServer;
import erphub.testing.PostgresResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * Health as the load balancer and the kubelet poll it, with the state database on a real PostgreSQL server that
 * the test stops: readiness goes DOWN within one readiness period (5 s in kubernetes/), liveness stays UP.
 * (IntakeFailuresTest covers the other half: an unreachable upstream is DOWN in its own check, readiness UP.)
 */
@QuarkusTest
@TestProfile(HealthTest.OnPostgres.class)
class HealthTest {

    public static class OnPostgres implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(PostgresResource.class));
        }
    }

    @InjectTestServer
    EmbeddedPostgres postgres;

    @Test
    void stoppingTheStateDatabaseTakesReadinessDownWithinAProbePeriodAndLivenessStaysUp() throws Exception {
        assertEquals(200, given().get("/q/health/ready").statusCode());
        assertEquals(200, given().get("/q/health/live").statusCode());

        postgres.close();
        long stopped = System.nanoTime();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .until(() -> given().get("/q/health/ready").statusCode() == 503);
        System.out.printf("[HealthTest] readiness DOWN %.1f s after the database stopped%n", (System.nanoTime() - stopped) / 1e9);
        given().get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name.contains('Database') }.status", org.hamcrest.Matchers.equalTo("DOWN"));
        // Liveness stays UP all along: restarting the pod would not bring the database back.
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4)).pollInterval(Duration.ofMillis(200))
                .until(() -> given().get("/q/health/live").statusCode() == 200);
    }
}
