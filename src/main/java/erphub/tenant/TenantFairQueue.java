package erphub.tenant;

import java.util.AbstractQueue;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.apache.camel.Exchange;
import org.apache.camel.support.SynchronizationAdapter;

/**
 * The queue behind a SEDA hand-off ({@code seda:...?queue=#...}) that shares its workers fairly between
 * tenants: one sub-queue per tenant, served round-robin, so a tenant with thousands of queued files does
 * not hold up a tenant with thirty. A worker takes a tenant's next file only if the tenant's
 * {@link Admission} allows it (at most so many in flight, at most so many per second); until the exchange
 * is done (completed or failed, through its unit of work) it counts against the tenant. The tenant of an
 * exchange is its {@value #TENANT_HEADER} header.
 */
public final class TenantFairQueue extends AbstractQueue<Exchange> implements BlockingQueue<Exchange> {

    public static final String TENANT_HEADER = "erphubTenant";

    /** Whether a tenant may start one more piece of work now. */
    public interface Admission {
        /** 0 if the tenant may start now; otherwise nanoseconds until it may ({@link Long#MAX_VALUE}: until one finishes). */
        long waitNanos(String tenant);

        void started(String tenant);

        void finished(String tenant);
    }

    private final String name;
    private final int capacity;
    private final Admission admission;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Condition notFull = lock.newCondition();
    private final Map<String, ArrayDeque<Exchange>> byTenant = new HashMap<>();
    /** Tenants with queued work, in serving order: the one served goes to the back. */
    private final ArrayDeque<String> turn = new ArrayDeque<>();
    private int size;

    public TenantFairQueue(String name, int capacity, Admission admission) {
        this.name = name;
        this.capacity = capacity;
        this.admission = admission;
    }

    @Override
    public boolean offer(Exchange exchange) {
        lock.lock();
        try {
            if (size >= capacity) {
                return false;
            }
            enqueue(exchange);
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean offer(Exchange exchange, long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (size >= capacity) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = notFull.awaitNanos(nanos);
            }
            enqueue(exchange);
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void put(Exchange exchange) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            while (size >= capacity) {
                notFull.await();
            }
            enqueue(exchange);
        } finally {
            lock.unlock();
        }
    }

    private void enqueue(Exchange exchange) {
        String tenant = tenantOf(exchange);
        ArrayDeque<Exchange> queue = byTenant.get(tenant);
        if (queue == null) {
            queue = new ArrayDeque<>();
            byTenant.put(tenant, queue);
            turn.addLast(tenant);
        }
        queue.addLast(exchange);
        size++;
        changed.signalAll();
    }

    /** The next exchange of the next tenant in turn that may start, admitted; null if none may yet. */
    private Exchange next() {
        for (int i = turn.size(); i > 0; i--) {
            String tenant = turn.pollFirst();
            if (admission.waitNanos(tenant) > 0) {
                turn.addLast(tenant);
                continue;
            }
            ArrayDeque<Exchange> queue = byTenant.get(tenant);
            Exchange exchange = queue.pollFirst();
            if (queue.isEmpty()) {
                byTenant.remove(tenant);
            } else {
                turn.addLast(tenant);
            }
            size--;
            notFull.signal();
            admission.started(tenant);
            exchange.getExchangeExtension().addOnCompletion(new Finished(tenant));
            return exchange;
        }
        return null;
    }

    /** How long until some queued tenant may start, at most {@code limit}. */
    private long soonest(long limit) {
        long wait = limit;
        for (String tenant : turn) {
            wait = Math.min(wait, admission.waitNanos(tenant));
        }
        return Math.max(wait, 1);
    }

    @Override
    public Exchange poll() {
        lock.lock();
        try {
            return next();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Exchange poll(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (true) {
                Exchange exchange = next();
                if (exchange != null) {
                    return exchange;
                }
                if (nanos <= 0) {
                    return null;
                }
                long wait = soonest(nanos);
                nanos -= wait - changed.awaitNanos(wait);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Exchange take() throws InterruptedException {
        Exchange exchange;
        while ((exchange = poll(1, TimeUnit.DAYS)) == null) {
            // keep waiting
        }
        return exchange;
    }

    @Override
    public Exchange peek() {
        lock.lock();
        try {
            return turn.isEmpty() ? null : byTenant.get(turn.peekFirst()).peekFirst();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int size() {
        lock.lock();
        try {
            return size;
        } finally {
            lock.unlock();
        }
    }

    /** Queued exchanges per tenant, for metrics and health. */
    public Map<String, Integer> sizes() {
        lock.lock();
        try {
            Map<String, Integer> out = new HashMap<>();
            byTenant.forEach((tenant, queue) -> out.put(tenant, queue.size()));
            return out;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int remainingCapacity() {
        lock.lock();
        try {
            return capacity - size;
        } finally {
            lock.unlock();
        }
    }

    /** A snapshot (Camel browses queues this way); removing through it is not supported. */
    @Override
    public Iterator<Exchange> iterator() {
        lock.lock();
        try {
            List<Exchange> all = new ArrayList<>(size);
            turn.forEach(tenant -> all.addAll(byTenant.get(tenant)));
            return List.copyOf(all).iterator();
        } finally {
            lock.unlock();
        }
    }

    /** Drains regardless of admission: used when a consumer shuts down and hands back what is queued. */
    @Override
    public int drainTo(Collection<? super Exchange> target) {
        return drainTo(target, Integer.MAX_VALUE);
    }

    @Override
    public int drainTo(Collection<? super Exchange> target, int max) {
        lock.lock();
        try {
            int n = 0;
            while (n < max && !turn.isEmpty()) {
                String tenant = turn.peekFirst();
                ArrayDeque<Exchange> queue = byTenant.get(tenant);
                target.add(queue.pollFirst());
                n++;
                size--;
                if (queue.isEmpty()) {
                    byTenant.remove(tenant);
                    turn.pollFirst();
                }
            }
            notFull.signalAll();
            return n;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void clear() {
        lock.lock();
        try {
            byTenant.clear();
            turn.clear();
            size = 0;
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "TenantFairQueue[" + name + ", " + size() + " queued]";
    }

    private static String tenantOf(Exchange exchange) {
        String tenant = exchange.getIn().getHeader(TENANT_HEADER, String.class);
        return tenant == null ? "" : tenant;
    }

    /** Gives the tenant's slot back when the exchange is done, whatever its outcome. */
    private final class Finished extends SynchronizationAdapter {
        private final String tenant;

        Finished(String tenant) {
            this.tenant = tenant;
        }

        @Override
        public void onDone(Exchange exchange) {
            admission.finished(tenant);
            lock.lock();
            try {
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }
}
