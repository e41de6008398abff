package erphub.routes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.camel.quarkus.main.events.BeforeConfigure;
import org.jboss.logging.Logger;

import erphub.config.ErphubConfig;

/**
 * Makes sure the operator routes folder exists before Camel scans it: Camel fails start-up on a
 * missing folder, while an empty one simply adds no routes.
 */
@ApplicationScoped
public class OperatorRoutesFolder {

    private static final Logger LOG = Logger.getLogger(OperatorRoutesFolder.class);

    private final ErphubConfig config;

    public OperatorRoutesFolder(ErphubConfig config) {
        this.config = config;
    }

    void beforeCamelConfigures(@Observes BeforeConfigure event) {
        Path dir = config.routes().dir();
        if (Files.isDirectory(dir)) {
            LOG.infof("Operator routes from %s", dir.toAbsolutePath());
            return;
        }
        try {
            Files.createDirectories(dir);
            LOG.infof("Operator routes folder %s did not exist and was created empty", dir.toAbsolutePath());
        } catch (IOException e) {
            throw new IllegalStateException("The operator routes folder " + dir.toAbsolutePath()
                    + " (erphub.routes.dir) does not exist and cannot be created: " + e, e);
        }
    }
}
