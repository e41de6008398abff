package erphub.routing;

import org.jboss.logging.MDC;

import erphub.tracing.FileTraces;

/**
 * Puts a file's identity into the logging context (MDC) for the duration of one step, so every log line
 * of its processing, including the libraries', says which tenant, upstream and file it is about.
 * Camel may run the next step on another thread, hence per step rather than per exchange.
 */
public final class FileLogContext implements AutoCloseable {

    static final String TENANT = "tenant";
    static final String UPSTREAM = "upstream";
    static final String FILE_ID = "fileId";
    static final String REMOTE_ID = "remoteId";
    static final String DESTINATION = "destination";
    static final String TRACE_ID = "traceId";

    private FileLogContext() {
    }

    /**
     * A file, on its way to one destination when {@code destination} is not null; {@code traceparent} (W3C, null
     * when tracing is off) gives the line its trace id, the key OpenTelemetry's own log integration uses.
     */
    public static FileLogContext of(String tenant, String upstream, long fileId, String remoteId, String destination,
            String traceparent) {
        MDC.put(TENANT, tenant);
        MDC.put(UPSTREAM, upstream);
        MDC.put(FILE_ID, String.valueOf(fileId));
        MDC.put(REMOTE_ID, remoteId);
        if (destination != null) {
            MDC.put(DESTINATION, destination);
        }
        String traceId = FileTraces.traceId(traceparent);
        if (traceId != null) {
            MDC.put(TRACE_ID, traceId);
        }
        return new FileLogContext();
    }

    public static FileLogContext of(String tenant, String upstream) {
        MDC.put(TENANT, tenant);
        MDC.put(UPSTREAM, upstream);
        return new FileLogContext();
    }

    @Override
    public void close() {
        MDC.remove(TENANT);
        MDC.remove(UPSTREAM);
        MDC.remove(FILE_ID);
        MDC.remove(REMOTE_ID);
        MDC.remove(DESTINATION);
        MDC.remove(TRACE_ID);
    }
}
