package erphub.tracing;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;

import erphub.pipeline.ClaimedFile;
import erphub.pipeline.FileClaims;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * A trace per file: its LIST (from the start of the listing that found it) and CLAIM begin a trace of its own,
 * whose W3C traceparent travels with the file (the hand-off's JSON and its Kafka header, the ledger row), so
 * that DOWNLOAD, ARCHIVE, VALIDATE and each delivery, on whichever node and however late, are spans of the same
 * trace ({@link StageSpans}). Not a trace per poll: a poll lists hundreds of files, and a file's deliveries may
 * run hours after the poll (retries, replays); a trace per poll would mix them all. With tracing off
 * ({@code quarkus.otel.sdk.disabled}) the tracer is a no-op and every traceparent is null.
 */
// Camel finds the methods the routes call (bean/method steps) reflectively, also in the native executable.
@RegisterForReflection
@ApplicationScoped
@Named("fileTraces")
public class FileTraces {

    public static final AttributeKey<String> TENANT = AttributeKey.stringKey("erphub.tenant");
    public static final AttributeKey<String> UPSTREAM = AttributeKey.stringKey("erphub.upstream");
    public static final AttributeKey<Long> FILE_ID = AttributeKey.longKey("erphub.file.id");
    public static final AttributeKey<String> REMOTE_ID = AttributeKey.stringKey("erphub.file.remote_id");
    public static final AttributeKey<String> FILE_NAME = AttributeKey.stringKey("erphub.file.name");
    public static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("erphub.file.attempt");
    public static final AttributeKey<String> DESTINATION = AttributeKey.stringKey("erphub.destination");
    public static final AttributeKey<Long> REDELIVERY = AttributeKey.longKey("erphub.redelivery");

    private static final Pattern TRACEPARENT = Pattern.compile("00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}");
    private static final W3CTraceContextPropagator W3C = W3CTraceContextPropagator.getInstance();
    private static final TextMapGetter<String> FROM_STRING = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(String carrier) {
            return java.util.List.of("traceparent");
        }

        @Override
        public String get(String carrier, String key) {
            return "traceparent".equals(key) ? carrier : null;
        }
    };

    private final Tracer tracer;

    public FileTraces(OpenTelemetry openTelemetry) {
        this.tracer = openTelemetry.getTracer("erphub");
    }

    /**
     * A listed file's trace begins: its root span, LIST, from the start of the listing (the parent, when given,
     * is the caller's own span, e.g. a push request's). Ended by {@link #claimed}; a span never ended (the file
     * was not claimed) is never exported.
     */
    public Span listed(String stage, String tenant, String upstream, String remoteId, String name, Instant started,
            Context parent) {
        SpanBuilder span = tracer.spanBuilder(stage + " " + upstream)
                .setAttribute(TENANT, tenant).setAttribute(UPSTREAM, upstream).setAttribute(REMOTE_ID, remoteId);
        if (name != null) {
            span.setAttribute(FILE_NAME, name);
        }
        if (parent == null) {
            span.setNoParent();
        } else {
            span.setParent(parent);
        }
        if (started != null) {
            span.setStartTimestamp(started);
        }
        return span.startSpan();
    }

    /** CLAIM, from {@code started} to now, under the file's root span, which ends with it. */
    public void claimed(Span root, Instant started, String tenant, String upstream, long fileId, int attempt) {
        if (!root.getSpanContext().isValid()) {
            return;
        }
        root.setAttribute(FILE_ID, fileId).setAttribute(ATTEMPT, (long) attempt);
        tracer.spanBuilder("CLAIM").setParent(Context.root().with(root)).setStartTimestamp(started)
                .setAttribute(TENANT, tenant).setAttribute(UPSTREAM, upstream)
                .setAttribute(FILE_ID, fileId).setAttribute(ATTEMPT, (long) attempt).startSpan().end();
        root.end();
    }

    /**
     * The hand-off's {@code traceparent} header (W3C Trace Context; a Kafka record header in prod) from the claimed
     * file in the body, so that tools reading the topic see the file's trace too. None when tracing is off.
     */
    public void handOff(Exchange exchange) {
        ClaimedFile file = exchange.getProperty(FileClaims.CLAIM, ClaimedFile.class);
        if (file != null && traceId(file.traceparent()) != null) {
            exchange.getMessage().setHeader("traceparent", file.traceparent());
        }
    }

    /** The span's W3C traceparent, null when tracing is off. */
    public static String traceparent(Span span) {
        SpanContext c = span.getSpanContext();
        if (!c.isValid()) {
            return null;
        }
        Map<String, String> carrier = new HashMap<>(2);
        W3C.inject(Context.root().with(span), carrier, Map::put);
        return carrier.get("traceparent");
    }

    /** The context a traceparent names, or null when it is null or not a well-formed W3C traceparent. */
    public static Context context(String traceparent) {
        if (traceparent == null || !TRACEPARENT.matcher(traceparent).matches()) {
            return null;
        }
        Context extracted = W3C.extract(Context.root(), traceparent, FROM_STRING);
        return Span.fromContext(extracted).getSpanContext().isValid() ? extracted : null;
    }

    /** The trace id of a traceparent (32 hex digits), null when it is null or not well-formed. */
    public static String traceId(String traceparent) {
        return traceparent != null && TRACEPARENT.matcher(traceparent).matches() ? traceparent.substring(3, 35) : null;
    }

    Tracer tracer() {
        return tracer;
    }
}
