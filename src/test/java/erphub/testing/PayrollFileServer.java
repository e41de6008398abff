package erphub.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A streaming HTTP upstream in the payroll-exports format for the packaged-jar tests: file bodies are
 * generated on the fly (1 GiB costs no memory), and every download is counted per file. WireMock keeps
 * bodies in memory, which is what these tests must avoid.
 */
public final class PayrollFileServer implements AutoCloseable {

    /** A generated file: its bytes are a function of its id and size. */
    public record GeneratedFile(String tenant, String id, String name, long size, String sha256) {
    }

    private final HttpServer server;
    private final Map<String, List<GeneratedFile>> byTenant = new ConcurrentHashMap<>();
    private final Map<String, GeneratedFile> byId = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> downloads = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> requestsByTenant = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> failuresByTenant = new ConcurrentHashMap<>();
    private final Map<String, java.time.Duration> downloadFailingFor = new ConcurrentHashMap<>();
    private final Map<String, java.time.Instant> downloadFailingUntil = new ConcurrentHashMap<>();
    private volatile double failureRate;
    private volatile java.util.Set<String> failingTenants = java.util.Set.of();
    private volatile java.time.Instant downUntil = java.time.Instant.MIN;
    private final Map<String, java.time.Duration> slowNextList = new ConcurrentHashMap<>();
    private final java.util.concurrent.CountDownLatch slowListAnswered = new java.util.concurrent.CountDownLatch(1);
    private volatile TokenRevocation revocation;
    private final AtomicInteger listsInFlight = new AtomicInteger();
    private final AtomicInteger mostListsAtOnce = new AtomicInteger();

    /**
     * An operator's route file (config/routes) binding the upstream template to a server of this API (the
     * payroll-exports shape) under another upstream id, as the README's "Adding an upstream" does.
     */
    public static String operatorRoute(String upstreamId, long pollIntervalMillis, String baseUrl, String tokenUrl,
            String credential, String destinations, String erpApiPath) {
        return """
                - templatedRoute:
                    routeTemplateRef: erphub-upstream-source
                    routeId: upstream-%1$s
                    prefixId: %1$s-
                    parameters:
                      - {name: upstreamId, value: %1$s}
                      - {name: pollInterval, value: "%2$d"}
                      - {name: baseUrl, value: "%3$s"}
                      - {name: listPath, value: "/v2/tenants/{tenant}/exports"}
                      - {name: listQuery, value: status=ready}
                      - {name: paging, value: next-link}
                      - {name: nextLinkPath, value: $.links.next}
                      - {name: itemsPath, value: $.exports}
                      - {name: idPath, value: $.exportId}
                      - {name: namePath, value: $.fileName}
                      - {name: versionPath, value: $.revision}
                      - {name: sizePath, value: $.byteSize}
                      - {name: checksumPath, value: $.sha256}
                      - {name: downloadPath, value: $.links.content}
                      - {name: tokenUrl, value: "%4$s"}
                      - {name: scope, value: exports.read}
                      - {name: credential, value: %5$s}
                      - {name: destinations, value: "%6$s"}
                      - {name: erpApiPath, value: "%7$s"}
                """.formatted(upstreamId, pollIntervalMillis, baseUrl, tokenUrl, credential, destinations, erpApiPath);
    }

    public PayrollFileServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(TestServers.LOOPBACK, 0), 64);
        server.setExecutor(Executors.newFixedThreadPool(16));
        server.createContext("/payroll/v2/", this::handle);
        server.start();
    }

    public String baseUrl() {
        return "http://" + TestServers.LOOPBACK + ":" + server.getAddress().getPort() + "/payroll";
    }

    public GeneratedFile add(String tenant, String id, long size) {
        GeneratedFile f = new GeneratedFile(tenant, id, id + ".bin", size, sha256(id, size));
        byTenant.computeIfAbsent(tenant, t -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(f);
        byId.put(id, f);
        return f;
    }

    /**
     * Answers this share of all requests (lists and downloads, 0..1) with {@code 503} and {@code Retry-After: 1},
     * at random.
     */
    public void failureRate(double rate) {
        failureRate(rate, null);
    }

    /** As {@link #failureRate(double)}, for these tenants' requests only (null: every tenant's). */
    public void failureRate(double rate, java.util.Collection<String> tenants) {
        this.failingTenants = tenants == null ? null : java.util.Set.copyOf(tenants);
        this.failureRate = rate;
    }

    /** Down for a while: every request answered {@code 503} with {@code Retry-After: 1}. */
    public void downFor(java.time.Duration outage) {
        this.downUntil = java.time.Instant.now().plus(outage);
    }

    /** The file's downloads answer {@code 503} with {@code Retry-After: 1} for this long after its first request. */
    public void failDownloadFor(String id, java.time.Duration failing) {
        downloadFailingFor.put(id, failing);
    }

    /** Refuses (401) the tokens this revocation revoked, on lists and downloads. */
    public void honour(TokenRevocation revocation) {
        this.revocation = revocation;
    }

    /** The tenant's next list call answers only after {@code delay}: a listing that overruns its poll interval. */
    public void slowNextList(String tenant, java.time.Duration delay) {
        slowNextList.put(tenant, delay);
    }

    /** Waits until the slow list call has been answered. */
    public boolean awaitSlowListAnswered(java.time.Duration timeout) throws InterruptedException {
        return slowListAnswered.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** Requests (lists and downloads) made for the tenant's files since the last {@link #resetCounts()}. */
    public int requests(String tenant) {
        AtomicInteger n = requestsByTenant.get(tenant);
        return n == null ? 0 : n.get();
    }

    /** Requests for the tenant's files answered 503 since the last {@link #resetCounts()}. */
    public int failures(String tenant) {
        AtomicInteger n = failuresByTenant.get(tenant);
        return n == null ? 0 : n.get();
    }

    public void resetCounts() {
        requestsByTenant.clear();
        failuresByTenant.clear();
        mostListsAtOnce.set(0);
    }

    /** The most list calls (of any tenants) this server was answering at once since the last {@link #resetCounts()}. */
    public int mostListsAtOnce() {
        return mostListsAtOnce.get();
    }

    public int downloads(String id) {
        AtomicInteger n = downloads.get(id);
        return n == null ? 0 : n.get();
    }

    /** The bytes of a generated file, as a stream. */
    public static InputStream content(String id, long size) {
        return new InputStream() {
            // SplittableRandom: java.util.Random's atomic seed made generating (and hashing) PipelineIT's 384 MiB a
            // visible share of the suite's CPU.
            private final java.util.SplittableRandom random = new java.util.SplittableRandom(id.hashCode());
            private final byte[] block = new byte[64 * 1024];
            private int pos = block.length;
            private long left = size;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left <= 0) {
                    return -1;
                }
                if (pos == block.length) {
                    random.nextBytes(block);
                    pos = 0;
                }
                int n = (int) Math.min(Math.min(len, block.length - pos), left);
                System.arraycopy(block, pos, b, off, n);
                pos += n;
                left -= n;
                return n;
            }
        };
    }

    /**
     * Where the bytes of {@code file} first differ from the generated file's, -1 where they are the same: compared as
     * streams, without the digest a SHA-256 check would compute (seconds of CPU for hundreds of MiB on the tests' JVM).
     */
    public static long mismatch(GeneratedFile generated, Path file) throws IOException {
        try (InputStream expected = content(generated.id(), generated.size());
                InputStream actual = java.nio.file.Files.newInputStream(file)) {
            byte[] a = new byte[1 << 20];
            byte[] b = new byte[1 << 20];
            for (long offset = 0;; offset += a.length) {
                int n = expected.readNBytes(a, 0, a.length);
                int m = actual.readNBytes(b, 0, b.length);
                int at = java.util.Arrays.mismatch(a, 0, n, b, 0, m);
                if (at >= 0) {
                    return offset + at;
                }
                if (n < a.length) {
                    return -1;
                }
            }
        }
    }

    public static String sha256(String id, long size) {
        try (InputStream in = content(id, size)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[256 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        try (exchange) {
            TokenRevocation revoked = revocation;
            if (revoked != null && revoked.refuses(exchange.getRequestHeaders().getFirst("Authorization"))) {
                exchange.sendResponseHeaders(401, -1);
                return;
            }
            if (path.startsWith("/payroll/v2/tenants/") && path.endsWith("/exports")) {
                String tenant = path.substring("/payroll/v2/tenants/".length(), path.length() - "/exports".length());
                requestsByTenant.computeIfAbsent(tenant, t -> new AtomicInteger()).incrementAndGet();
                mostListsAtOnce.accumulateAndGet(listsInFlight.incrementAndGet(), Math::max);
                try {
                    list(exchange, tenant);
                } finally {
                    listsInFlight.decrementAndGet();
                }
                return;
            }
            if (path.startsWith("/payroll/v2/exports/") && path.endsWith("/content")) {
                String id = path.substring("/payroll/v2/exports/".length(), path.length() - "/content".length());
                GeneratedFile f = byId.get(id);
                if (f == null) {
                    exchange.sendResponseHeaders(404, -1);
                    return;
                }
                requestsByTenant.computeIfAbsent(f.tenant(), t -> new AtomicInteger()).incrementAndGet();
                java.time.Duration failingFor = downloadFailingFor.get(id);
                java.time.Instant until = failingFor == null ? null
                        : downloadFailingUntil.computeIfAbsent(id, k -> java.time.Instant.now().plus(failingFor));
                if (failing(f.tenant()) || until != null && java.time.Instant.now().isBefore(until)) {
                    unavailable(exchange, f.tenant());
                    return;
                }
                downloads.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                exchange.getResponseHeaders().add("Content-Type", "application/octet-stream");
                exchange.sendResponseHeaders(200, f.size());
                try (InputStream in = content(f.id(), f.size()); OutputStream out = exchange.getResponseBody()) {
                    in.transferTo(out);
                }
                return;
            }
            exchange.sendResponseHeaders(404, -1);
        }
    }

    private void list(HttpExchange exchange, String tenant) throws IOException {
        if (failing(tenant)) {
            unavailable(exchange, tenant);
            return;
        }
        java.time.Duration slow = slowNextList.remove(tenant);
        if (slow != null) {
            try {
                Thread.sleep(slow.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        StringBuilder json = new StringBuilder("{\"exports\":[");
        List<GeneratedFile> files = byTenant.getOrDefault(tenant, List.of());
        for (int i = 0; i < files.size(); i++) {
            GeneratedFile f = files.get(i);
            json.append(i == 0 ? "" : ",").append("{\"exportId\":\"").append(f.id()).append("\",\"fileName\":\"")
                    .append(f.name()).append("\",\"byteSize\":").append(f.size()).append(",\"sha256\":\"")
                    .append(f.sha256()).append("\",\"revision\":1,\"links\":{\"content\":\"/payroll/v2/exports/")
                    .append(f.id()).append("/content\"}}");
        }
        json.append("],\"links\":{}}");
        byte[] body = json.toString().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
        if (slow != null) {
            slowListAnswered.countDown();
        }
    }

    private boolean failing(String tenant) {
        java.util.Set<String> tenants = failingTenants;
        return java.time.Instant.now().isBefore(downUntil)
                || failureRate > 0 && (tenants == null || tenants.contains(tenant))
                        && java.util.concurrent.ThreadLocalRandom.current().nextDouble() < failureRate;
    }

    private void unavailable(HttpExchange exchange, String tenant) throws IOException {
        failuresByTenant.computeIfAbsent(tenant, t -> new AtomicInteger()).incrementAndGet();
        exchange.getResponseHeaders().add("Retry-After", "1");
        exchange.sendResponseHeaders(503, -1);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
