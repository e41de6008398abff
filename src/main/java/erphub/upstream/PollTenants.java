package erphub.upstream;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One poll's tenants as its tenant split takes them: at most {@code concurrency} in flight (each holds a slot from
 * {@link #next()} until the split's {@code doFinally} hands it back with {@link #release()}), and none once the poll's
 * route or Camel stops. The split asks for the next tenant as soon as it has handed one to a thread, so
 * {@code next()} waits for a slot; a stop while it waits yields {@code null}, which the split skips, and
 * {@code hasNext()} then ends the poll. The tenants not taken wait for the next poll (a stop hands their poll leases
 * back); the stop waits for those in flight (the poll route's {@code shutdownRoute} is {@code Defer}).
 *
 * <p>The slots are the poll's own: a slot a refused {@code doFinally} never hands back (a forced stop, past the
 * shutdown timeout, refuses every step) is gone with the poll, not lost to the next one.
 */
final class PollTenants implements Iterator<String> {

    private static final long WAIT_MILLIS = 100;

    private final Iterator<String> tenants;
    private final Semaphore slots;
    private final BooleanSupplier running;

    PollTenants(Iterator<String> tenants, int concurrency, BooleanSupplier running) {
        if (concurrency < 1) {
            throw new IllegalArgumentException("erphub.intake.listing-concurrency must be 1 or more, was " + concurrency);
        }
        this.tenants = tenants;
        this.slots = new Semaphore(concurrency);
        this.running = running;
    }

    @Override
    public boolean hasNext() {
        return running.getAsBoolean() && tenants.hasNext();
    }

    /** The next tenant once a slot is free, or {@code null} if the poll stopped meanwhile. */
    @Override
    public String next() {
        if (!tenants.hasNext()) {
            throw new NoSuchElementException();
        }
        try {
            while (!slots.tryAcquire(WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                if (!running.getAsBoolean()) {
                    return null;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        if (!running.getAsBoolean()) {
            slots.release();
            return null;
        }
        return tenants.next();
    }

    /** A tenant's listing ended (however it ended): its slot goes to the next tenant. */
    void release() {
        slots.release();
    }

}
