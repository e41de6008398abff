package erphub.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

import erphub.testing.BesideTheApplication;

/** One poll's tenants: handed out while a slot is free, none once the poll stops (what the tenant split relies on). */
@BesideTheApplication
class PollTenantsTest {

    @Test
    void aTenantIsHandedOutOnlyWhileFewerThanTheLimitAreInFlight() throws Exception {
        PollTenants poll = new PollTenants(List.of("a", "b", "c").iterator(), 2, new Semaphore(10), () -> true);
        assertEquals("a", poll.next());
        assertEquals("b", poll.next());
        assertTrue(poll.hasNext());
        CompletableFuture<String> third = CompletableFuture.supplyAsync(poll::next);
        assertThrows(TimeoutException.class, () -> third.get(300, TimeUnit.MILLISECONDS), "both slots are taken");
        poll.release();
        assertEquals("c", third.get(5, TimeUnit.SECONDS));
        assertFalse(poll.hasNext());
    }

    @Test
    void aStopEndsThePollAlsoWhileItWaitsForASlot() throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        PollTenants poll = new PollTenants(List.of("a", "b", "c").iterator(), 1, new Semaphore(10), running::get);
        assertEquals("a", poll.next());
        CompletableFuture<String> waiting = CompletableFuture.supplyAsync(poll::next);
        running.set(false);
        assertNull(waiting.get(5, TimeUnit.SECONDS), "the split skips a null part; the tenant waits for the next poll");
        assertFalse(poll.hasNext(), "no tenant is handed to a stopping route");
        poll.release();
        assertNull(poll.next(), "not even with a free slot");
    }

    @Test
    void pollsShareTheNodesSlotsAndAPollThatEndsReturnsTheSlotsItStillHeld() throws Exception {
        Semaphore node = new Semaphore(3, true);
        PollTenants one = new PollTenants(List.of("a", "b", "c").iterator(), 2, node, () -> true);
        PollTenants two = new PollTenants(List.of("x", "y").iterator(), 2, node, () -> true);
        assertEquals("a", one.next());
        assertEquals("b", one.next());
        assertEquals("x", two.next());
        CompletableFuture<String> y = CompletableFuture.supplyAsync(two::next);
        assertThrows(TimeoutException.class, () -> y.get(300, TimeUnit.MILLISECONDS), "the node's three slots are taken");
        one.release();
        assertEquals("y", y.get(5, TimeUnit.SECONDS), "a slot one poll hands back goes to another");
        // b's end was refused (a forced stop): closing the poll returns its slot, once, however late b's end comes.
        one.close();
        assertEquals(1, node.availablePermits());
        one.release();
        assertEquals(1, node.availablePermits(), "a slot is not returned twice");
        two.release();
        two.release();
        assertEquals(3, node.availablePermits());
    }

    @Test
    void aSettingBelowOneStopsTheStartNamingIt() {
        for (int hostile : new int[] {0, -1, Integer.MIN_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ListingThreads.atLeastOne("erphub.intake.node-listing-concurrency", hostile));
            assertEquals("erphub.intake.node-listing-concurrency must be 1 or more, was " + hostile, e.getMessage());
        }
        assertEquals(Integer.MAX_VALUE, ListingThreads.atLeastOne("erphub.intake.node-listing-concurrency", Integer.MAX_VALUE),
                "a huge value is a large semaphore, not an overflow");
    }

    @Test
    void aLimitBelowOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new PollTenants(List.<String>of().iterator(), 0, new Semaphore(1), () -> true));
    }
}
