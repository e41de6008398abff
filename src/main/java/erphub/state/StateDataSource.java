package erphub.state;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Any;

import org.flywaydb.core.Flyway;

import io.agroal.api.AgroalDataSource;
import io.quarkus.arc.InjectableInstance;

/**
 * The state database: whichever of the built-in datasources ("h2" embedded, "postgresql" in prod) is
 * active. Both drivers are in the build because the datasource kind is fixed at build time, while the
 * choice between them is configuration.
 */
@ApplicationScoped
public class StateDataSource {

    private final AgroalDataSource dataSource;

    public StateDataSource(@Any InjectableInstance<AgroalDataSource> dataSources, @Any InjectableInstance<Flyway> schemas) {
        List<AgroalDataSource> active = dataSources.listActive();
        if (active.size() != 1) {
            throw new IllegalStateException("exactly one state datasource must be active, found " + active.size()
                    + ": set quarkus.datasource.\"h2\".active or quarkus.datasource.\"postgresql\".active");
        }
        this.dataSource = active.get(0);
        // Quarkus migrates the schema at start (migrate-at-start), but its start-up does not order that before Camel's
        // start: once in CI a BeforeStart observer (ClaimRelease) met an empty database. So the first use migrates
        // (a no-op when Quarkus has done it; Flyway locks the schema against another replica doing it at once).
        schemas.listActive().forEach(Flyway::migrate);
    }

    public Connection connection() throws SQLException {
        return dataSource.getConnection();
    }
}
