package erphub.config;

import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.quarkus.arc.properties.IfBuildProperty;
import io.quarkus.runtime.StartupEvent;

/**
 * The native executable leaves out the JVM-only pieces of the embedded default: the sandbox (its SFTP server is
 * Apache MINA SSHD) and the Hawtio console (a WAR in an embedded Jetty). Asked for anyway, it refuses to start and
 * says why, rather than run without them in silence.
 */
@ApplicationScoped
@IfBuildProperty(name = "quarkus.native.enabled", stringValue = "true")
public class NativeLimits {

    private final ErphubConfig config;

    public NativeLimits(ErphubConfig config) {
        this.config = config;
    }

    void check(@Observes StartupEvent event) {
        check(config.sandbox().enabled(), config.console().enabled());
    }

    static void check(boolean sandbox, boolean console) {
        List<String> asked = new ArrayList<>();
        if (sandbox) {
            asked.add("the sandbox (erphub.sandbox.enabled, ERPHUB_SANDBOX_ENABLED)");
        }
        if (console) {
            asked.add("the embedded Hawtio console (erphub.console.enabled, ERPHUB_CONSOLE_ENABLED)");
        }
        if (!asked.isEmpty()) {
            throw new IllegalStateException("The native executable has no " + String.join(" and no ", asked)
                    + ": turn them off, or run the JVM jar (java -jar target/quarkus-app/quarkus-run.jar)");
        }
    }
}
