package erphub.pipeline;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.camel.CamelContext;
import org.apache.camel.Endpoint;

/**
 * Camel endpoints erphub's beans send to, resolved once per URI. Sending to a URI string makes Camel
 * resolve its property placeholders on every call, and through the MicroProfile Config bridge that scans
 * every configuration name: measured with JFR on the fan-out test it was half of all CPU time.
 */
@ApplicationScoped
public class Endpoints {

    private final CamelContext camel;
    private final Map<String, Endpoint> resolved = new ConcurrentHashMap<>();

    public Endpoints(CamelContext camel) {
        this.camel = camel;
    }

    public Endpoint resolve(String uri) {
        return resolved.computeIfAbsent(uri, camel::getEndpoint);
    }
}
