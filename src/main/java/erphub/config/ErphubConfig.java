package erphub.config;

import java.nio.file.Path;
import java.time.Duration;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** erphub's own settings, all under the {@code erphub.} prefix (see the README's configuration table). */
@ConfigMapping(prefix = "erphub")
public interface ErphubConfig {

    /** Identifies this instance in claims and ledger rows. */
    @WithDefault("erphub-local")
    String nodeId();

    /** Where the embedded default keeps its state database and archive. */
    @WithDefault("data")
    Path dataDir();

    Routes routes();

    State state();

    interface Routes {
        /** Folder of operator routes ({@code *.yaml}), loaded at start next to the built-in ones. */
        @WithDefault("config/routes")
        Path dir();
    }

    interface State {
        /** How long a claim keeps other instances off a file before it may be resumed. */
        @WithDefault("PT10M")
        Duration claimLease();
    }
}
