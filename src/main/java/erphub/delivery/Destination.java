package erphub.delivery;

import java.time.Duration;

import erphub.config.ErphubConfig;

/**
 * A place files are delivered to, as one plug-in: this bean (its name and delivery settings, and the processors
 * its route uses) plus its route file {@code routes/destination-<name>.yaml}, which instantiates the
 * {@code erphub-destination} template and ends in the destination's Camel endpoint. Everything per destination
 * (queue, workers, redelivery pool, retry delays, the names upstreams may use) follows from the beans of this type.
 */
public interface Destination {

    /** The name upstream route files use in their destinations parameter, and the suffix of its routes. */
    String name();

    /** Its workers and redelivery policy. */
    ErphubConfig.Redelivery settings();

    /** The longest wait a Retry-After of this destination may ask for. */
    default Duration retryAfterCap() {
        return Duration.ofSeconds(60);
    }
}
