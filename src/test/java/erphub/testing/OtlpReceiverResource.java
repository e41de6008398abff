package erphub.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;

import com.sun.net.httpserver.HttpServer;

import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * A real OTLP receiver: an HTTP server on a free 127.0.0.1 port that takes what an OpenTelemetry exporter sends
 * to {@code /v1/traces} (OTLP over HTTP, protobuf, gzip or not) and keeps every span, decoded with the
 * protocol's own classes. Turns tracing on in the application under test, exporting to it.
 */
public class OtlpReceiverResource implements QuarkusTestResourceLifecycleManager {

    /** One exported span: ids in hex, as a trace viewer shows them. */
    public record ExportedSpan(String traceId, String spanId, String parentSpanId, String name, boolean error,
            Map<String, String> attributes, String serviceName) {
    }

    /** What the receiver has taken so far. */
    public static final class Received {
        private final List<ExportedSpan> spans = new CopyOnWriteArrayList<>();
        private volatile int requests;

        public List<ExportedSpan> spans() {
            return List.copyOf(spans);
        }

        public List<ExportedSpan> trace(String traceId) {
            return spans.stream().filter(s -> s.traceId().equals(traceId)).toList();
        }

        public int requests() {
            return requests;
        }
    }

    private HttpServer server;
    private final Received received = new Received();

    @Override
    public Map<String, String> start() {
        try {
            server = HttpServer.create(new InetSocketAddress(TestServers.LOOPBACK, 0), 0);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the OTLP receiver", e);
        }
        server.createContext("/v1/traces", exchange -> {
            try (InputStream raw = exchange.getRequestBody()) {
                boolean gzip = "gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"));
                ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(gzip ? new GZIPInputStream(raw) : raw);
                received.requests++;
                for (ResourceSpans rs : request.getResourceSpansList()) {
                    String service = attributes(rs.getResource().getAttributesList()).get("service.name");
                    for (ScopeSpans ss : rs.getScopeSpansList()) {
                        for (Span s : ss.getSpansList()) {
                            received.spans.add(new ExportedSpan(hex(s.getTraceId().toByteArray()),
                                    hex(s.getSpanId().toByteArray()), hex(s.getParentSpanId().toByteArray()), s.getName(),
                                    s.getStatus().getCode() == io.opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR,
                                    attributes(s.getAttributesList()), service));
                        }
                    }
                }
                byte[] ok = io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse.getDefaultInstance().toByteArray();
                exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
                exchange.sendResponseHeaders(200, ok.length == 0 ? -1 : ok.length);
                exchange.getResponseBody().write(ok);
            } catch (IOException | RuntimeException e) {
                exchange.sendResponseHeaders(400, -1);
            } finally {
                exchange.close();
            }
        });
        server.start();
        String endpoint = "http://" + TestServers.LOOPBACK + ":" + server.getAddress().getPort();
        return Map.of(
                "quarkus.otel.sdk.disabled", "false",
                "quarkus.otel.exporter.otlp.traces.protocol", "http/protobuf",
                "quarkus.otel.exporter.otlp.traces.endpoint", endpoint,
                "quarkus.otel.bsp.schedule.delay", "200ms");
    }

    @Override
    public void inject(TestInjector injector) {
        TestServers.inject(injector, received);
    }

    @Override
    public void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    private static Map<String, String> attributes(List<KeyValue> values) {
        Map<String, String> out = new java.util.HashMap<>();
        for (KeyValue kv : values) {
            var v = kv.getValue();
            out.put(kv.getKey(), v.hasIntValue() ? String.valueOf(v.getIntValue()) : v.getStringValue());
        }
        return out;
    }

    private static String hex(byte[] bytes) {
        return bytes.length == 0 ? "" : HexFormat.of().formatHex(bytes);
    }
}
