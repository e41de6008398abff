package erphub.archive;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.support.SynchronizationAdapter;

import erphub.state.FileRecord;

/**
 * Keeps track of the archived bytes a delivery reads (route {@code erphub-archive-read}): each read opens a stream
 * (an S3 object holds a pooled connection until it is closed), and a destination may read again for a retry or a
 * 401. The stream a new read replaces is closed then, and the last one when the exchange is done, whether the
 * destination read it to the end or failed before it started.
 */
@ApplicationScoped
public class ArchiveReads {

    static final String OPEN = "erphubArchiveRead";
    /** Exchange property: whoever started the read closes the stream (it outlives the exchange: an API download). */
    static final String CALLER_CLOSES = "erphubArchiveCallerCloses";

    @Inject
    ProducerTemplate producer;

    /**
     * The archived bytes of a file, streamed from the archive through the same route deliveries read it with
     * ({@code erphub-archive-read}: a local folder or S3, server-side decryption included). The caller closes them.
     */
    public InputStream open(FileRecord file) {
        Exchange done = producer.send("direct:erphub-archive-read", x -> {
            x.setProperty("delivery", file);
            x.setProperty(CALLER_CLOSES, true);
        });
        if (done.getException() != null) {
            org.jboss.logging.Logger.getLogger(ArchiveReads.class).warnf("file %d: archive read failed: %s", file.id(),
                    done.getException().toString());
            throw new ArchiveReadException("file " + file.id() + ": the archive did not give its bytes",
                    done.getException());
        }
        return done.getMessage().getBody(InputStream.class);
    }

    /** The archive could not be read (gone, unreachable, refused). */
    public static final class ArchiveReadException extends RuntimeException {
        ArchiveReadException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    @Produces
    @Named("archiveOpened")
    Processor opened() {
        return ArchiveReads::opened;
    }

    private static void opened(Exchange exchange) {
        InputStream stream = exchange.getIn().getBody(InputStream.class);
        if (Boolean.TRUE.equals(exchange.getProperty(CALLER_CLOSES, Boolean.class))) {
            exchange.getIn().setBody(stream);
            return;
        }
        Closeable previous = exchange.getProperty(OPEN, Closeable.class);
        if (previous == null) {
            exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
                @Override
                public void onDone(Exchange done) {
                    close(done.getProperty(OPEN, Closeable.class));
                }
            });
        } else {
            close(previous);
        }
        exchange.setProperty(OPEN, stream);
        exchange.getIn().setBody(stream);
    }

    /** Closes the archived bytes the exchange has open, if any (a failed attempt that will be retried later). */
    public static void close(Exchange exchange) {
        close(exchange.getProperty(OPEN, Closeable.class));
    }

    private static void close(Closeable stream) {
        if (stream != null) {
            try {
                stream.close();
            } catch (IOException ignored) {
                // already closed by the destination, or the connection is discarded
            }
        }
    }
}
