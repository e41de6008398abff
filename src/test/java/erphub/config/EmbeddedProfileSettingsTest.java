package erphub.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URL;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;

import erphub.testing.BesideTheApplication;

/**
 * The shipped application.properties as the packaged jar reads it (its own profile, {@code embedded}, and the
 * environment above the file): a user pointing the SFTP destination at a server of their own, or switching the
 * sandbox or the console off, gets what the environment variable says, and the sandbox keeps its own port.
 */
@BesideTheApplication
class EmbeddedProfileSettingsTest {

    /** Columns: environment (NAME=value;...), then the resolved sandbox flag, sandbox port, destination port, console flag. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "-                                                  | true  | 2222 | 2222 | true",
            "ERPHUB_SFTP_PORT=2022                              | true  | 2222 | 2022 | true",
            "ERPHUB_SANDBOX_SFTP_PORT=2300                      | true  | 2300 | 2300 | true",
            "ERPHUB_SANDBOX_SFTP_PORT=2300;ERPHUB_SFTP_PORT=22  | true  | 2300 | 22   | true",
            "ERPHUB_SANDBOX_ENABLED=false;ERPHUB_SFTP_PORT=22   | false | 2222 | 22   | true",
            "ERPHUB_CONSOLE_ENABLED=false                       | true  | 2222 | 2222 | false",
    })
    void theEnvironmentDecidesTheSandboxItsPortAndTheConsoleInTheEmbeddedDefault(String environment, boolean sandbox,
            int sandboxPort, int destinationPort, boolean console) throws Exception {
        SmallRyeConfig config = embedded(environment);
        assertEquals(sandbox, config.getValue("erphub.sandbox.enabled", Boolean.class));
        assertEquals(sandboxPort, config.getValue("erphub.sandbox.sftp-port", Integer.class));
        assertEquals(destinationPort, config.getValue("erphub.destinations.sftp.port", Integer.class));
        assertEquals(console, config.getValue("erphub.console.enabled", Boolean.class));
    }

    private static SmallRyeConfig embedded(String environment) throws Exception {
        Map<String, String> env = new java.util.HashMap<>();
        if (!environment.equals("-")) {
            for (String pair : environment.split(";")) {
                String[] kv = pair.split("=", 2);
                env.put(kv[0], kv[1]);
            }
        }
        URL properties = EmbeddedProfileSettingsTest.class.getClassLoader().getResource("application.properties");
        return new SmallRyeConfigBuilder().addDefaultInterceptors().withProfile("embedded")
                .withSources(new PropertiesConfigSource(properties, 250), new EnvConfigSource(env, 300)).build();
    }
}
