package erphub.testing;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import java.util.HashMap;
import java.util.Map;

import com.github.tomakehurst.wiremock.WireMockServer;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/** A real HTTP upstream: WireMock in-process on a free 127.0.0.1 port. Tests stub and verify it. */
public class HttpUpstreamResource implements QuarkusTestResourceLifecycleManager {

    private WireMockServer server;
    private Map<String, String> exposeAs = Map.of();

    /** Init args name further properties to set to the server's URL plus a path: {@code property -> /path}. */
    @Override
    public void init(Map<String, String> args) {
        exposeAs = Map.copyOf(args);
    }

    @Override
    public Map<String, String> start() {
        UpstreamContents contents = new UpstreamContents();
        server = new WireMockServer(options().bindAddress(TestServers.LOOPBACK).dynamicPort()
                .containerThreads(16).jettyAcceptors(1).extensions(contents));
        server.start();
        contents.stubOn(server);
        Map<String, String> config = new HashMap<>();
        config.put("test.upstream.url", server.baseUrl());
        exposeAs.forEach((property, path) -> config.put(property, server.baseUrl() + path));
        return config;
    }

    @Override
    public void inject(TestInjector injector) {
        TestServers.inject(injector, server);
    }

    @Override
    public void stop() {
        if (server != null) {
            server.stop();
        }
    }
}
