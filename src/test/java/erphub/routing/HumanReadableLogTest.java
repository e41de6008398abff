package erphub.routing;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.util.Properties;
import java.util.logging.Level;

import org.jboss.logmanager.ExtLogRecord;
import org.jboss.logmanager.formatters.PatternFormatter;
import org.junit.jupiter.api.Test;

import erphub.testing.BesideTheApplication;

/**
 * The human-readable log line, formatted with the shipped {@code quarkus.log.console.format}: a line of a file's
 * processing names its tenant, upstream, file and remote ids as the JSON line does, and a line outside one has no
 * trace of them (no labels, no braces, no "null").
 */
@BesideTheApplication
class HumanReadableLogTest {

    @Test
    void aLineOfAFilesProcessingCarriesItsTenantUpstreamAndIds() throws Exception {
        String line;
        try (FileLogContext context = FileLogContext.of("acme", "payroll-exports", 4711, "exp-0042", "sftp", null)) {
            line = format("delivered");
        }
        assertTrue(line.contains(") acme payroll-exports 4711 exp-0042 sftp  delivered"), line);
    }

    @Test
    void withTracingOnTheLineCarriesTheFilesTraceIdAndNothingForgedFromAHandOff() throws Exception {
        String line;
        try (FileLogContext context = FileLogContext.of("acme", "payroll-exports", 4711, "exp-0042", null,
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")) {
            line = format("archived");
        }
        assertTrue(line.contains(") acme payroll-exports 4711 exp-0042  4bf92f3577b34da6a3ce929d0e0e4736 archived"), line);
        try (FileLogContext context = FileLogContext.of("acme", "payroll-exports", 4711, "exp-0042", null,
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\nERROR forged")) {
            line = format("archived");
        }
        assertTrue(line.contains(") acme payroll-exports 4711 exp-0042   archived"), line);
        assertFalse(line.contains("forged"), line);
    }

    @Test
    void aPollLineCarriesItsTenantAndUpstream() throws Exception {
        String line;
        try (FileLogContext context = FileLogContext.of("globex", "supplier-invoices")) {
            line = format("listed 3 files");
        }
        assertTrue(line.matches(".*\\) globex supplier-invoices +listed 3 files\\R"), line);
    }

    @Test
    void aLineOutsideAFileHasNoTraceOfTheKeys() throws Exception {
        String line = format("Started erphub");
        assertTrue(line.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  \\[[^]]+\\] \\(main\\) +Started erphub\\R"), line);
        for (String clutter : new String[] {"tenant", "=", "{", "null", "acme"}) {
            assertFalse(line.contains(clutter), clutter + " in " + line);
        }
    }

    private static String format(String message) throws Exception {
        Properties shipped = new Properties();
        try (InputStream in = HumanReadableLogTest.class.getClassLoader().getResourceAsStream("application.properties")) {
            shipped.load(in);
        }
        ExtLogRecord record = new ExtLogRecord(Level.INFO, message, HumanReadableLogTest.class.getName());
        record.setLoggerName("erphub.test");
        record.setThreadName("main");
        record.copyMdc();
        return new PatternFormatter(shipped.getProperty("quarkus.log.console.format")).format(record);
    }
}
