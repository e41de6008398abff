package erphub.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A process's memory as Linux reports it in {@code /proc/<pid>/status}, in KiB. */
public final class ProcessMemory {

    private ProcessMemory() {
    }

    /** Resident memory now ({@code VmRSS}). */
    public static long residentKiB(String pid) {
        return field(pid, "VmRSS:");
    }

    /** The largest resident memory the process has had ({@code VmHWM}). */
    public static long peakResidentKiB(String pid) {
        return field(pid, "VmHWM:");
    }

    private static long field(String pid, String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", pid, "status"))) {
                if (line.startsWith(name)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no " + name + " for process " + pid);
    }
}
