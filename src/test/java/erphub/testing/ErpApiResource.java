package erphub.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * A real HTTP server playing the cloud ERP's file import API on a free 127.0.0.1 port: it reads every
 * body to the end, answers 201 for a new idempotency key and 409 for one it already accepted, and can be
 * told to fail a share of requests with 503 or to be down altogether. It records what it saw.
 */
public class ErpApiResource implements QuarkusTestResourceLifecycleManager {

    private HttpServer server;
    private ErpApi api;
    private Map<String, String> exposeAs = Map.of();

    /** One request as the ERP received it. */
    public record Received(String method, String path, String idempotencyKey, String tenant, String fileName,
            String tokenSubject, String sha256, long bytes, int status) {
    }

    /** The handle tests use: what was received, and how the ERP behaves. */
    public static final class ErpApi {
        private final String baseUrl;
        private final List<Received> received = new CopyOnWriteArrayList<>();
        private final Set<String> accepted = ConcurrentHashMap.newKeySet();
        private volatile double failureRate;
        private volatile TokenRevocation revocation;
        private volatile Integer retryAfter;
        private volatile boolean down;
        private final Map<String, AtomicInteger> failFirst = new ConcurrentHashMap<>();

        ErpApi(String baseUrl) {
            this.baseUrl = baseUrl;
        }

        public String baseUrl() {
            return baseUrl;
        }

        public List<Received> received() {
            return List.copyOf(received);
        }

        /** Requests answered 2xx, i.e. files the ERP took in. */
        public List<Received> accepted() {
            return received.stream().filter(r -> r.status() / 100 == 2).toList();
        }

        /** Answers this share of requests (0..1) with 503. */
        public void failureRate(double rate) {
            this.failureRate = rate;
        }

        /** Every 503 says Retry-After with this many seconds (null: no Retry-After). */
        public void retryAfter(Integer seconds) {
            this.retryAfter = seconds;
        }

        /** The tenant's next so many requests are answered 503 (then as the other settings say). */
        public void failFirst(String tenant, int requests) {
            failFirst.put(tenant, new AtomicInteger(requests));
        }

        /** Refuses (401) the tokens this revocation revoked. */
        public void honour(TokenRevocation revocation) {
            this.revocation = revocation;
        }

        /** Down: every request answered 503 until it is back. */
        public void down(boolean down) {
            this.down = down;
        }

        public void reset() {
            received.clear();
            accepted.clear();
            failureRate = 0;
            failFirst.clear();
            revocation = null;
            retryAfter = null;
            down = false;
        }

        void handle(HttpExchange x) throws IOException {
            MessageDigest sha;
            try {
                sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
            long bytes = 0;
            try (InputStream in = x.getRequestBody()) {
                byte[] buffer = new byte[65536];
                for (int n; (n = in.read(buffer)) > 0;) {
                    sha.update(buffer, 0, n);
                    bytes += n;
                }
            }
            String key = x.getRequestHeaders().getFirst("Idempotency-Key");
            String auth = x.getRequestHeaders().getFirst("Authorization");
            int status;
            TokenRevocation revoked = revocation;
            if (auth == null || !auth.startsWith("Bearer ") || revoked != null && revoked.refuses(auth)) {
                status = 401;
            } else if (down || failingFirst(x.getRequestHeaders().getFirst("X-Erphub-Tenant"))
                    || ThreadLocalRandom.current().nextDouble() < failureRate) {
                status = 503;
            } else if (key == null || key.isBlank()) {
                status = 400;
            } else {
                status = accepted.add(key) ? 201 : 409;
            }
            String name = x.getRequestHeaders().getFirst("X-Erphub-File-Name");
            received.add(new Received(x.getRequestMethod(), x.getRequestURI().getPath(), key,
                    x.getRequestHeaders().getFirst("X-Erphub-Tenant"),
                    name == null ? null : URLDecoder.decode(name, StandardCharsets.UTF_8), subject(auth),
                    HexFormat.of().formatHex(sha.digest()), bytes, status));
            if (status == 503 && retryAfter != null) {
                x.getResponseHeaders().add("Retry-After", String.valueOf(retryAfter));
            }
            x.sendResponseHeaders(status, -1);
            x.close();
        }

        private boolean failingFirst(String tenant) {
            AtomicInteger left = tenant == null ? null : failFirst.get(tenant);
            return left != null && left.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
        }

        private static String subject(String authorization) {
            if (authorization == null || !authorization.startsWith("Bearer ")) {
                return null;
            }
            String[] parts = authorization.substring(7).split("\\.");
            if (parts.length < 2) {
                return null;
            }
            String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"sub\"\\s*:\\s*\"([^\"]*)\"").matcher(payload);
            return m.find() ? m.group(1) : null;
        }
    }

    /** Init args name properties to set to the server's base URL: {@code property -> ""}. */
    @Override
    public void init(Map<String, String> args) {
        exposeAs = Map.copyOf(args);
    }

    @Override
    public Map<String, String> start() {
        try {
            server = HttpServer.create(new InetSocketAddress(TestServers.LOOPBACK, 0), 64);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the ERP API test server", e);
        }
        String baseUrl = "http://" + TestServers.LOOPBACK + ":" + server.getAddress().getPort() + "/erp";
        api = new ErpApi(baseUrl);
        server.createContext("/erp", api::handle);
        server.setExecutor(Executors.newFixedThreadPool(16));
        server.start();
        Map<String, String> config = new java.util.HashMap<>();
        config.put("test.erp-api.url", baseUrl);
        exposeAs.keySet().forEach(property -> config.put(property, baseUrl));
        return config;
    }

    @Override
    public void inject(TestInjector injector) {
        TestServers.inject(injector, api);
    }

    /** The running ERP API, for callers outside a Quarkus test (the benchmark). */
    public ErpApi api() {
        return api;
    }

    @Override
    public void stop() {
        if (server != null) {
            server.stop(0);
        }
    }
}
