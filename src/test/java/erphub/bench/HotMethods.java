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
 * the stack (self) and by every method on the stack (inclusive, once per sample), as shares of all samples in a
 * window of time.
 */
final class HotMethods {

    private HotMethods() {
    }

    /** Samples taken from {@code from} to {@code to} only: the workload's measured window, not start-up. */
    static Map<String, Object> of(Path recording, int top, Instant from, Instant to) throws IOException {
        Map<String, Integer> self = new HashMap<>();
        Map<String, Integer> inclusive = new HashMap<>();
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
            for (RecordedFrame frame : frames) {
                String method = name(frame);
                if (seen.add(method)) {
                    inclusive.merge(method, 1, Integer::sum);
                }
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("samples", samples);
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

    private static String name(RecordedFrame frame) {
        return frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
    }
}
