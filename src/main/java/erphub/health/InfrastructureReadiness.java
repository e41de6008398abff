package erphub.health;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Readiness of the parts an instance cannot take traffic without in prod: the S3 archive (a pushed file is stored
 * there, every delivery reads from it) and Kafka (the hand-off of claimed files, events, file records). Unlike one
 * upstream, they are erphub's own infrastructure, like the state database. The state only: which bucket or brokers
 * and why is {@code GET /api/health}.
 */
public final class InfrastructureReadiness {

    private InfrastructureReadiness() {
    }

    @Readiness
    @ApplicationScoped
    public static class Archive implements HealthCheck {
        private final InfrastructureProbes probes;

        public Archive(InfrastructureProbes probes) {
            this.probes = probes;
        }

        @Override
        public HealthCheckResponse call() {
            return HealthCheckResponse.named(InfrastructureProbes.ARCHIVE).status(probes.result(InfrastructureProbes.ARCHIVE).up())
                    .build();
        }
    }

    @Readiness
    @ApplicationScoped
    public static class Kafka implements HealthCheck {
        private final InfrastructureProbes probes;

        public Kafka(InfrastructureProbes probes) {
            this.probes = probes;
        }

        @Override
        public HealthCheckResponse call() {
            return HealthCheckResponse.named(InfrastructureProbes.KAFKA).status(probes.result(InfrastructureProbes.KAFKA).up())
                    .build();
        }
    }
}
