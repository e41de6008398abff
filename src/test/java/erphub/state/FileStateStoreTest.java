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

import erphub.testing.EmbeddedDefault;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/** The ledger on the embedded H2 database; {@link FileStateStoreOnPostgresTest} runs the same on PostgreSQL. */
@QuarkusTest
@TestProfile(EmbeddedDefault.class)
class FileStateStoreTest {

    @Inject
    LedgerQueries store;

    @Inject
    ClaimStore claims;

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

    private static FileKey newKey(String version) {
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
