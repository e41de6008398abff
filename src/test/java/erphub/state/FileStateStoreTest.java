package erphub.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import jakarta.inject.Inject;

import org.apache.camel.ProducerTemplate;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * The ledger on the embedded H2 database, in FileIntakeTest's application (one boot fewer; every case uses keys of its
 * own); {@link FileStateStoreOnPostgresTest} runs the same on PostgreSQL.
 */
@QuarkusTest
@TestProfile(erphub.pipeline.FileIntakeTest.ThreeTenants.class)
class FileStateStoreTest {

    @Inject
    LedgerQueries store;

    @Inject
    ClaimStore claims;

    @Inject
    DeliveryLedger deliveries;

    @Inject
    PollLeases pollLeases;

    @Inject
    LedgerRetention retention;

    @Inject
    erphub.config.ErphubConfig config;

    @Inject
    FileLedger ledger;

    @Inject
    StateDataSource db;

    @Inject
    ProducerTemplate producer;

    @Inject
    PollStateStore polls;

    @Test
    void pollOutcomesAreWrittenBehindInBatchesAndReadBackAtOnce() throws Exception {
        String upstream = "polls-" + UUID.randomUUID();
        Instant started = Instant.now().minusSeconds(5).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        for (int t = 0; t < 50; t++) { // 50 pairs without a row yet: one batch, rows inserted
            polls.succeeded(upstream, "tenant-" + t, started, t);
        }
        // Written behind: the table has every pair within a couple of seconds, without anyone reading.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> count(
                "SELECT COUNT(*) FROM upstream_poll WHERE upstream = '" + upstream + "' AND last_success_at IS NOT NULL") == 50);
        assertEquals(7, polls.find(upstream, "tenant-7").orElseThrow().lastClaimed());

        // A newer success replaces the pending one; a read sees it at once, with its watermark.
        Instant later = started.plusSeconds(3);
        polls.succeeded(upstream, "tenant-1", started.plusSeconds(1), 1);
        polls.succeeded(upstream, "tenant-1", later, 4);
        PollRecord latest = polls.find(upstream, "tenant-1").orElseThrow();
        assertEquals(4, latest.lastClaimed());
        assertEquals(later, latest.watermark());

        // Failures count on top of the latest success, which is written first; a success resets them.
        polls.succeeded(upstream, "tenant-2", later, 2);
        polls.failed(upstream, "tenant-2", later.plusSeconds(1), "boom");
        polls.failed(upstream, "tenant-2", later.plusSeconds(2), "boom again");
        PollRecord failing = polls.find(upstream, "tenant-2").orElseThrow();
        assertEquals(2, failing.consecutiveFailures());
        assertEquals("boom again", failing.lastError());
        assertEquals(later, failing.watermark(), "a failure keeps the last success's watermark");
        polls.succeeded(upstream, "tenant-2", later.plusSeconds(3), 0);
        assertEquals(0, polls.all().stream().filter(p -> p.upstream().equals(upstream) && p.tenant().equals("tenant-2"))
                .findFirst().orElseThrow().consecutiveFailures());
    }

    private long count(String sql) throws SQLException {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(sql);
                java.sql.ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void claimsAFileVersionOnceAndSkipsItAfterwards() {
        FileKey key = newKey("v1");

        Optional<Claim> first = claims.claim(key, "payroll.csv", 1234L, "sha256:ab", null);
        Optional<Claim> second = claims.claim(key, "payroll.csv", 1234L, "sha256:ab", null);

        assertTrue(first.isPresent());
        assertFalse(second.isPresent(), "a version already claimed is skipped");
        FileRecord row = store.find(key).orElseThrow();
        assertEquals(FileState.DISCOVERED, row.state());
        assertEquals("payroll.csv", row.fileName());
        assertEquals(1234L, row.sizeBytes());
        assertTrue(row.claimedBy().startsWith("erphub-test#"), row.claimedBy());
        assertTrue(row.leaseUntil().isAfter(Instant.now()));
    }

    @Test
    void aChangedVersionOfTheSameFileIsClaimedAgain() {
        FileKey v1 = newKey("etag-1");
        FileKey v2 = new FileKey(v1.tenant(), v1.upstream(), v1.remoteId(), "etag-2");

        assertTrue(claims.claim(v1, "a.csv", null, null, null).isPresent());
        assertTrue(claims.claim(v2, "a.csv", null, null, null).isPresent());
        assertFalse(claims.claim(v1, "a.csv", null, null, null).isPresent());
    }

    @Test
    void concurrentClaimsOfOneVersionHaveExactlyOneWinner() throws Exception {
        FileKey key = newKey("v1");
        int contenders = 8;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(contenders);
        try {
            List<Future<Optional<Claim>>> results = new ArrayList<>();
            for (int i = 0; i < contenders; i++) {
                Callable<Optional<Claim>> claim = () -> {
                    start.await();
                    return claims.claim(key, "x.json", null, null, null);
                };
                results.add(pool.submit(claim));
            }
            start.countDown();
            int winners = 0;
            for (Future<Optional<Claim>> f : results) {
                winners += f.get().isPresent() ? 1 : 0;
            }
            assertEquals(1, winners);
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, store.history(store.find(key).orElseThrow().id()).size());
    }

    @Test
    void aClaimWhoseLeaseEndedBeforeArchivingIsResumed() throws SQLException {
        FileKey key = newKey("v1");
        Claim claim = claims.claim(key, "big.bin", null, null, null).orElseThrow();
        ledger.transition(claim.fileId(), FileState.DOWNLOADED, "downloaded 10 bytes");

        assertFalse(claims.claim(key, "big.bin", null, null, null).isPresent(), "a live lease keeps others off");
        expireLease(claim.fileId());

        Claim resumed = claims.claim(key, "big.bin", null, null, null).orElseThrow();
        assertTrue(resumed.resumed());
        assertEquals(claim.fileId(), resumed.fileId());
        assertEquals(2, resumed.attempt());
        assertFalse(claims.claim(key, "big.bin", null, null, null).isPresent(), "the resumed claim has a fresh lease");
    }

    @Test
    void aSupersededClaimCanNeitherRenewItsLeaseNorMoveTheFile() throws SQLException {
        FileKey key = newKey("v1");
        Claim first = claims.claim(key, "a.csv", null, null, null).orElseThrow();
        assertTrue(claims.renewLease(first.fileId(), first.attempt()));
        expireLease(first.fileId());
        Claim second = claims.claim(key, "a.csv", null, null, null).orElseThrow();

        assertFalse(claims.renewLease(first.fileId(), first.attempt()), "the old holder lost the claim");
        assertThrows(StaleClaimException.class,
                () -> ledger.transition(first.fileId(), FileState.DOWNLOADED, null, null, first.attempt()));
        ledger.transition(second.fileId(), FileState.DOWNLOADED, null, null, second.attempt());
        assertEquals(FileState.DOWNLOADED, store.find(key).orElseThrow().state());
    }

    @Test
    void theHeartbeatKeepsALiveNodesClaimsButNotOnesThatAlreadyExpired() throws SQLException {
        Claim live = claims.claim(newKey("v1"), "a.csv", null, null, null).orElseThrow();
        Claim expired = claims.claim(newKey("v1"), "b.csv", null, null, null).orElseThrow();
        expireLease(expired.fileId());
        java.time.Instant before = store.find(live.fileId()).orElseThrow().leaseUntil();

        assertTrue(claims.renewLeasesHeldByThisNode() >= 1);

        assertTrue(!store.find(live.fileId()).orElseThrow().leaseUntil().isBefore(before));
        assertTrue(store.find(expired.fileId()).orElseThrow().leaseUntil().isBefore(java.time.Instant.now()),
                "an expired claim may already belong to another node: it is not revived");
    }

    /**
     * A process killed with its work in memory and restarted under the same node id: the claims and queued
     * deliveries of its earlier run are taken back at once, not after the lease; other nodes' and its own live ones
     * keep theirs.
     */
    @Test
    void anEarlierRunOfThisNodeGivesBackItsClaimsAndDeliveriesButNoOtherNodeDoes() throws SQLException {
        Claim earlier = claims.claim(newKey("v1"), "earlier.csv", null, null, null).orElseThrow();
        Claim otherNode = claims.claim(newKey("v1"), "other.csv", null, null, null).orElseThrow();
        Claim lookalike = claims.claim(newKey("v1"), "lookalike.csv", null, null, null).orElseThrow();
        Claim mine = claims.claim(newKey("v1"), "mine.csv", null, null, null).orElseThrow();
        Instant inTenMinutes = Instant.now().plusSeconds(600);
        holdFor(earlier.fileId(), "erphub-test#earlier-run", inTenMinutes);
        holdFor(otherNode.fileId(), "node-b#1", inTenMinutes);
        // A node id that merely begins like this one's is another node.
        holdFor(lookalike.fileId(), "erphub-test-2#1", inTenMinutes);
        insertDelivery(earlier.fileId(), "erp-api", "erphub-test#earlier-run", inTenMinutes);
        insertDelivery(otherNode.fileId(), "erp-api", "node-b#1", inTenMinutes);
        try {
            assertTrue(claims.releaseEarlierRunsOfThisNode() >= 1);
            assertTrue(deliveries.releaseEarlierRunsOfThisNode() >= 1);

            Instant now = Instant.now();
            assertTrue(store.find(earlier.fileId()).orElseThrow().leaseUntil().isBefore(now));
            assertTrue(store.find(otherNode.fileId()).orElseThrow().leaseUntil().isAfter(now), "another node's claim");
            assertTrue(store.find(lookalike.fileId()).orElseThrow().leaseUntil().isAfter(now), "erphub-test-2's claim");
            assertTrue(store.find(mine.fileId()).orElseThrow().leaseUntil().isAfter(now), "this run's own claim");
            assertTrue(deliveryLease(earlier.fileId()).isBefore(now), "the earlier run's queued delivery");
            assertTrue(deliveryLease(otherNode.fileId()).isAfter(now), "another node's delivery");

            Claim resumed = claims.claim(store.find(earlier.fileId()).orElseThrow().key(), "earlier.csv", null, null, null)
                    .orElseThrow(() -> new AssertionError("the next poll resumes the earlier run's file at once"));
            assertEquals(2, resumed.attempt());
        } finally {
            deleteDeliveries(earlier.fileId(), otherNode.fileId());
        }
    }

    /** Poll coordination: each (upstream, tenant) is listed by one replica, until its lease ends. */
    @Test
    void eachPairIsPolledByTheOneReplicaHoldingItsLeaseUntilTheLeaseEnds() throws Exception {
        String upstream = "coord-" + UUID.randomUUID().toString().substring(0, 8);
        List<String> tenants = List.of("t1", "t2", "t3", "t4");
        PollLeases other = new PollLeases(db, new ClaimStore(db, config), config);
        Instant soon = Instant.now().plusSeconds(60);

        assertEquals(List.of("t1", "t2"), pollLeases.acquire(upstream, List.of("t1", "t2"), soon));
        assertEquals(List.of("t3", "t4"), other.acquire(upstream, tenants, soon), "the other replica gets the free pairs");
        assertEquals(List.of("t1", "t2"), pollLeases.acquire(upstream, tenants, soon), "each keeps its own");
        assertEquals(List.of(), other.acquire(upstream, List.of("t1", "t2"), soon));

        // The holder of t3 and t4 stops (or is found dead at a restart): its pairs pass to the next poll.
        endLeases(upstream, "t3", "t4");
        assertEquals(tenants, pollLeases.acquire(upstream, tenants, soon));
        assertEquals(List.of(), other.acquire(upstream, tenants, soon));
        assertTrue(pollLeases.releaseHeldByThisNode() >= 4);
        assertEquals(tenants, other.acquire(upstream, tenants, soon), "a graceful stop hands the pairs over at once");
    }

    @Test
    void replicasPollingNewPairsAtOnceShareThemWithoutOverlap() throws Exception {
        String upstream = "race-" + UUID.randomUUID().toString().substring(0, 8);
        List<String> tenants = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            tenants.add("tenant-" + i);
        }
        List<PollLeases> replicas = List.of(pollLeases, new PollLeases(db, new ClaimStore(db, config), config),
                new PollLeases(db, new ClaimStore(db, config), config));
        Instant soon = Instant.now().plusSeconds(60);
        ExecutorService pool = Executors.newFixedThreadPool(replicas.size());
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<List<String>>> polled = new ArrayList<>();
            for (PollLeases replica : replicas) {
                polled.add(pool.submit(() -> {
                    start.await();
                    List<String> shuffled = new ArrayList<>(tenants);
                    java.util.Collections.shuffle(shuffled);
                    return replica.acquire(upstream, shuffled, soon);
                }));
            }
            start.countDown();
            List<String> all = new ArrayList<>();
            for (Future<List<String>> f : polled) {
                all.addAll(f.get());
            }
            all.sort(null);
            List<String> expected = new ArrayList<>(tenants);
            expected.sort(null);
            assertEquals(expected, all, "every pair polled by exactly one replica");
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Retention (30 days, dead letters 90): a settled file older than that and not listed for as long goes with all
     * its rows; one its upstream still lists, one in progress, a recent one and a dead letter younger than 90 days
     * stay. A listing marks the settled versions it still sees, so they stay.
     */
    @Test
    void retentionPrunesSettledFilesNoUpstreamListsAnyMoreAndKeepsTheRest() throws Exception {
        Instant fortyDaysAgo = Instant.now().minus(java.time.Duration.ofDays(40));
        long old = settledFile("old.csv", FileState.DELIVERED, fortyDaysAgo, null);
        long rejected = settledFile("rejected.csv", FileState.REJECTED, fortyDaysAgo, null);
        long stillListed = settledFile("listed.csv", FileState.DELIVERED, fortyDaysAgo, Instant.now().minusSeconds(3600));
        long recent = settledFile("recent.csv", FileState.DELIVERED, Instant.now().minusSeconds(60), null);
        long inProgress = settledFile("validated.csv", FileState.VALIDATED, fortyDaysAgo, null);
        long deadYoung = settledFile("dead.csv", FileState.DEAD_LETTERED, fortyDaysAgo, null);
        long deadOld = settledFile("dead-old.csv", FileState.DEAD_LETTERED, Instant.now().minus(java.time.Duration.ofDays(100)), null);
        long listedNow = settledFile("relisted.csv", FileState.DELIVERED, fortyDaysAgo, null);
        FileRecord relisted = store.find(listedNow).orElseThrow();
        List<FileKey> listing = claims.unsettled(relisted.key().tenant(), relisted.key().upstream(),
                List.of(relisted.key()), k -> k);
        assertEquals(List.of(), listing, "a settled version is not claimed again");

        assertTrue(retention.prune() >= 3);

        for (long gone : new long[] {old, rejected, deadOld}) {
            assertTrue(store.find(gone).isEmpty(), "pruned: " + gone);
            assertEquals(0, rows("file_transition", gone), "its transitions too");
            assertEquals(0, rows("file_delivery", gone), "its deliveries too");
            assertEquals(0, rows("delivery_transition", gone), "and theirs");
        }
        for (long kept : new long[] {stillListed, recent, inProgress, deadYoung, listedNow}) {
            assertTrue(store.find(kept).isPresent(), "kept: " + kept);
            assertTrue(rows("file_transition", kept) > 0);
        }
    }

    @Test
    void aNodeIdsOwnWildcardsMatchOnlyThemselves() throws SQLException {
        String pattern = LedgerSql.runsOf("pod_1%!");
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(
                "SELECT CASE WHEN CAST(? AS VARCHAR(64)) LIKE CAST(? AS VARCHAR(64)) ESCAPE '!' THEN 1 ELSE 0 END")) {
            for (String owner : List.of("pod_1%!#run", "podX1%!#run", "pod_1abc!#run", "pod_1%!", "pod_1%!x#run")) {
                ps.setString(1, owner);
                ps.setString(2, pattern);
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    assertEquals(owner.equals("pod_1%!#run"), rs.getInt(1) == 1, owner);
                }
            }
        }
    }

    @Test
    void aHeartbeatThatCannotKeepTheLeaseIsRefusedAtStart() {
        ClaimRelease.checkHeartbeat(java.time.Duration.ofSeconds(60), java.time.Duration.ofSeconds(20));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ClaimRelease.checkHeartbeat(java.time.Duration.ofSeconds(60), java.time.Duration.ofSeconds(30)));
        assertTrue(e.getMessage().contains("erphub.state.claim-heartbeat"), e.getMessage());
        assertThrows(IllegalStateException.class,
                () -> ClaimRelease.checkHeartbeat(java.time.Duration.ofSeconds(60), java.time.Duration.ZERO));
    }

    @Test
    void anArchivedFileIsNeverClaimedAgainEvenAfterItsLease() throws SQLException {
        FileKey key = newKey("v1");
        Claim claim = claims.claim(key, "a.csv", null, null, null).orElseThrow();
        ledger.transition(claim.fileId(), FileState.DOWNLOADED, null);
        ledger.transition(claim.fileId(), FileState.ARCHIVED, "archive key acme/x");
        assertNull(store.find(key).orElseThrow().leaseUntil(), "the lease is released once the bytes are safe");
        expireLease(claim.fileId());

        assertFalse(claims.claim(key, "a.csv", null, null, null).isPresent());
    }

    @Test
    void everyTransitionIsOneRowWithNodeAttemptAndDetail() {
        FileKey key = newKey("v1");
        long id = claims.claim(key, "a.csv", null, null, null).orElseThrow().fileId();
        ledger.transition(id, FileState.DOWNLOADED, "12 bytes");
        ledger.transition(id, FileState.REJECTED, "checksum mismatch: expected sha256:aa, got sha256:bb");

        List<Transition> history = store.history(id);
        assertEquals(List.of(FileState.DISCOVERED, FileState.DOWNLOADED, FileState.REJECTED),
                history.stream().map(Transition::to).toList());
        assertNull(history.get(0).from());
        assertEquals(FileState.DOWNLOADED, history.get(2).from());
        assertEquals("checksum mismatch: expected sha256:aa, got sha256:bb", history.get(2).detail());
        assertTrue(history.stream().allMatch(t -> t.node().equals("erphub-test") && t.attempt() == 1));
        FileRecord row = store.find(id).orElseThrow();
        assertEquals(FileState.REJECTED, row.state());
        assertEquals("checksum mismatch: expected sha256:aa, got sha256:bb", row.reason());
    }

    @Test
    void theLifecycleRefusesAStepItDoesNotHave() {
        long id = claims.claim(newKey("v1"), "a.csv", null, null, null).orElseThrow().fileId();

        StateStoreException e = assertThrows(StateStoreException.class,
                () -> ledger.transition(id, FileState.DELIVERED, null));
        assertTrue(e.getMessage().contains("cannot move from DISCOVERED to DELIVERED"), e.getMessage());
        assertEquals(1, store.history(id).size());
    }

    @Test
    void theSchemaItselfRejectsADuplicateKeyAndAnUnknownState() throws SQLException {
        FileKey key = newKey("v1");
        claims.claim(key, "a.csv", null, null, null).orElseThrow();

        SQLException duplicate = assertThrows(SQLException.class, () -> insertRaw(key, "DISCOVERED"));
        assertEquals("23505", duplicate.getSQLState());
        SQLException badState = assertThrows(SQLException.class, () -> insertRaw(newKey("v1"), "FINISHED"));
        // integrity constraint violation: 23514 on PostgreSQL, 23513 on H2
        assertTrue(badState.getSQLState().startsWith("2351"), badState.getSQLState());
    }

    @Test
    void aRouteClaimsThroughTheStateStoreBean() {
        FileKey key = newKey("v7");

        Object first = producer.requestBodyAndHeader("direct:test-ledger-claim", key, "fileName", "from-route.csv");
        Object second = producer.requestBodyAndHeader("direct:test-ledger-claim", key, "fileName", "from-route.csv");

        assertTrue(((Optional<?>) first).isPresent());
        assertFalse(((Optional<?>) second).isPresent());
        assertEquals("from-route.csv", store.find(key).orElseThrow().fileName());
    }

    static FileKey newKey(String version) {
        return new FileKey("acme", "payroll", "file-" + UUID.randomUUID(), version);
    }

    private void expireLease(long fileId) throws SQLException {
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement("UPDATE file_version SET lease_until = ? WHERE id = ?")) {
            ps.setTimestamp(1, Timestamp.from(Instant.now().minusSeconds(1)));
            ps.setLong(2, fileId);
            assertEquals(1, ps.executeUpdate());
        }
    }

    /** A file claimed now, moved to {@code state} with a delivery, and its clock set back to {@code at}. */
    private long settledFile(String name, FileState state, Instant at, Instant lastListed) throws SQLException {
        Claim claim = claims.claim(newKey("v1"), name, null, null, null).orElseThrow();
        insertDelivery(claim.fileId(), "erp-api", "node-x#1", Instant.now().plusSeconds(600));
        try (Connection c = db.connection()) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE file_delivery SET state = ? WHERE file_id = ?")) {
                ps.setString(1, state == FileState.DEAD_LETTERED ? "DEAD" : "DELIVERED");
                ps.setLong(2, claim.fileId());
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO delivery_transition (file_id, destination, occurred_at, node, from_state, to_state, tries)"
                            + " VALUES (?, 'erp-api', ?, 'node-x', 'PENDING', 'DELIVERED', 1)")) {
                ps.setLong(1, claim.fileId());
                ps.setTimestamp(2, Timestamp.from(at));
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE file_version SET state = ?, created_at = ?,"
                    + " updated_at = ?, last_listed_at = ? WHERE id = ?")) {
                ps.setString(1, state.name());
                ps.setTimestamp(2, Timestamp.from(at));
                ps.setTimestamp(3, Timestamp.from(at));
                ps.setTimestamp(4, lastListed == null ? null : Timestamp.from(lastListed));
                ps.setLong(5, claim.fileId());
                assertEquals(1, ps.executeUpdate());
            }
        }
        return claim.fileId();
    }

    private long rows(String table, long fileId) throws SQLException {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(
                "SELECT COUNT(*) FROM " + table + " WHERE file_id = ?")) {
            ps.setLong(1, fileId);
            try (var rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private void endLeases(String upstream, String... tenants) throws SQLException {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE poll_lease SET lease_until = ? WHERE upstream = ? AND tenant = ?")) {
            for (String tenant : tenants) {
                ps.setTimestamp(1, Timestamp.from(Instant.now().minusSeconds(1)));
                ps.setString(2, upstream);
                ps.setString(3, tenant);
                assertEquals(1, ps.executeUpdate());
            }
        }
    }

    private void holdFor(long fileId, String owner, Instant leaseUntil) throws SQLException {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE file_version SET claimed_by = ?, lease_until = ? WHERE id = ?")) {
            ps.setString(1, owner);
            ps.setTimestamp(2, Timestamp.from(leaseUntil));
            ps.setLong(3, fileId);
            assertEquals(1, ps.executeUpdate());
        }
    }

    private void insertDelivery(long fileId, String destination, String owner, Instant leaseUntil) throws SQLException {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO file_delivery (file_id, destination, state, claimed_by, lease_until, created_at, updated_at)"
                        + " VALUES (?, ?, 'PENDING', ?, ?, ?, ?)")) {
            Timestamp now = Timestamp.from(Instant.now());
            ps.setLong(1, fileId);
            ps.setString(2, destination);
            ps.setString(3, owner);
            ps.setTimestamp(4, Timestamp.from(leaseUntil));
            ps.setTimestamp(5, now);
            ps.setTimestamp(6, now);
            ps.executeUpdate();
        }
    }

    private Instant deliveryLease(long fileId) throws SQLException {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(
                "SELECT lease_until FROM file_delivery WHERE file_id = ?")) {
            ps.setLong(1, fileId);
            try (var rs = ps.executeQuery()) {
                assertTrue(rs.next());
                return rs.getTimestamp(1).toInstant();
            }
        }
    }

    // The application's sweeper would take the released one over and try to deliver a file that was never archived.
    private void deleteDeliveries(long... fileIds) throws SQLException {
        try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(
                "DELETE FROM file_delivery WHERE file_id = ?")) {
            for (long id : fileIds) {
                ps.setLong(1, id);
                ps.executeUpdate();
            }
        }
    }

    private void insertRaw(FileKey key, String state) throws SQLException {
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO file_version (tenant, upstream, remote_id, version, state, created_at, updated_at)"
                                + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, key.tenant());
            ps.setString(2, key.upstream());
            ps.setString(3, key.remoteId());
            ps.setString(4, key.version());
            ps.setString(5, state);
            Timestamp now = Timestamp.from(Instant.now());
            ps.setTimestamp(6, now);
            ps.setTimestamp(7, now);
            ps.executeUpdate();
        }
    }
}
