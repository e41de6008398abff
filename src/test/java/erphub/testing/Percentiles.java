package erphub.testing;

import java.util.Collection;
import java.util.List;

/** Nearest-rank percentiles of measured values, as the benchmark and the chaos suite report them. */
public final class Percentiles {

    private Percentiles() {
    }

    /** The p-th percentile (nearest rank) of the values; NaN when there are none. */
    public static double of(Collection<Double> values, int p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = values.stream().sorted().toList();
        int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }
}
