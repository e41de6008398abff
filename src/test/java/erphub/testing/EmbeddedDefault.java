package erphub.testing;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * The embedded default (H2, no servers) with the ledger's test route: one application shared by the test classes that
 * need nothing else (Quarkus builds and starts the application once per test profile, about 20 s of the suite each).
 */
public class EmbeddedDefault implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return TestRoutes.include("ledger");
    }
}
