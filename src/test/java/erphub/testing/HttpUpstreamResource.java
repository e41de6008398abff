package erphub.testing;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import java.util.Map;

import com.github.tomakehurst.wiremock.WireMockServer;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/** A real HTTP upstream: WireMock in-process on a free 127.0.0.1 port. Tests stub and verify it. */
public class HttpUpstreamResource implements QuarkusTestResourceLifecycleManager {

    private WireMockServer server;

    @Override
    public Map<String, String> start() {
        server = new WireMockServer(options().bindAddress(TestServers.LOOPBACK).dynamicPort()
                .containerThreads(16).jettyAcceptors(1));
        server.start();
        return Map.of("test.upstream.url", server.baseUrl());
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
