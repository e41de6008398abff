package erphub.testing;

import java.io.IOException;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * The streaming payroll upstream ({@link PayrollFileServer}) as a Quarkus test resource: the built-in
 * payroll-exports route points at it, and tests can make it fail (at random, for a while, or one file).
 */
public class PayrollServerResource implements QuarkusTestResourceLifecycleManager {

    private PayrollFileServer server;

    @Override
    public Map<String, String> start() {
        try {
            server = new PayrollFileServer();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the payroll upstream test server", e);
        }
        return Map.of("erphub.upstreams.payroll-exports.base-url", server.baseUrl());
    }

    @Override
    public void inject(TestInjector injector) {
        TestServers.inject(injector, server);
    }

    @Override
    public void stop() {
        if (server != null) {
            server.close();
        }
    }
}
