package erphub.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URLDecoder;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import erphub.api.Caller;
import erphub.config.ErphubConfig;
import erphub.console.HawtioConsole;
import erphub.pipeline.FileNames;
import erphub.sandbox.SandboxCatalog.SampleFile;
import erphub.state.FileKey;
import erphub.state.LedgerQueries;
import erphub.tenant.CredentialStore;
import io.quarkus.arc.properties.UnlessBuildProperty;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.CopyOptions;
import io.vertx.core.file.FileSystem;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The first-run sandbox of the embedded default ({@code erphub.sandbox.enabled}, on only in {@code %embedded}):
 * on erphub's own HTTP port, under {@code /sandbox}, an OAuth2 token endpoint issuing signed tokens, the two
 * example upstreams' file list and download APIs with a trickle of sample files for the demo tenants (an
 * occasional 503, one file whose listed checksum is wrong), and an ERP import API; plus an SFTP drop server on
 * localhost. The example routes, tenants and destinations point here by default, so files flow at once.
 */
@ApplicationScoped
// A JVM piece (its SFTP server is Apache MINA SSHD): not in the native executable, which is for prod (NativeLimits).
@UnlessBuildProperty(name = "quarkus.native.enabled", stringValue = "true", enableIfMissing = true)
public class Sandbox {

    private static final Logger LOG = Logger.getLogger(Sandbox.class);
    private static final String API_AUDIENCE = "erphub-api";
    private static final long API_TOKEN_SECONDS = 12 * 3600;
    /** The largest file the sandbox ERP imports (as before: it is a demo, not a store). */
    private static final long MAX_ERP_IMPORT = 64L << 20;

    private final ErphubConfig config;
    private final CredentialStore credentials;
    private final LedgerQueries ledger;
    private final int port;
    private final Instance<HawtioConsole> console;
    private final boolean jolokiaStarts;
    private final int jolokiaPort;
    private final AtomicLong downloads = new AtomicLong();
    private final AtomicInteger turn = new AtomicInteger();
    /** Files whose listing the simulated upstream has corrected (tenant/id). */
    private final java.util.Set<String> corrected = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private SandboxIssuer issuer;
    private SandboxCatalog catalog;
    private SandboxSftp sftp;
    private Path erpFolder;
    private ScheduledExecutorService timer;
    private final String consoleClient;
    private final String consoleSecret;
    private SandboxSignIn signIn;

    public Sandbox(ErphubConfig config, CredentialStore credentials, LedgerQueries ledger,
            @ConfigProperty(name = "quarkus.http.port", defaultValue = "8080") int port, Instance<HawtioConsole> console,
            @ConfigProperty(name = "erphub.jolokia.enabled", defaultValue = "true") boolean jolokiaStarts,
            @ConfigProperty(name = "quarkus.camel.jolokia.server.port", defaultValue = "8778") int jolokiaPort,
            @ConfigProperty(name = "quarkus.oidc.client-id", defaultValue = "erphub-console") String consoleClient,
            @ConfigProperty(name = "quarkus.oidc.credentials.secret") Optional<String> consoleSecret) {
        this.consoleClient = consoleClient;
        this.consoleSecret = consoleSecret.orElse("");
        this.console = console;
        this.jolokiaStarts = jolokiaStarts;
        this.jolokiaPort = jolokiaPort;
        this.config = config;
        this.credentials = credentials;
        this.ledger = ledger;
        this.port = port;
    }

    /** The HTTP side, registered with erphub's router before it serves (so the first poll finds it). */
    void routes(@Observes Router router) {
        if (!config.sandbox().enabled()) {
            return;
        }
        try {
            Path root = config.dataDir().resolve("sandbox");
            issuer = new SandboxIssuer("http://localhost:" + port + "/sandbox/oauth2");
            signIn = new SandboxSignIn(issuer, config.sandbox().tenants(), port, consoleClient, consoleSecret,
                    API_TOKEN_SECONDS);
            catalog = new SandboxCatalog(root.resolve("upstream"));
            erpFolder = Files.createDirectories(root.resolve("erp"));
            // The API verifies tokens against this file, not the /sandbox URL: smallrye-jwt fetches a JWKS URL on
            // the event loop, and fetching it from this very server blocked that loop.
            Files.writeString(root.resolve("jwks.json"), issuer.jwks());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the sandbox under " + config.dataDir(), e);
        }
        // Sandbox secrets are public (application.properties): only this machine may use them.
        router.route("/sandbox/*").handler(this::loopbackOnly);
        router.post("/sandbox/oauth2/token").handler(BodyHandler.create().setBodyLimit(64 << 10)).handler(this::token);
        router.get("/sandbox/oauth2/authorize").handler(signIn::page);
        router.post("/sandbox/oauth2/authorize").handler(BodyHandler.create().setBodyLimit(16 << 10))
                .handler(signIn::signIn);
        router.post("/sandbox/oauth2/api-token").handler(BodyHandler.create().setBodyLimit(4 << 10)).handler(this::issueApiToken);
        router.get("/sandbox/oauth2/jwks").handler(rc -> rc.response().putHeader("Content-Type", "application/json")
                .end(issuer.jwks()));
        router.get("/sandbox/payroll/v2/tenants/:tenant/exports").blockingHandler(this::payrollList);
        router.get("/sandbox/payroll/v2/exports/:id/content").blockingHandler(rc -> download(rc, SandboxCatalog.PAYROLL));
        router.get("/sandbox/invoices/api/documents").blockingHandler(this::invoiceList);
        router.get("/sandbox/invoices/api/documents/:id/binary").blockingHandler(rc -> download(rc, SandboxCatalog.INVOICES));
        router.route("/sandbox/erp/*").handler(this::erpImport);
    }

    void start(@Observes StartupEvent event) throws IOException {
        if (!config.sandbox().enabled()) {
            return;
        }
        Path root = config.dataDir().resolve("sandbox");
        sftp = new SandboxSftp(root.resolve("sftp"), root.resolve("known_hosts"), root.resolve("sftp-host.key"),
                config.sandbox().sftpPort(), config.destinations().sftp().username(),
                config.destinations().sftp().password().orElse(""));
        sftp.start();
        boolean fresh = config.sandbox().tenants().stream().allMatch(t -> catalog.list(t, SandboxCatalog.PAYROLL).isEmpty());
        if (fresh) {
            for (String tenant : config.sandbox().tenants()) {
                for (String upstream : List.of(SandboxCatalog.PAYROLL, SandboxCatalog.INVOICES)) {
                    for (int i = 0; i < config.sandbox().initialFiles(); i++) {
                        catalog.add(tenant, upstream);
                    }
                }
            }
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "erphub-sandbox"));
        timer.scheduleWithFixedDelay(this::trickle, config.sandbox().fileInterval(), config.sandbox().fileInterval(),
                TimeUnit.MILLISECONDS);
        timer.scheduleWithFixedDelay(this::progress, config.sandbox().progressInterval(),
                config.sandbox().progressInterval(), TimeUnit.MILLISECONDS);
        banner(root);
    }

    @PreDestroy
    void stop() {
        if (timer != null) {
            timer.shutdownNow();
        }
        if (sftp != null) {
            sftp.stop();
        }
    }

    private void banner(Path root) {
        String base = "http://localhost:" + port;
        String admin = apiToken(null);
        LOG.infof("%n"
                + "=================================================================================%n"
                + " erphub is running on the embedded default, with its sandbox (demo tenants %s)%n"
                + "   Files:    listed from %s/sandbox/{payroll,invoices}, archived in %s%n"
                + "   Delivered to the sandbox SFTP folder %s and ERP API %s%n"
                + "   Console:  %s/console   (sign in as the sandbox admin or a tenant's operator)%n"
                + "   API:      %s/api/files   (OpenAPI %s/q/openapi, Swagger UI %s/q/swagger-ui)%n"
                + "   Admin token for the API (sandbox only, valid 12 h):%n     %s%n"
                + "   A tenant's token (sees only its files): curl -d tenant=acme %s/sandbox/oauth2/api-token%n"
                + "   Health:   %s/q/health   Metrics: %s/q/metrics%n"
                + "   Routes:   %s%n"
                + "=================================================================================",
                config.sandbox().tenants(), base, config.dataDir().resolve("archive").toAbsolutePath(),
                sftp.root().toAbsolutePath(), erpFolder.toAbsolutePath(), base, base, base, base, admin, base, base, base,
                routesLine());
    }

    private String routesLine() {
        String jolokia = jolokiaStarts ? "Jolokia http://localhost:" + jolokiaPort + "/jolokia/" : "Jolokia is off";
        if (console.isResolvable() && console.get().running()) {
            return "Hawtio " + console.get().url() + " (Camel → routes; " + jolokia + " for other consoles)";
        }
        return jolokia + " (connect a Hawtio console to it)";
    }

    /** One new sample file, tenants and upstreams in turn. */
    private void trickle() {
        try {
            List<String> tenants = config.sandbox().tenants();
            int n = turn.getAndIncrement();
            String tenant = tenants.get(n % tenants.size());
            String upstream = (n / tenants.size()) % 2 == 0 ? SandboxCatalog.PAYROLL : SandboxCatalog.INVOICES;
            catalog.add(tenant, upstream);
        } catch (IOException | RuntimeException e) {
            LOG.warnf("sandbox: cannot add a sample file: %s", e.toString());
        }
    }

    private void progress() {
        try {
            Map<String, Long> byState = ledger.countByState();
            long total = byState.values().stream().mapToLong(Long::longValue).sum();
            Map<String, Long> byDelivery = ledger.deliveryCountByState();
            LOG.infof("sandbox progress: %d files, %d delivered, %d partially, %d rejected, %d dead-lettered;"
                    + " deliveries retrying %d, dead %d", total, byState.getOrDefault("DELIVERED", 0L),
                    byState.getOrDefault("PARTIALLY_DELIVERED", 0L), byState.getOrDefault("REJECTED", 0L),
                    byState.getOrDefault("DEAD_LETTERED", 0L), byDelivery.getOrDefault("RETRYING", 0L),
                    byDelivery.getOrDefault("DEAD", 0L));
        } catch (RuntimeException e) {
            LOG.debugf("sandbox progress unavailable: %s", e.toString());
        }
    }

    /**
     * A management API token to try the API with, valid 12 h: form field {@code tenant=<id>} gives a tenant-scoped
     * one (role {@value Caller#TENANT_ROLE}, claim {@value Caller#TENANT_CLAIM}: that tenant's files only), no field
     * the admin one the banner prints. Loopback only, like all of {@code /sandbox}.
     */
    private void issueApiToken(RoutingContext rc) {
        String tenant = rc.request().getFormAttribute("tenant");
        if (tenant != null && !FileKey.isTenantId(tenant)) {
            // The value is not repeated: it is whatever a caller sent.
            problem(rc, 400, "tenant must be a tenant id, " + FileKey.TENANT_ID_PATTERN);
            return;
        }
        rc.response().putHeader("Content-Type", "application/json").end(new JsonObject()
                .put("access_token", apiToken(tenant)).put("token_type", "Bearer").put("expires_in", API_TOKEN_SECONDS)
                .put("tenant", tenant).encode());
    }

    /** An API token for the tenant, or the admin's when the tenant is null. */
    private String apiToken(String tenant) {
        return tenant == null
                ? issuer.token("sandbox-admin", API_AUDIENCE, API_TOKEN_SECONDS, Map.of("groups", List.of(Caller.ADMIN)))
                : issuer.token("sandbox-" + tenant, API_AUDIENCE, API_TOKEN_SECONDS,
                        Map.of("groups", List.of(Caller.TENANT_ROLE), Caller.TENANT_CLAIM, tenant));
    }

    /** Client credentials grant: the client's id and secret are erphub's configured credentials (sandbox values). */
    private void token(RoutingContext rc) {
        String id = rc.request().getFormAttribute("client_id");
        String secret = rc.request().getFormAttribute("client_secret");
        String authorization = rc.request().getHeader("Authorization");
        if (authorization != null && authorization.startsWith("Basic ")) {
            String[] pair = new String(Base64.getDecoder().decode(authorization.substring(6)), StandardCharsets.UTF_8)
                    .split(":", 2);
            id = URLDecoder.decode(pair[0], StandardCharsets.UTF_8);
            secret = pair.length > 1 ? URLDecoder.decode(pair[1], StandardCharsets.UTF_8) : null;
        }
        if (SandboxSignIn.isCodeGrant(rc)) {
            signIn.token(rc, id, secret);
            return;
        }
        String expected = id == null ? null : credentials.value(id, CredentialStore.CLIENT_SECRET).orElse(null);
        if (expected == null || !expected.equals(secret)) {
            rc.response().setStatusCode(401).putHeader("Content-Type", "application/json")
                    .end("{\"error\":\"invalid_client\"}");
            return;
        }
        String scope = rc.request().getFormAttribute("scope");
        String token = issuer.token(id, "sandbox", 300, scope == null ? Map.of() : Map.of("scope", scope));
        rc.response().putHeader("Content-Type", "application/json").end(new JsonObject().put("access_token", token)
                .put("token_type", "Bearer").put("expires_in", 300).encode());
    }

    /** The tenant a bearer token of the sandbox issuer speaks for (its client id is {@code <tenant>-<name>}). */
    private String tenantOf(RoutingContext rc) {
        String authorization = rc.request().getHeader("Authorization");
        String subject = authorization == null || !authorization.startsWith("Bearer ") ? null
                : issuer.subjectOf(authorization.substring(7));
        if (subject == null) {
            rc.response().setStatusCode(401).end();
            return null;
        }
        return config.sandbox().tenants().stream().filter(t -> subject.startsWith(t + "-")).findFirst().orElseGet(() -> {
            rc.response().setStatusCode(403).end();
            return null;
        });
    }

    private void payrollList(RoutingContext rc) {
        String tenant = rc.pathParam("tenant");
        if (!tenant.equals(tenantOf(rc))) {
            if (!rc.response().ended()) {
                rc.response().setStatusCode(403).end();
            }
            return;
        }
        Integer after = intParam(rc, "after", 0, 0, Integer.MAX_VALUE);
        if (after == null) {
            return;
        }
        List<SampleFile> all = catalog.list(tenant, SandboxCatalog.PAYROLL);
        int from = after;
        int to = Math.min(all.size(), from + 50);
        JsonArray exports = new JsonArray();
        for (SampleFile f : all.subList(Math.min(from, all.size()), to)) {
            exports.add(new JsonObject().put("exportId", f.id()).put("fileName", f.name()).put("byteSize", f.size())
                    .put("sha256", f.digest("SHA-256")).put("revision", 1)
                    .put("links", new JsonObject().put("content", "/sandbox/payroll/v2/exports/" + f.id() + "/content")));
        }
        JsonObject links = new JsonObject();
        if (to < all.size()) {
            links.put("next", "/sandbox/payroll/v2/tenants/" + tenant + "/exports?status=ready&after=" + to);
        }
        rc.response().putHeader("Content-Type", "application/json")
                .end(new JsonObject().put("exports", exports).put("links", links).encode());
    }

    private void invoiceList(RoutingContext rc) {
        String tenant = rc.queryParam("org").isEmpty() ? null : rc.queryParam("org").get(0);
        if (tenant == null || !tenant.equals(tenantOf(rc))) {
            if (!rc.response().ended()) {
                rc.response().setStatusCode(403).end();
            }
            return;
        }
        Integer page = intParam(rc, "page", 1, 1, 1_000_000);
        Integer size = page == null ? null : intParam(rc, "per_page", 50, 1, 1000);
        if (page == null || size == null) {
            return;
        }
        List<SampleFile> all = catalog.list(tenant, SandboxCatalog.INVOICES);
        int from = (int) Math.min(all.size(), (page - 1L) * size);
        JsonArray items = new JsonArray();
        for (SampleFile f : all.subList(from, Math.min(all.size(), from + size))) {
            items.add(new JsonObject().put("id", f.id()).put("name", f.name()).put("size", f.size())
                    .put("etag", "\"v1\"").put("md5", f.md5Base64(corrected.contains(tenant + "/" + f.id()))));
        }
        rc.response().putHeader("Content-Type", "application/json")
                .end(new JsonObject().put("page", page).put("items", items).encode());
    }

    /** Every seventh download answers 503 once: erphub retries it. */
    private void download(RoutingContext rc, String upstream) {
        String tenant = tenantOf(rc);
        if (tenant == null) {
            return;
        }
        SampleFile f = catalog.find(tenant, upstream, rc.pathParam("id"));
        if (f == null) {
            rc.response().setStatusCode(404).end();
            return;
        }
        if (f.id().equals(SandboxCatalog.MALFORMED) && corrected.add(tenant + "/" + f.id())) {
            LOG.infof("sandbox: %s's upstream has corrected the listed checksum of %s (after this download)", tenant, f.id());
        } else if (downloads.incrementAndGet() % 7 == 0) {
            rc.response().setStatusCode(503).putHeader("Retry-After", "1").end("busy, try again");
            return;
        }
        rc.response().putHeader("Content-Type", "application/octet-stream").end(Buffer.buffer(f.bytes()));
    }

    /**
     * The ERP's import API: keeps each file once per Idempotency-Key (a repeat answers 409), streamed to disk (never
     * held in memory) under {@code erp/<SHA-256 of the key>/<file name>}: a key is never used as a path. The key itself
     * is kept beside the file, in {@code .idempotency-key}.
     */
    private void erpImport(RoutingContext rc) {
        HttpServerRequest request = rc.request();
        request.pause();
        String authorization = request.getHeader("Authorization");
        if (authorization == null || !authorization.startsWith("Bearer ")
                || issuer.subjectOf(authorization.substring(7)) == null) {
            problem(rc, 401, "a sandbox bearer token is required");
            return;
        }
        String key = request.getHeader("Idempotency-Key");
        String encodedName = request.getHeader("X-Erphub-File-Name");
        if (key == null || key.isBlank() || encodedName == null) {
            problem(rc, 400, "Idempotency-Key and X-Erphub-File-Name are required");
            return;
        }
        String name;
        try {
            name = URLDecoder.decode(encodedName, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            problem(rc, 400, "X-Erphub-File-Name is not URL-encoded UTF-8");
            return;
        }
        Optional<String> unsafe = FileNames.whyUnsafe(name);
        if (unsafe.isPresent()) {
            problem(rc, 400, "unsafe X-Erphub-File-Name '" + FileNames.printable(name) + "': " + unsafe.get());
            return;
        }
        String length = request.getHeader("Content-Length");
        if (length != null && length.matches("\\d{1,18}") && Long.parseLong(length) > MAX_ERP_IMPORT) {
            problem(rc, 413, "a file of " + length + " bytes is over the sandbox ERP's limit of " + MAX_ERP_IMPORT);
            return;
        }
        Path folder = erpFolder.resolve(sha256(key));
        Path target = folder.resolve(name);
        Path part = folder.resolve(".part-" + UUID.randomUUID());
        FileSystem fs = rc.vertx().fileSystem();
        fs.mkdirs(folder.toString())
                .compose(v -> fs.writeFile(folder.resolve(".idempotency-key").toString(), Buffer.buffer(key)))
                .compose(v -> fs.exists(target.toString()))
                .compose(exists -> exists ? Future.failedFuture(new ErpImportRefused(409,
                        "already imported under this Idempotency-Key"))
                        : fs.open(part.toString(), new OpenOptions().setCreateNew(true).setWrite(true)))
                .compose(file -> receive(request, file, part))
                .compose(v -> fs.move(part.toString(), target.toString(), new CopyOptions().setAtomicMove(true)))
                .onSuccess(v -> rc.response().setStatusCode(201).end())
                .onFailure(e -> {
                    fs.delete(part.toString());
                    if (e instanceof ErpImportRefused refused) {
                        problem(rc, refused.status, refused.getMessage());
                    } else if (!rc.response().ended()) {
                        LOG.warnf("sandbox ERP: import of %s failed: %s", FileNames.printable(name), e.toString());
                        problem(rc, 500, "the import could not be stored");
                    }
                });
    }

    /** Writes the request body to the file as it arrives, at most MAX_ERP_IMPORT bytes, with back-pressure. */
    private static Future<Void> receive(HttpServerRequest request, AsyncFile file, Path part) {
        Promise<Void> done = Promise.promise();
        AtomicLong received = new AtomicLong();
        request.handler(chunk -> {
            if (received.addAndGet(chunk.length()) > MAX_ERP_IMPORT) {
                request.pause();
                file.close();
                done.tryFail(new ErpImportRefused(413, "the file is over the sandbox ERP's limit of " + MAX_ERP_IMPORT + " bytes"));
                return;
            }
            file.write(chunk);
            if (file.writeQueueFull()) {
                request.pause();
                file.drainHandler(v -> request.resume());
            }
        });
        request.exceptionHandler(e -> {
            file.close();
            done.tryFail(e);
        });
        request.endHandler(v -> file.close().onComplete(closed -> {
            if (closed.succeeded()) {
                done.tryComplete();
            } else {
                done.tryFail(closed.cause());
            }
        }));
        request.resume();
        return done.future();
    }

    /** A refusal of the sandbox ERP with its status. */
    private static final class ErpImportRefused extends RuntimeException {
        private final int status;

        ErpImportRefused(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /** The sandbox serves this machine only: its client secrets and admin token issuer are public knowledge. */
    private void loopbackOnly(RoutingContext rc) {
        SocketAddress peer = rc.request().remoteAddress();
        boolean loopback;
        try {
            loopback = peer != null && peer.hostAddress() != null
                    && InetAddress.getByName(peer.hostAddress()).isLoopbackAddress();
        } catch (UnknownHostException e) {
            loopback = false;
        }
        if (!loopback) {
            problem(rc, 403, "the sandbox answers only clients on this machine (loopback)");
            return;
        }
        rc.next();
    }

    /** An integer query parameter, its default when absent, or a 400 answer (and null) when it is not one in range. */
    private static Integer intParam(RoutingContext rc, String name, int fallback, int min, int max) {
        List<String> values = rc.queryParam(name);
        if (values.isEmpty()) {
            return fallback;
        }
        try {
            int value = Integer.parseInt(values.get(0));
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        problem(rc, 400, name + " must be a whole number from " + min + " to " + max);
        return null;
    }

    private static void problem(RoutingContext rc, int status, String detail) {
        if (rc.response().ended()) {
            return;
        }
        rc.response().setStatusCode(status).putHeader("Content-Type", "application/problem+json")
                .putHeader("Connection", "close")
                .end(new JsonObject().put("type", "about:blank").put("status", status).put("detail", detail).encode());
    }

    private static String sha256(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
