package erphub.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

import io.opentelemetry.api.trace.Span;

import erphub.testing.BesideTheApplication;

/**
 * A traceparent arrives with every hand-off record and every ledger row: only a well-formed W3C one names a trace
 * (and reaches the log's MDC); anything else is no trace at all, and the file goes on without one.
 */
@BesideTheApplication
class FileTracesTest {

    static final String VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    @Test
    void aWellFormedTraceparentNamesItsTraceAndParentSpan() {
        assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", FileTraces.traceId(VALID));
        Span parent = Span.fromContext(FileTraces.context(VALID));
        assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", parent.getSpanContext().getTraceId());
        assertEquals("00f067aa0ba902b7", parent.getSpanContext().getSpanId());
        assertNotNull(FileTraces.traceparent(parent));
    }

    @Test
    void hostileOrBrokenTraceparentsAreNoTrace() {
        for (String hostile : new String[] { null, "", "garbage", VALID + "\nERROR forged log line",
                VALID.toUpperCase(), "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", VALID + "-extra", "x".repeat(100_000) }) {
            assertNull(FileTraces.traceId(hostile), String.valueOf(hostile));
            assertNull(FileTraces.context(hostile), String.valueOf(hostile));
        }
    }

    @Test
    void withTracingOffThereIsNoTraceparent() {
        assertNull(FileTraces.traceparent(Span.getInvalid()));
    }
}
