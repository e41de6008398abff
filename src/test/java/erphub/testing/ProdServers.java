package erphub.testing;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;
import no.nav.security.mock.oauth2.http.NettyWrapper;
import no.nav.security.mock.oauth2.token.OAuth2TokenCallback;
import no.nav.security.mock.oauth2.token.OAuth2TokenProvider;

/**
 * The servers packaged replicas in {@code prod} share in the benchmark and the chaos suite, on 127.0.0.1: PostgreSQL,
 * a Kafka broker, s3proxy (on disk under {@code work/s3}), mock-oauth2-server and the ERP API. Each run makes its own
 * database, topics and bucket on them ({@link ProdEnvironment}).
 */
public record ProdServers(PostgresResource postgres, String postgresUrl, KafkaBrokerResource kafka, String bootstrap,
        S3ServerResource s3, Path s3Store, Map<String, String> s3Config, MockOAuth2Server oauth2, ErpApiResource erp)
        implements AutoCloseable {

    /** Starts them; the token server issues tokens through these callbacks (one per issuer). */
    public static ProdServers start(Path work, Set<OAuth2TokenCallback> issuers) throws Exception {
        // The JDK's HTTP server (upstream, ERP API) writes headers and body as two segments; without TCP_NODELAY
        // every request after the first on a connection waited ~40 ms for a delayed ACK (38 ms per download).
        System.setProperty("sun.net.httpserver.nodelay", "true");
        PostgresResource postgres = new PostgresResource();
        String postgresUrl = postgres.start().get("quarkus.datasource.\"postgresql\".jdbc.url");
        KafkaBrokerResource kafka = new KafkaBrokerResource();
        String bootstrap = kafka.start().get("test.kafka.bootstrap-servers");
        Path s3Store = Files.createDirectories(work.resolve("s3"));
        S3ServerResource s3 = new S3ServerResource(s3Store);
        Map<String, String> s3Config = s3.start();
        // mock-oauth2-server on Netty: its default MockWebServer kept every closed connection open (20,000 file
        // descriptors after the legacy client's token-per-request runs) and delayed each reused one by ~40 ms.
        MockOAuth2Server oauth2 = new MockOAuth2Server(new OAuth2Config(false, null, null, false, new OAuth2TokenProvider(),
                issuers, new NettyWrapper()));
        oauth2.start(InetAddress.getByName(TestServers.LOOPBACK), TestServers.freePort());
        ErpApiResource erp = new ErpApiResource();
        erp.start();
        return new ProdServers(postgres, postgresUrl, kafka, bootstrap, s3, s3Store, s3Config, oauth2, erp);
    }

    /** A new, empty database on the PostgreSQL server; its JDBC URL. */
    public String newDatabase(String name) throws java.sql.SQLException {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(postgresUrl, "postgres", "");
                java.sql.Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        return postgresUrl.replaceFirst("/postgres(\\?|$)", "/" + name + "$1");
    }

    @Override
    public void close() {
        erp.stop();
        oauth2.shutdown();
        s3.stop();
        kafka.stop();
        postgres.stop();
    }
}
