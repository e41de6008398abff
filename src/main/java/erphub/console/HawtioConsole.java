package erphub.console;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import jakarta.annotation.PreDestroy;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.ee10.webapp.WebAppClassLoader;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import erphub.config.ErphubConfig;
import io.quarkus.arc.properties.UnlessBuildProperty;
import io.quarkus.runtime.StartupEvent;

/**
 * The Hawtio console of the embedded default ({@code erphub.console.enabled}): the hawtio-default WAR, shipped in
 * the application as a resource, deployed in an embedded Jetty on loopback. It reaches erphub the way every other
 * Hawtio does (Hawtio Online on Kubernetes, a console on an operator's machine, the native image): through the
 * Jolokia agent on {@code quarkus.camel.jolokia.server.port} (Connect → Add connection, 127.0.0.1, that port,
 * {@code /jolokia/}). Opened directly, the console also shows this process, since it runs in the same JVM. The
 * Hawtio Quarkus extension does not resolve from this registry, hence the WAR; the 4.2.0 WAR does not serve preset
 * connections, so the connection is added once per browser. It listens on loopback only and has no login
 * ({@link ManagementSurfaces} refuses to start otherwise); its agent answers only the allowed origins
 * ({@link JolokiaAccess}).
 *
 * <p>Not part of the native image: the WAR is a JVM artefact; the native binary is inspected from outside.
 */
@ApplicationScoped
@UnlessBuildProperty(name = "quarkus.native.enabled", stringValue = "true", enableIfMissing = true)
public class HawtioConsole {

    static final String WAR_RESOURCE = "erphub-console/hawtio.war";
    private static final Logger LOG = Logger.getLogger(HawtioConsole.class);

    private final ErphubConfig config;
    private final int jolokiaPort;
    private Server server;

    public HawtioConsole(ErphubConfig config,
            @ConfigProperty(name = "quarkus.camel.jolokia.server.port", defaultValue = "8778") int jolokiaPort) {
        this.config = config;
        this.jolokiaPort = jolokiaPort;
    }

    /** Before the sandbox's start-up banner, which names the console. */
    void start(@Observes @Priority(1000) StartupEvent event) throws Exception {
        if (!config.console().enabled()) {
            return;
        }
        Path home = Files.createDirectories(config.dataDir().resolve("console"));
        Path war = unpackWar(home);
        // Hawtio reads its settings from system properties. Its login is off because the console only listens on
        // loopback (like Jolokia here); in prod there is no embedded console at all.
        System.setProperty("hawtio.authenticationEnabled", "false");
        System.setProperty("hawtio.localAddressProbing", "false");
        System.setProperty("hawtio.proxyAllowlist", "localhost,127.0.0.1");
        // The console's own Jolokia agent (/hawtio/jolokia) sees this JVM: the same policy as erphub's agent (strict
        // origins, no diagnostic commands), read by Hawtio's agent servlet from the jolokia.* system properties.
        Path policy = home.resolve("jolokia-access.xml");
        Files.writeString(policy, JolokiaAccess.policy(config.jolokia().allowedOrigins()));
        System.setProperty("jolokia.policyLocation", policy.toAbsolutePath().toUri().toString());

        server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost(config.console().host());
        connector.setPort(config.console().port());
        server.addConnector(connector);
        WebAppContext hawtio = new WebAppContext();
        hawtio.setContextPath("/hawtio");
        hawtio.setWar(war.toString());
        hawtio.setTempDirectory(Files.createDirectories(home.resolve("work")).toFile());
        // The WAR brings its own Jolokia, Jackson and logging; erphub's classpath must not leak into it (with it,
        // Jolokia's detector lookup met two versions of its own classes: ClassCastException at start).
        hawtio.setClassLoader(new WebAppClassLoader(new ContainerOnly(HawtioConsole.class.getClassLoader()), hawtio));
        server.setHandler(hawtio);
        server.start();
        LOG.infof("Hawtio console at %s (Jolokia for any other Hawtio on port %d)", url(), jolokiaPort);
    }

    /** Where an operator opens the console. */
    public String url() {
        return "http://localhost:" + config.console().port() + "/hawtio/";
    }

    public boolean running() {
        return server != null && server.isStarted();
    }

    @PreDestroy
    void stop() throws Exception {
        if (server != null) {
            server.stop();
        }
    }

    /** The parent a web application needs: the JDK plus the servlet API and Jetty, nothing else of erphub. */
    private static final class ContainerOnly extends ClassLoader {
        private final ClassLoader application;

        ContainerOnly(ClassLoader application) {
            super("erphub-console-container", ClassLoader.getPlatformClassLoader());
            this.application = application;
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.startsWith("jakarta.servlet.") || name.startsWith("org.eclipse.jetty.")) {
                return application.loadClass(name);
            }
            return super.loadClass(name, resolve);
        }
    }

    /** Copies the WAR out of the application once per build (Jetty deploys from a file). */
    private static Path unpackWar(Path home) {
        Path war = home.resolve("hawtio.war");
        try (InputStream in = HawtioConsole.class.getClassLoader().getResourceAsStream(WAR_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the Hawtio console WAR (" + WAR_RESOURCE + ") is not in this build");
            }
            byte[] bytes = in.readAllBytes();
            if (!Files.exists(war) || Files.size(war) != bytes.length) {
                Path tmp = home.resolve("hawtio.war.tmp");
                Files.write(tmp, bytes);
                Files.move(tmp, war, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            return war;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack the Hawtio console into " + home, e);
        }
    }
}
