package erphub.tracing;

import java.util.Map;

import jakarta.inject.Singleton;

import org.apache.camel.Exchange;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.spi.CamelEvent.ExchangeSendingEvent;
import org.apache.camel.spi.CamelEvent.ExchangeSentEvent;
import org.apache.camel.support.EventNotifierSupport;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import erphub.delivery.Delivery;
import erphub.pipeline.ClaimedFile;
import erphub.pipeline.FileIntake;
import io.quarkus.arc.Unremovable;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;

/**
 * The pipeline's stages as spans of the file's trace ({@link FileTraces}): a span from the moment a route sends
 * the exchange to a stage's endpoint until that endpoint answers, so the spans are the routes' own steps as
 * Hawtio draws them. A failed attempt is a span in error with its exception; a retry is a new span.
 * <ul>
 * <li>DOWNLOAD: the upstream's download route ({@code kamelet:erphub-upstream-download-action}), streaming into
 * <li>ARCHIVE ({@code direct:erphub-archive}), its child;</li>
 * <li>VALIDATE: {@code direct:erphub-store}, the checks and the ledger's VALIDATED with the fan-out;</li>
 * <li>DELIVER &lt;destination&gt;: {@code direct:erphub-send-<destination>}, under the file's root whichever node
 * delivers it, from the ledger's traceparent (so swept and replayed deliveries join the trace too).</li>
 * </ul>
 * Open spans are kept on the exchange as an immutable stack: an exchange copied into another queue (the
 * fan-out) keeps its own view, never another thread's.
 */
@Singleton
@Unremovable // no one injects it: Camel finds it in the registry at start and adds it to its event notifiers
public class StageSpans extends EventNotifierSupport {

    static final String OPEN = "erphubOpenSpans";
    private static final String DELIVERY = "delivery";
    private static final Map<String, String> STAGES = Map.of(
            "kamelet://erphub-upstream-download-action", "DOWNLOAD",
            "direct://erphub-archive", "ARCHIVE",
            "direct://erphub-store", "VALIDATE");
    private static final String SEND = "direct://erphub-send-";

    /** The spans an exchange has open, innermost first. */
    private record Open(String endpoint, Span span, Open outer) {
    }

    private final FileTraces traces;

    public StageSpans(FileTraces traces, @ConfigProperty(name = "quarkus.otel.sdk.disabled") boolean disabled) {
        this.traces = traces;
        // Every event off but the two it reads, all of them when tracing is off: Camel then creates no event at all.
        setIgnoreCamelContextEvents(true);
        setIgnoreRouteEvents(true);
        setIgnoreServiceEvents(true);
        setIgnoreStepEvents(true);
        setIgnoreExchangeEvents(disabled);
        setIgnoreExchangeCreatedEvent(true);
        setIgnoreExchangeCompletedEvent(true);
        setIgnoreExchangeFailedEvents(true);
        setIgnoreExchangeRedeliveryEvents(true);
        setIgnoreExchangeSendingEvents(disabled);
        setIgnoreExchangeSentEvents(disabled);
    }

    @Override
    public boolean isEnabled(CamelEvent event) {
        return event instanceof ExchangeSendingEvent || event instanceof ExchangeSentEvent;
    }

    @Override
    public void notify(CamelEvent event) {
        if (event instanceof ExchangeSendingEvent sending) {
            String endpoint = sending.getEndpoint().getEndpointBaseUri();
            String stage = stage(endpoint);
            if (stage != null) {
                start(sending.getExchange(), endpoint, stage);
            }
        } else if (event instanceof ExchangeSentEvent sent) {
            end(sent.getExchange(), sent.getEndpoint().getEndpointBaseUri());
        }
    }

    static String stage(String endpoint) {
        if (endpoint.startsWith(SEND)) {
            return "DELIVER " + endpoint.substring(SEND.length());
        }
        int path = endpoint.indexOf('/', endpoint.indexOf("://") + 3);
        return STAGES.get(path < 0 ? endpoint : endpoint.substring(0, path));
    }

    private void start(Exchange exchange, String endpoint, String stage) {
        Open open = exchange.getProperty(OPEN, Open.class);
        Delivery delivery = stage.startsWith("DELIVER") ? exchange.getProperty(DELIVERY, Delivery.class) : null;
        ClaimedFile file = exchange.getProperty(FileIntake.CLAIMED_FILE, ClaimedFile.class);
        Context parent;
        if (delivery != null) {
            parent = FileTraces.context(delivery.file().traceparent());
        } else if (open != null) {
            parent = Context.root().with(open.span());
        } else {
            parent = file == null ? null : FileTraces.context(file.traceparent());
        }
        if (parent == null) {
            return; // no trace to continue (tracing was off when the file was claimed)
        }
        SpanBuilder span = traces.tracer().spanBuilder(stage).setParent(parent);
        if (delivery != null) {
            span.setAttribute(FileTraces.TENANT, delivery.tenant()).setAttribute(FileTraces.UPSTREAM, delivery.upstream())
                    .setAttribute(FileTraces.FILE_ID, delivery.file().id())
                    .setAttribute(FileTraces.DESTINATION, delivery.destination());
        } else if (file != null) {
            span.setAttribute(FileTraces.TENANT, file.tenant()).setAttribute(FileTraces.UPSTREAM, file.upstream())
                    .setAttribute(FileTraces.FILE_ID, file.fileId()).setAttribute(FileTraces.ATTEMPT, (long) file.attempt());
        }
        Integer redelivery = exchange.getMessage().getHeader(Exchange.REDELIVERY_COUNTER, Integer.class);
        if (redelivery != null && redelivery > 0) {
            span.setAttribute(FileTraces.REDELIVERY, redelivery.longValue());
        }
        exchange.setProperty(OPEN, new Open(endpoint, span.startSpan(), open));
    }

    private static void end(Exchange exchange, String endpoint) {
        Open open = exchange.getProperty(OPEN, Open.class);
        if (open == null || !open.endpoint().equals(endpoint)) {
            return; // not a stage, or a send this exchange did not trace
        }
        Span span = open.span();
        Exception failure = exchange.getException();
        if (failure != null) {
            span.recordException(failure);
            span.setStatus(StatusCode.ERROR, failure.getMessage());
        }
        span.end();
        if (open.outer() == null) {
            exchange.removeProperty(OPEN);
        } else {
            exchange.setProperty(OPEN, open.outer());
        }
    }
}
