package erphub.routing;

import org.jboss.logging.MDC;

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

    private FileLogContext() {
    }

    public static FileLogContext of(String tenant, String upstream, long fileId, String remoteId) {
        MDC.put(TENANT, tenant);
        MDC.put(UPSTREAM, upstream);
        MDC.put(FILE_ID, String.valueOf(fileId));
        MDC.put(REMOTE_ID, remoteId);
        return new FileLogContext();
    }

    /** A file on its way to one destination. */
    public static FileLogContext of(String tenant, String upstream, long fileId, String remoteId, String destination) {
        MDC.put(TENANT, tenant);
        MDC.put(UPSTREAM, upstream);
        MDC.put(FILE_ID, String.valueOf(fileId));
        MDC.put(REMOTE_ID, remoteId);
        MDC.put(DESTINATION, destination);
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
    }
}
