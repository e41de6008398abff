package erphub.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import erphub.testing.BesideTheApplication;

/**
 * The delay before a redelivery is the larger of the backoff (exponential, with jitter) and the server's capped
 * Retry-After: a hint lengthens a wait, never shortens the backoff, and the backoff keeps growing whatever the hints.
 */
@BesideTheApplication
class RetryDelayTest {

    static final class Hinted extends RuntimeException implements RetryAfter {
        private final Duration after;

        Hinted(Duration after) {
            super("503");
            this.after = after;
        }

        @Override
        public Optional<Duration> retryAfter() {
            return Optional.ofNullable(after);
        }
    }

    /** The delays Camel would wait before redeliveries 1..n, each failure carrying the given Retry-After. */
    private static List<Long> delays(RetryDelay delay, int n, Duration retryAfter) throws Exception {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        List<Long> out = new ArrayList<>();
        for (int redelivery = 1; redelivery <= n; redelivery++) {
            exchange.setException(new IllegalStateException("wrapped", new Hinted(retryAfter)));
            exchange.getIn().setHeader(Exchange.REDELIVERY_COUNTER, redelivery);
            delay.process(exchange);
            out.add(exchange.getIn().getHeader(Exchange.REDELIVERY_DELAY, Long.class));
        }
        return out;
    }

    @Test
    void sixTimesRetryAfterOneSecondStillBacksOffExponentially() throws Exception {
        // The defect found: six 503s with "Retry-After: 1" dead-lettered a file after about five seconds.
        List<Long> delays = delays(new RetryDelay(1000, 60_000, Duration.ofSeconds(60)), 6, Duration.ofSeconds(1));
        long total = delays.stream().mapToLong(Long::longValue).sum();
        assertTrue(delays.get(0) >= 1000, "the first wait is the hint or the backoff, the longer: " + delays);
        for (int i = 1; i < delays.size(); i++) {
            // Camel's backoff doubles its previous delay, then adds up to 15 % of jitter either way. The first wait may
            // be the hint (1 s) where the backoff was shorter (850 ms at least): the second grows from the backoff.
            double growth = (double) delays.get(i) / delays.get(i - 1);
            double least = i == 1 ? 0.85 * 1.7 : 1.7;
            assertTrue(growth >= least && growth <= 2.3, "redelivery " + (i + 1) + " grows ×" + growth + ": " + delays);
        }
        assertTrue(total >= 30_000, "six redeliveries wait half a minute and more, not five seconds: " + delays);
    }

    // Dynamic tests, not @ParameterizedTest: Kafka's test kit registers a JUnit extension that claims every test template.
    @TestFactory
    Stream<DynamicTest> aLongerHintLengthensTheWaitUpToTheCap() {
        long[][] cases = {
                { 30, 60, 1000, 30000 }, // a longer hint wins over the first backoff
                { 300, 60, 1000, 60000 }, // a hint is capped
                { 0, 60, 1000, 850 }, // a zero hint never shortens the backoff
        };
        return Stream.of(cases).map(c -> DynamicTest.dynamicTest("Retry-After " + c[0] + " s, cap " + c[1] + " s", () -> {
            long first = delays(new RetryDelay(c[2], 600_000, Duration.ofSeconds(c[1])), 1, Duration.ofSeconds(c[0])).get(0);
            assertTrue(first >= c[3], first + " ms");
            assertTrue(first <= Math.max(c[1] * 1000, c[2] * 115 / 100 + 1), first + " ms");
        }));
    }

    @Test
    void withoutAHintTheBackoffIsTheRoutesPolicyUpToItsLongestDelay() throws Exception {
        List<Long> delays = delays(new RetryDelay(200, 1000, Duration.ofSeconds(60)), 8, null);
        assertTrue(delays.get(0) >= 170 && delays.get(0) <= 230, delays.toString());
        assertEquals(1000L, delays.get(7), "capped at the longest delay: " + delays);
    }
}
