package erphub.health;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.camel.CamelContext;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckHelper;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.impl.health.AbstractHealthCheck;
import org.apache.camel.quarkus.main.events.BeforeStart;
import org.jboss.logging.Logger;

/**
 * Keeps readiness to "this instance can take traffic". Camel's route-controller check reports DOWN for as
 * long as the supervisor is still retrying any route, so one route that cannot start (a dead upstream, a
 * bad operator route) would pull every instance out of the load balancer. It is switched off here
 * because, unlike the routes and consumers checks, Camel Quarkus offers no property for it.
 */
@ApplicationScoped
public class ReadinessScope {

    private static final Logger LOG = Logger.getLogger(ReadinessScope.class);
    static final String ROUTE_CONTROLLER_CHECK = "route-controller";

    void beforeCamelStarts(@Observes BeforeStart event, CamelContext context) {
        HealthCheckRegistry registry = HealthCheckHelper.getHealthCheckRegistry(context);
        if (registry == null) {
            return;
        }
        registry.getCheck(ROUTE_CONTROLLER_CHECK).ifPresent(this::disable);
    }

    private void disable(HealthCheck check) {
        if (check instanceof AbstractHealthCheck configurable) {
            configurable.setEnabled(false);
            LOG.debugf("Camel health check %s kept out of readiness", check.getId());
        }
    }
}
