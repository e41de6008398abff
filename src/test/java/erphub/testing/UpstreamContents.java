package erphub.testing;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.extension.ResponseDefinitionTransformerV2;
import com.github.tomakehurst.wiremock.http.Request;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;

/**
 * The example upstreams' file contents ({@link ExampleUpstreams}), each tenant's own bytes by its token's subject, as
 * a real upstream serves them. WireMock matches a request against its stubs one after another, so with one stub per
 * file every download scanned thousands of them (TenantsIT serves over 3,000 files): WireMock's request matching was
 * 9 % of the test JVM's CPU (JFR). Now one stub per upstream content path hands the request to this map. A path it
 * does not hold, or another tenant's token, gets 404, as an unmatched request did. A test's own stub for a content
 * path (default priority) still wins over these (priority 10).
 */
public final class UpstreamContents implements ResponseDefinitionTransformerV2 {

    static final String NAME = "erphub-upstream-contents";
    private static final int PRIORITY = 10;

    /** Path, then the client id a token must carry as its subject, then the bytes. */
    private final Map<String, Map<String, byte[]>> byPath = new ConcurrentHashMap<>();

    /** The contents of the server {@link HttpUpstreamResource} started. */
    public static UpstreamContents of(WireMockServer server) {
        return (UpstreamContents) server.getOptions().getDeclaredExtensions().getInstances().get(NAME);
    }

    /** Routes the example upstreams' content paths to this map, below any stub a test adds. */
    void stubOn(WireMockServer server) {
        String anyId = "[^/]+";
        for (String path : List.of(ExampleUpstreams.payrollContentPath(anyId), ExampleUpstreams.invoiceContentPath(anyId))) {
            server.stubFor(get(urlPathMatching(path)).atPriority(PRIORITY).willReturn(aResponse().withTransformers(NAME)));
        }
    }

    /** Serves {@code content} at {@code path} to tokens of client {@code clientId} (replacing what it served). */
    public void put(String path, String clientId, byte[] content) {
        byPath.computeIfAbsent(path, p -> new ConcurrentHashMap<>()).put(clientId, content);
    }

    @Override
    public ResponseDefinition transform(ServeEvent serveEvent) {
        Request request = serveEvent.getRequest();
        String url = request.getUrl();
        int query = url.indexOf('?');
        Map<String, byte[]> bySubject = byPath.get(query < 0 ? url : url.substring(0, query));
        String subject = TokenSubjectPattern.subject(request.getHeader("Authorization"));
        byte[] body = bySubject == null || subject == null ? null : bySubject.get(subject);
        if (body == null) {
            return ResponseDefinitionBuilder.responseDefinition().withStatus(404).build();
        }
        return ResponseDefinitionBuilder.responseDefinition().withStatus(200)
                .withHeader("Content-Type", "application/octet-stream").withBody(body).build();
    }

    @Override
    public boolean applyGlobally() {
        return false;
    }

    @Override
    public String getName() {
        return NAME;
    }
}
