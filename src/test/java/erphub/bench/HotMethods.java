package erphub.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a process spent its CPU, from a JDK Flight Recorder file: execution samples counted by the method on top of
 * the stack (self), by every method on the stack (inclusive, once per sample), by the library of the topmost frame
 * that belongs to one (a JDK collection called by the AWS SDK counts as the SDK's), and by thread pool (the thread's
 * name without its numbers), as shares of all samples in a window of time.
 */
final class HotMethods {

    /** Package prefix to library, for {@code byLibrary}; a sample with none of them on its stack is "JDK only". */
    private static final Map<String, String> LIBRARIES = new LinkedHashMap<>();

    static {
        LIBRARIES.put("erphub.", "erphub");
        LIBRARIES.put("org.apache.camel.component.file.", "Camel file/SFTP");
        LIBRARIES.put("org.apache.camel.", "Camel");
        LIBRARIES.put("software.amazon.awssdk.", "AWS SDK");
        LIBRARIES.put("org.apache.kafka.", "Kafka client");
        LIBRARIES.put("org.postgresql.", "PostgreSQL driver");
        LIBRARIES.put("org.h2.", "H2");
        LIBRARIES.put("io.agroal.", "Agroal/Narayana");
        LIBRARIES.put("com.arjuna.", "Agroal/Narayana");
        LIBRARIES.put("com.fasterxml.jackson.", "Jackson");
        LIBRARIES.put("org.apache.hc.", "Apache HttpClient");
        LIBRARIES.put("com.jcraft.jsch.", "JSch");
        LIBRARIES.put("org.bouncycastle.", "BouncyCastle");
        LIBRARIES.put("io.micrometer.", "Micrometer");
        LIBRARIES.put("io.opentelemetry.", "OpenTelemetry");
        LIBRARIES.put("org.jboss.logmanager.", "logging");
        LIBRARIES.put("org.jboss.logging.", "logging");
        LIBRARIES.put("io.vertx.", "Vert.x/Netty");
        LIBRARIES.put("io.netty.", "Vert.x/Netty");
        LIBRARIES.put("io.quarkus.", "Quarkus");
        LIBRARIES.put("io.smallrye.", "Quarkus");
    }

    private HotMethods() {
    }

    /** Samples taken from {@code from} to {@code to} only: the workload's measured window, not start-up. */
    static Map<String, Object> of(Path recording, int top, Instant from, Instant to) throws IOException {
        Map<String, Integer> self = new HashMap<>();
        Map<String, Integer> inclusive = new HashMap<>();
        Map<String, Integer> libraries = new HashMap<>();
        Map<String, Integer> threads = new HashMap<>();
        int samples = 0;
        for (RecordedEvent event : RecordingFile.readAllEvents(recording)) {
            if (!"jdk.ExecutionSample".equals(event.getEventType().getName()) || event.getStackTrace() == null
                    || event.getStartTime().isBefore(from) || event.getStartTime().isAfter(to)) {
                continue;
            }
            samples++;
            List<RecordedFrame> frames = event.getStackTrace().getFrames();
            if (!frames.isEmpty()) {
                self.merge(name(frames.get(0)), 1, Integer::sum);
            }
            Set<String> seen = new HashSet<>();
            String library = null;
            for (RecordedFrame frame : frames) {
                String method = name(frame);
                if (seen.add(method)) {
                    inclusive.merge(method, 1, Integer::sum);
                }
                if (library == null) {
                    library = library(method);
                }
            }
            libraries.merge(library == null ? "JDK only" : library, 1, Integer::sum);
            threads.merge(pool(event.getThread("sampledThread") == null ? null
                    : event.getThread("sampledThread").getJavaName()), 1, Integer::sum);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("samples", samples);
        out.put("byLibrary", shares(libraries, samples, LIBRARIES.size() + 1, l -> true));
        out.put("byThreadPool", shares(threads, samples, top, t -> true));
        out.put("selfTop", shares(self, samples, top, m -> true));
        out.put("inclusiveErphubTop", shares(inclusive, samples, top, m -> m.startsWith("erphub.")));
        out.put("inclusiveTop", shares(inclusive, samples, top, m -> !m.startsWith("java.lang.Thread.")
                && !m.startsWith("java.util.concurrent.ThreadPoolExecutor") && !m.contains("Runnable.run")));
        return out;
    }

    private static Map<String, String> shares(Map<String, Integer> counts, int samples, int top,
            Predicate<String> include) {
        Map<String, String> out = new LinkedHashMap<>();
        counts.entrySet().stream().filter(e -> include.test(e.getKey()))
                .sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(top)
                .forEach(e -> out.put(e.getKey(), String.format("%.1f%%", 100.0 * e.getValue() / Math.max(1, samples))));
        return out;
    }

    private static String library(String method) {
        for (Map.Entry<String, String> prefix : LIBRARIES.entrySet()) {
            if (method.startsWith(prefix.getKey())) {
                return prefix.getValue();
            }
        }
        return null;
    }

    /** "Camel (camel-1) thread #44 - seda://erphub-intake" and its siblings are one pool: numbers go. */
    static String pool(String thread) {
        return thread == null ? "(no thread)" : thread.replaceAll("#\\d+", "#").replaceAll("\\d+", "N");
    }

    private static String name(RecordedFrame frame) {
        return frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
    }
}
