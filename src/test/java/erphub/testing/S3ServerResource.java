package erphub.testing;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * A real S3-compatible server: s3proxy (in-memory "transient" store, or a folder on disk for large
 * volumes) as its own process on a free 127.0.0.1 port. Its fat jar carries classes that clash with Quarkus, so it never joins the test
 * classpath; the build copies it to target/test-servers.
 */
public class S3ServerResource implements QuarkusTestResourceLifecycleManager {

    public static final String ACCESS_KEY = "erphub-test-access";
    public static final String SECRET_KEY = "erphub-test-secret-key";
    public static final String REGION = "us-east-1";

    private final Path filesystemStore;
    private Process process;
    private S3Client client;

    public S3ServerResource() {
        this(null);
    }

    /** Objects kept as files below {@code filesystemStore} ({@code <bucket>/<key>}) instead of in memory. */
    public S3ServerResource(Path filesystemStore) {
        this.filesystemStore = filesystemStore;
    }

    /** A client for the running server (path-style, the test credentials). */
    public S3Client client() {
        return client;
    }

    @Override
    public Map<String, String> start() {
        Path jar = Path.of(System.getProperty("test.servers.dir", "target/test-servers"), "s3proxy.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: run the tests through Maven (process-test-resources copies it)");
        }
        int port = TestServers.freePort();
        String endpoint = "http://" + TestServers.LOOPBACK + ":" + port;
        try {
            Path work = TestServers.scratchDir("s3proxy-");
            Path props = work.resolve("s3proxy.properties");
            Files.writeString(props, String.join("\n",
                    "s3proxy.endpoint=" + endpoint,
                    "s3proxy.authorization=aws-v2-or-v4",
                    "s3proxy.identity=" + ACCESS_KEY,
                    "s3proxy.credential=" + SECRET_KEY,
                    filesystemStore == null ? "jclouds.provider=transient"
                            : "jclouds.provider=filesystem\njclouds.filesystem.basedir=" + filesystemStore,
                    "jclouds.identity=" + ACCESS_KEY,
                    "jclouds.credential=" + SECRET_KEY,
                    "jclouds.regions=" + REGION,
                    ""));
            process = new ProcessBuilder(TestServers.javaCommand("-Xmx256m", "-jar", jar.toString(), "--properties",
                    props.toString()))
                    .redirectErrorStream(true)
                    .redirectOutput(work.resolve("s3proxy.log").toFile())
                    .start();
            TestServers.awaitPort(port, Duration.ofSeconds(30));
        } catch (IOException e) {
            throw new IllegalStateException("cannot start s3proxy", e);
        }
        client = S3Client.builder()
                .endpointOverride(URI.create(endpoint))
                .forcePathStyle(true)
                .region(Region.of(REGION))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .build();
        return Map.of(
                "test.s3.endpoint", endpoint,
                "test.s3.access-key", ACCESS_KEY,
                "test.s3.secret-key", SECRET_KEY,
                "test.s3.region", REGION);
    }

    @Override
    public void inject(TestInjector injector) {
        TestServers.inject(injector, client);
    }

    @Override
    public void stop() {
        if (client != null) {
            client.close();
        }
        if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
