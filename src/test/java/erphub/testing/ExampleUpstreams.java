package erphub.testing;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.MappingBuilder;

/**
 * The two example upstreams of src/main/resources/routes, played by WireMock: payroll-exports (next-link
 * paging, SHA-256, revisions) and supplier-invoices (numbered pages, base64 MD5, etags), with generated
 * files whose bytes the tests compare with the archive.
 */
public final class ExampleUpstreams {

    public static final String PAYROLL = "payroll-exports";
    public static final String INVOICES = "supplier-invoices";
    /** A tenant's credential name per example upstream (its client is {@code <tenant>-<name>}). */
    public static final Map<String, String> CREDENTIALS = Map.of(PAYROLL, "payroll", INVOICES, "procurement");

    /** One file as the upstream serves it. */
    public record RemoteFile(String tenant, String upstream, String remoteId, String version, String name,
            byte[] content) {
    }

    private final WireMockServer server;
    private final Map<String, RemoteFile> files = new LinkedHashMap<>();

    public ExampleUpstreams(WireMockServer server) {
        this.server = server;
    }

    /** Stubs {@code count} files per tenant on both upstreams (same remote ids across tenants, other bytes). */
    public ExampleUpstreams serve(List<String> tenants, int count) {
        for (String tenant : tenants) {
            List<RemoteFile> payroll = new ArrayList<>();
            List<RemoteFile> invoices = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                payroll.add(file(tenant, PAYROLL, String.format("exp-%05d", i), "1",
                        String.format("payroll-%s-%05d.csv", tenant, i)));
                invoices.add(file(tenant, INVOICES, String.format("inv-%05d", i), "\"e1\"",
                        String.format("invoice-%05d.json", i)));
            }
            servePayroll(tenant, payroll);
            serveInvoices(tenant, invoices);
        }
        return this;
    }

    /** Adds {@code count} payroll files with ids {@code <batch>-00000...} to each tenant's list. */
    public List<RemoteFile> serveMorePayroll(List<String> tenants, String batch, int count) {
        List<RemoteFile> added = new ArrayList<>();
        for (String tenant : tenants) {
            for (int i = 0; i < count; i++) {
                added.add(file(tenant, PAYROLL, String.format("%s-%05d", batch, i), "1",
                        String.format("payroll-%s-%s-%05d.csv", tenant, batch, i)));
            }
            servePayroll(tenant, files.values().stream()
                    .filter(f -> f.tenant().equals(tenant) && f.upstream().equals(PAYROLL)).toList());
        }
        return added;
    }

    /** Serves one payroll file of the given size as the tenant's whole list. */
    public RemoteFile serveLargePayroll(String tenant, String remoteId, int size) {
        byte[] content = new byte[size];
        new Random(remoteId.hashCode()).nextBytes(content);
        RemoteFile f = new RemoteFile(tenant, PAYROLL, remoteId, "1", remoteId + ".bin", content);
        files.put(tenant + "/" + PAYROLL + "/" + remoteId, f);
        servePayroll(tenant, List.of(f));
        return f;
    }

    /** Replaces one payroll file with a new revision and new bytes. */
    public RemoteFile revise(String tenant, String remoteId, String newVersion) {
        RemoteFile old = files.get(tenant + "/" + PAYROLL + "/" + remoteId);
        RemoteFile changed = new RemoteFile(tenant, PAYROLL, remoteId, newVersion, old.name(),
                bytes(tenant + remoteId + newVersion));
        files.put(tenant + "/" + PAYROLL + "/" + remoteId, changed);
        List<RemoteFile> all = files.values().stream()
                .filter(f -> f.tenant().equals(tenant) && f.upstream().equals(PAYROLL)).toList();
        servePayroll(tenant, all);
        return changed;
    }

    public List<RemoteFile> files() {
        return List.copyOf(files.values());
    }

    public static String payrollContentPath(String remoteId) {
        return "/payroll/v2/exports/" + remoteId + "/content";
    }

    public static String invoiceContentPath(String remoteId) {
        return "/invoices/api/documents/" + remoteId + "/binary";
    }

    private RemoteFile file(String tenant, String upstream, String remoteId, String version, String name) {
        RemoteFile f = new RemoteFile(tenant, upstream, remoteId, version, name, bytes(tenant + upstream + remoteId));
        files.put(tenant + "/" + upstream + "/" + remoteId, f);
        return f;
    }

    private void servePayroll(String tenant, List<RemoteFile> list) {
        int pageSize = 50;
        String listPath = "/payroll/v2/tenants/" + tenant + "/exports";
        for (int from = 0; from < list.size() || from == 0; from += pageSize) {
            List<RemoteFile> page = list.subList(from, Math.min(list.size(), from + pageSize));
            StringBuilder json = new StringBuilder("{\"exports\":[");
            for (int i = 0; i < page.size(); i++) {
                RemoteFile f = page.get(i);
                json.append(i == 0 ? "" : ",").append("{\"exportId\":\"").append(f.remoteId())
                        .append("\",\"fileName\":\"").append(f.name()).append("\",\"byteSize\":")
                        .append(f.content().length).append(",\"sha256\":\"").append(hex("SHA-256", f.content()))
                        .append("\",\"revision\":").append(f.version()).append(",\"links\":{\"content\":\"")
                        .append(payrollContentPath(f.remoteId())).append("\"}}");
                serveContent(payrollContentPath(f.remoteId()), tenant, f.content());
            }
            json.append("],\"links\":{");
            int next = from + pageSize;
            if (next < list.size()) {
                json.append("\"next\":\"").append(listPath).append("?status=ready&after=").append(next).append("\"");
            }
            json.append("}}");
            MappingBuilder stub = get(urlPathEqualTo(listPath)).withQueryParam("status", equalTo("ready"));
            stub = from == 0 ? stub.withQueryParam("after", com.github.tomakehurst.wiremock.client.WireMock.absent())
                    : stub.withQueryParam("after", equalTo(String.valueOf(from)));
            server.stubFor(stub.willReturn(aResponse().withHeader("Content-Type", "application/json").withBody(json.toString())));
        }
    }

    private void serveInvoices(String tenant, List<RemoteFile> list) {
        int pageSize = 50;
        for (int page = 1; (page - 1) * pageSize <= list.size(); page++) {
            int from = (page - 1) * pageSize;
            List<RemoteFile> items = list.subList(from, Math.min(list.size(), from + pageSize));
            StringBuilder json = new StringBuilder("{\"page\":" + page + ",\"items\":[");
            for (int i = 0; i < items.size(); i++) {
                RemoteFile f = items.get(i);
                json.append(i == 0 ? "" : ",").append("{\"id\":\"").append(f.remoteId()).append("\",\"name\":\"")
                        .append(f.name()).append("\",\"size\":").append(f.content().length).append(",\"etag\":")
                        .append("\"\\\"e1\\\"\"").append(",\"md5\":\"")
                        .append(Base64.getEncoder().encodeToString(digest("MD5", f.content()))).append("\"}");
            }
            json.append("]}");
            server.stubFor(get(urlPathEqualTo("/invoices/api/documents")).withQueryParam("org", equalTo(tenant))
                    .withQueryParam("page", equalTo(String.valueOf(page))).withQueryParam("per_page", equalTo("50"))
                    .willReturn(aResponse().withHeader("Content-Type", "application/json").withBody(json.toString())));
        }
        // Invoice ids repeat across tenants: the content is told apart by the tenant's token subject.
        for (RemoteFile f : list) {
            serveContent(invoiceContentPath(f.remoteId()), tenant, f.content());
        }
    }

    private void serveContent(String path, String tenant, byte[] content) {
        UpstreamContents.of(server).put(path, clientIdOf(tenant, path), content);
    }

    /**
     * Config that subscribes the tenants to both example upstreams, polling every second, with one client
     * per (tenant, credential): {@code <tenant>-payroll} and {@code <tenant>-procurement}.
     */
    public static Map<String, String> tenantConfig(List<String> tenants) {
        return tenantConfig(tenants, String.join("-", tenants));
    }

    /** The same, with the registry file named {@code registryName} (one per test profile). */
    public static Map<String, String> tenantConfig(List<String> tenants, String registryName) {
        return tenantConfig(registry(tenants), registryName);
    }

    /** The tenants subscribed to both example upstreams, for a test to add its own entries or clients to. */
    public static TestTenants registry(List<String> tenants) {
        TestTenants registry = new TestTenants();
        tenants.forEach(tenant -> registry.tenant(tenant, CREDENTIALS));
        return registry;
    }

    public static Map<String, String> tenantConfig(TestTenants registry, String registryName) {
        Map<String, String> config = new java.util.HashMap<>(registry.write(registryName));
        config.put("erphub.upstreams.payroll-exports.poll-interval", "1000");
        config.put("erphub.upstreams.supplier-invoices.poll-cron", "* * * * * ?");
        // Intake on its own: the files stay in the archive (fan-out tests name their destinations).
        config.put("erphub.upstreams.payroll-exports.destinations", "none");
        config.put("erphub.upstreams.supplier-invoices.destinations", "none");
        return config;
    }

    /** The HTTP upstream and the token server, wired to the example upstreams' endpoint properties. */
    public static List<io.quarkus.test.junit.QuarkusTestProfile.TestResourceEntry> servers() {
        return List.of(
                new io.quarkus.test.junit.QuarkusTestProfile.TestResourceEntry(HttpUpstreamResource.class, Map.of(
                        "erphub.upstreams.payroll-exports.base-url", "/payroll",
                        "erphub.upstreams.supplier-invoices.base-url", "/invoices")),
                new io.quarkus.test.junit.QuarkusTestProfile.TestResourceEntry(OAuth2ServerResource.class, Map.of(
                        "erphub.upstreams.payroll-exports.token-url", "",
                        "erphub.upstreams.supplier-invoices.token-url", "")));
    }

    /** Client ids the tests give tenants: one per (tenant, credential). */
    public static String clientIdOf(String tenant, String path) {
        return tenant + (path.startsWith("/payroll") ? "-payroll" : "-procurement");
    }

    private static byte[] bytes(String seed) {
        Random random = new Random(seed.hashCode());
        byte[] b = new byte[512 + random.nextInt(3500)];
        random.nextBytes(b);
        return b;
    }

    public static String hex(String algorithm, byte[] content) {
        return HexFormat.of().formatHex(digest(algorithm, content));
    }

    private static byte[] digest(String algorithm, byte[] content) {
        try {
            return MessageDigest.getInstance(algorithm).digest(content);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
