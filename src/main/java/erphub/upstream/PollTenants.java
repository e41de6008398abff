package erphub.upstream;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * One poll's tenants as its tenant split takes them: at most {@code concurrency} of them in flight, and no more on
 * this node than its listing slots allow across all upstreams ({@code node}); none once the poll's route or Camel
 * stops. A tenant holds its slots from {@link #next()} until the split's {@code doFinally} hands them back with
 * {@link #release()}. The split asks for the next tenant as soon as it has handed one to a thread, so {@code next()}
 * waits for slots; a stop while it waits yields {@code null}, which the split skips, and {@code hasNext()} then ends
 * the poll. The tenants not taken wait for the next poll (a stop hands their poll leases back); the stop waits for
 * those in flight (the poll route's {@code shutdownRoute} is {@code Defer}).
 *
 * <p>A node slot a refused {@code doFinally} never hands back (a forced stop, past the shutdown timeout, refuses every
 * step) is returned by {@link #close()}, which the upstream's next poll calls: it starts only once this one is over.
 */
final class PollTenants implements Iterator<String> {

    private static final long WAIT_MILLIS = 100;

    private final Iterator<String> tenants;
    private final Semaphore own;
    private final Semaphore node;
    private final BooleanSupplier running;
    /** Node slots this poll holds: returned one by one by {@link #release()}, the rest by {@link #close()}. */
    private final AtomicInteger held = new AtomicInteger();

    PollTenants(Iterator<String> tenants, int concurrency, Semaphore node, BooleanSupplier running) {
        this.tenants = tenants;
        this.own = new Semaphore(ListingThreads.atLeastOne("erphub.intake.listing-concurrency", concurrency));
        this.node = node;
        this.running = running;
    }

    @Override
    public boolean hasNext() {
        return running.getAsBoolean() && tenants.hasNext();
    }

    /** The next tenant once this poll and the node have a slot free, or {@code null} if the poll stopped meanwhile. */
    @Override
    public String next() {
        if (!tenants.hasNext()) {
            throw new NoSuchElementException();
        }
        if (!acquire(own)) {
            return null;
        }
        if (!acquire(node)) {
            own.release();
            return null;
        }
        held.incrementAndGet();
        if (!running.getAsBoolean()) {
            release();
            return null;
        }
        return tenants.next();
    }

    private boolean acquire(Semaphore slots) {
        try {
            while (!slots.tryAcquire(WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                if (!running.getAsBoolean()) {
                    return false;
                }
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** A tenant's listing ended (however it ended): its slots go to the next tenant. */
    void release() {
        if (held.getAndUpdate(h -> h > 0 ? h - 1 : 0) > 0) {
            node.release();
        }
        own.release();
    }

    /** The poll is over: any node slot still held (a listing whose end was refused) goes back to the node. */
    void close() {
        int left = held.getAndSet(0);
        if (left > 0) {
            node.release(left);
        }
    }
}
