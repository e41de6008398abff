package erphub.console;

import java.lang.reflect.Field;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;

import org.apache.camel.quarkus.jolokia.CamelQuarkusJolokiaServer;
import org.apache.camel.quarkus.main.events.BeforeStart;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.jolokia.jvmagent.JolokiaServer;
import org.jolokia.jvmagent.JolokiaServerConfig;

import erphub.config.ErphubConfig;
import io.quarkus.arc.ClientProxy;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The management surfaces, checked before they serve anything, in every profile: erphub's Jolokia agent and the
 * embedded Hawtio console listen beyond loopback only with authentication, or erphub does not start. Jolokia's
 * allowed origins must be exact origins. Then erphub starts its Jolokia agent ({@code erphub.jolokia.enabled}): the
 * Camel Quarkus extension creates it, and {@code quarkus.camel.jolokia.server.auto-start=false} leaves the start to
 * this check.
 */
@ApplicationScoped
@RegisterForReflection(targets = CamelQuarkusJolokiaServer.class, fields = true)
public class ManagementSurfaces {

    private static final Logger LOG = Logger.getLogger(ManagementSurfaces.class);

    /** What one surface looks like from outside: where it listens and whether it asks who is calling. */
    public record Exposure(String surface, String setting, InetAddress address, boolean authenticated) {
    }

    private final ErphubConfig config;
    private final Instance<CamelQuarkusJolokiaServer> jolokia;
    private final boolean jolokiaEnabled;
    private final boolean extensionStartsJolokia;

    public ManagementSurfaces(ErphubConfig config, Instance<CamelQuarkusJolokiaServer> jolokia,
            @ConfigProperty(name = "erphub.jolokia.enabled", defaultValue = "true") boolean jolokiaEnabled,
            @ConfigProperty(name = "quarkus.camel.jolokia.server.auto-start", defaultValue = "true") boolean extensionStartsJolokia) {
        this.config = config;
        this.jolokia = jolokia;
        this.jolokiaEnabled = jolokiaEnabled;
        this.extensionStartsJolokia = extensionStartsJolokia;
    }

    /** Before Camel starts a route, the console opens or anything is served. */
    void check(@Observes BeforeStart event) {
        List<String> problems = new ArrayList<>(JolokiaAccess.problems(config.jolokia().allowedOrigins()));
        List<Exposure> surfaces = new ArrayList<>();
        if (config.console().enabled()) {
            // The embedded console has no login of its own: loopback is its only protection.
            surfaces.add(new Exposure("the embedded Hawtio console", "erphub.console.host", address(config.console().host()),
                    false));
        }
        JolokiaServer server = jolokia.isResolvable() ? jolokiaServer(jolokia.get()) : null;
        if (server != null) {
            JolokiaServerConfig agent = server.getServerConfig();
            surfaces.add(new Exposure("the Jolokia agent", "quarkus.camel.jolokia.server.host", agent.getAddress(),
                    agent.getAuthenticator() != null || agent.useSslClientAuthentication()));
        }
        problems.addAll(problems(surfaces));
        if (!problems.isEmpty()) {
            throw new IllegalStateException("erphub does not start with its management surfaces exposed: "
                    + String.join("; ", problems));
        }
        if (server != null && jolokiaEnabled && !extensionStartsJolokia) {
            jolokia.get().start();
            LOG.infof("Jolokia agent on %s:%d%s", server.getServerConfig().getAddress().getHostAddress(),
                    server.getServerConfig().getPort(), server.getServerConfig().getContextPath());
        }
    }

    /** A surface bound beyond loopback without authentication is a problem; the wildcard address is beyond loopback. */
    public static List<String> problems(List<Exposure> surfaces) {
        List<String> problems = new ArrayList<>();
        for (Exposure s : surfaces) {
            if (!s.address().isLoopbackAddress() && !s.authenticated()) {
                problems.add(s.surface() + " would listen on " + s.address().getHostAddress() + " (" + s.setting()
                        + ") without authentication: bind it to 127.0.0.1"
                        + (s.surface().contains("Jolokia") ? " or set quarkus.camel.jolokia.additional-properties.authMode,"
                                + " user and password (or client certificates)" : ", or turn it off (erphub.console.enabled)"));
            }
        }
        return problems;
    }

    /** A configured host as the socket will bind it; a name that does not resolve counts as beyond loopback. */
    static InetAddress address(String host) {
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            try {
                return InetAddress.getByAddress(host, new byte[] { 0, 0, 0, 0 });
            } catch (UnknownHostException impossible) {
                throw new IllegalStateException(impossible);
            }
        }
    }

    /**
     * The agent the extension created, to read the address and authentication it really has (the extension derives
     * them from several settings and from the Kubernetes environment). Fails closed: an agent that cannot be
     * inspected does not start.
     */
    private static JolokiaServer jolokiaServer(CamelQuarkusJolokiaServer wrapper) {
        try {
            Field field = CamelQuarkusJolokiaServer.class.getDeclaredField("server");
            field.setAccessible(true);
            return (JolokiaServer) field.get(ClientProxy.unwrap(wrapper));
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("cannot tell where the Jolokia agent listens (" + e + "): it is not started", e);
        }
    }
}
