package erphub.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The packaged jar's {@code prod} profile pointed at the test servers the way a Deployment configures it: environment
 * variables for the servers and a mounted credentials folder ({@code <dir>/<ref>/<field>}, as a Secret has it), the
 * registry's other settings as system properties. Used by the benchmark and the chaos suite.
 *
 * @param properties system properties for {@link PackagedApp#start(Path, Map, Map, String...)}
 * @param environment environment variables for it
 */
public record ProdEnvironment(Map<String, String> properties, Map<String, String> environment) {

    /**
     * The servers one run uses.
     *
     * @param topicPrefix the run's topics are {@code <prefix>-intake}, {@code -files} and {@code -events}
     */
    public record Servers(String databaseUrl, String kafkaBootstrap, String topicPrefix, Map<String, String> s3,
            String bucket, SftpServerResource.SftpServer sftp, String erpApiUrl, String erpTokenUrl, String upstreamUrl,
            String upstreamTokenUrl) {
    }

    /** The environment of one run; the registry's credentials are written under {@code runDir/credentials}. */
    public static ProdEnvironment of(Servers s, TestTenants registry, String registryName, Path runDir) {
        Map<String, String> registryConfig = registry.write(registryName);
        Path credentials = runDir.resolve("credentials");
        Map<String, String> props = new HashMap<>();
        registryConfig.forEach((key, value) -> {
            if (key.startsWith("erphub.credentials.")) {
                // erphub.credentials.<ref>.<field> -> <dir>/<ref>/<field>
                String rest = key.substring("erphub.credentials.".length());
                Path file = credentials.resolve(rest.substring(0, rest.lastIndexOf('.')))
                        .resolve(rest.substring(rest.lastIndexOf('.') + 1));
                try {
                    Files.createDirectories(file.getParent());
                    Files.writeString(file, value);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            } else {
                props.put(key, value);
            }
        });
        Map<String, String> env = new HashMap<>();
        env.put("QUARKUS_PROFILE", "prod");
        env.put("ERPHUB_DB_URL", s.databaseUrl());
        env.put("ERPHUB_DB_USER", "postgres");
        env.put("ERPHUB_DB_PASSWORD", "unused-with-trust-auth");
        env.put("ERPHUB_KAFKA_BOOTSTRAP_SERVERS", s.kafkaBootstrap());
        env.put("ERPHUB_INTAKE_TOPIC", s.topicPrefix() + "-intake");
        env.put("ERPHUB_FILES_TOPIC", s.topicPrefix() + "-files");
        env.put("ERPHUB_EVENTS_TOPIC", s.topicPrefix() + "-events");
        env.put("ERPHUB_S3_BUCKET", s.bucket());
        env.put("ERPHUB_S3_OVERRIDE_ENDPOINT", "true");
        env.put("ERPHUB_S3_ENDPOINT", s.s3().get("test.s3.endpoint"));
        env.put("ERPHUB_S3_PATH_STYLE", "true");
        env.put("ERPHUB_S3_REGION", s.s3().get("test.s3.region"));
        env.put("AWS_ACCESS_KEY_ID", s.s3().get("test.s3.access-key"));
        env.put("AWS_SECRET_ACCESS_KEY", s.s3().get("test.s3.secret-key"));
        env.put("ERPHUB_SFTP_HOST", TestServers.LOOPBACK);
        env.put("ERPHUB_SFTP_PORT", String.valueOf(s.sftp().port()));
        env.put("ERPHUB_SFTP_USER", SftpServerResource.USER);
        env.put("ERPHUB_SFTP_PASSWORD", SftpServerResource.PASSWORD);
        env.put("ERPHUB_SFTP_KNOWN_HOSTS", s.sftp().knownHosts().toString());
        env.put("ERPHUB_ERP_API_URL", s.erpApiUrl());
        env.put("ERPHUB_ERP_TOKEN_URL", s.erpTokenUrl());
        env.put("PAYROLL_EXPORTS_BASE_URL", s.upstreamUrl());
        env.put("PAYROLL_EXPORTS_TOKEN_URL", s.upstreamTokenUrl());
        env.put("ERPHUB_TENANTS_REGISTRY", props.remove("erphub.tenants.registry-file"));
        env.put("ERPHUB_CREDENTIALS_DIR", credentials.toString());
        env.put("ERPHUB_JOLOKIA_PASSWORD", "jolokia-" + System.nanoTime());
        return new ProdEnvironment(props, env);
    }
}
