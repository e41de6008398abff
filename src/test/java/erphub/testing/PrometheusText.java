package erphub.testing;

import java.util.Arrays;

/** Reads values out of a Prometheus text exposition ({@code /q/metrics}). */
public final class PrometheusText {

    private PrometheusText() {
    }

    /** The sum of every series of {@code name} whose labels contain all of {@code labels} (e.g. {@code tenant="acme"}). */
    public static double sum(String exposition, String name, String... labels) {
        return exposition.lines().filter(l -> l.startsWith(name + "{") || l.startsWith(name + " "))
                .filter(l -> Arrays.stream(labels).allMatch(l::contains))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }
}
