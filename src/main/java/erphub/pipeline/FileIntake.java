package erphub.pipeline;

import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.aws2.s3.AWS2S3Constants;
import org.jboss.logging.Logger;

import erphub.config.ErphubConfig;
import erphub.events.FileEvents;
import erphub.pipeline.UpstreamHttp.Body;
import erphub.state.FileState;
import erphub.state.FileStateStore;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * DOWNLOAD and ARCHIVE for the intake route: the upstream's bytes are streamed straight into the
 * archive endpoint (a local folder or S3), counted and checksummed on the way, never held whole in
 * memory. A file is marked ARCHIVED only after the archive write has completed and the bytes verified.
 */
@ApplicationScoped
@Named("fileIntake")
public class FileIntake {

    private static final Logger LOG = Logger.getLogger(FileIntake.class);

    private final UpstreamHttp http;
    private final UpstreamSpecs specs;
    private final UpstreamPoll poll;
    private final FileStateStore store;
    private final ProducerTemplate producer;
    private final Endpoints endpoints;
    private final ErphubConfig config;
    private final MeterRegistry meters;
    private final FileEvents events;

    public FileIntake(UpstreamHttp http, UpstreamSpecs specs, UpstreamPoll poll, FileStateStore store,
            ProducerTemplate producer, ErphubConfig config, MeterRegistry meters, FileEvents events, Endpoints endpoints) {
        this.events = events;
        this.http = http;
        this.specs = specs;
        this.poll = poll;
        this.store = store;
        this.producer = producer;
        this.endpoints = endpoints;
        this.config = config;
        this.meters = meters;
    }

    /** Checks that need no download: a file that fails them is REJECTED before a byte is fetched. */
    public void admit(ClaimedFile file) {
        try (FileLogContext log = FileLogContext.of(file)) {
            admitChecked(file);
        }
    }

    private void admitChecked(ClaimedFile file) {
        FileNames.whyUnsafe(file.name()).ifPresent(reason -> {
            throw new RejectedFileException("unsafe file name '" + FileNames.printable(file.name()) + "': " + reason);
        });
        if (file.size() != null && file.size() > file.maxFileSize()) {
            throw new RejectedFileException("file of " + file.size() + " bytes is over the limit of "
                    + file.maxFileSize() + " bytes");
        }
    }

    /**
     * Renews the claim as work on it starts; false when another worker has taken it over in the meantime
     * (the hand-off waited longer than the lease), and then this copy of the work is dropped.
     */
    public boolean stillClaimed(ClaimedFile file) {
        if (store.renewLease(file.fileId(), file.attempt())) {
            return true;
        }
        LOG.infof("%s/%s file %d (%s): claim attempt %d superseded, dropped", file.tenant(), file.upstream(),
                file.fileId(), file.remoteId(), file.attempt());
        return false;
    }

    /** The bytes of a file, written to the archive and verified: where, how many and their digest. */
    public record Archived(String key, long bytes, String digest) {
    }

    /**
     * Streams the file from the upstream into the archive and records DOWNLOADED. ARCHIVED is recorded with
     * the validation's verdict, in one transaction (see {@code FileDelivery#validateAndFanOut}).
     */
    public Archived downloadAndArchive(ClaimedFile file, Exchange exchange) {
        try (FileLogContext log = FileLogContext.of(file)) {
            return downloadAndArchiveInContext(file, exchange);
        }
    }

    private Archived downloadAndArchiveInContext(ClaimedFile file, Exchange exchange) {
        UpstreamSpec spec = specs.forUpstream(file.upstream())
                .orElseThrow(() -> new PermanentUpstreamException("upstream " + file.upstream() + " has no route", 0));
        try (Body body = download(file, spec, exchange)) {
            return archive(file, body, body.contentLength(), "");
        } catch (java.io.IOException e) {
            throw new TransientUpstreamException("reading " + file.downloadUrl() + ": " + e, null, e);
        }
    }

    /**
     * Bytes pushed to erphub (the management API's push ingestion) instead of downloaded: the same size limit,
     * checksum, archive and DOWNLOADED record as a download, with who sent them in the ledger.
     */
    public Archived receive(ClaimedFile file, java.io.InputStream in, long contentLength, String sentBy)
            throws java.io.IOException {
        try (FileLogContext log = FileLogContext.of(file)) {
            return archive(file, in, contentLength, ", pushed by " + sentBy);
        }
    }

    private Archived archive(ClaimedFile file, java.io.InputStream in, long contentLength, String detail)
            throws java.io.IOException {
        if (contentLength > file.maxFileSize()) {
            throw new RejectedFileException("file of " + contentLength + " bytes is over the limit of "
                    + file.maxFileSize() + " bytes");
        }
        String key = archiveKey(file);
        try {
            CountingDigestStream counted = new CountingDigestStream(in, file.checksumAlgorithm(), file.maxFileSize());
            archive(file, key, counted, contentLength);
            verify(file, counted, contentLength);
            String digest = file.checksumAlgorithm() + " " + counted.hex();
            store.transition(file.fileId(), FileState.DOWNLOADED, counted.count() + " bytes, " + digest + detail, null,
                    file.attempt());
            meters.counter("erphub.archive.bytes", "upstream", file.upstream()).increment(counted.count());
            return new Archived(key, counted.count(), digest);
        } catch (CountingDigestStream.LimitExceeded e) {
            throw new RejectedFileException(e.getMessage());
        }
    }

    /** The meaningful message of a failure: Camel's wrappers say nothing about what went wrong. */
    public static String describe(Throwable cause) {
        Throwable t = cause;
        while (t instanceof org.apache.camel.CamelExecutionException && t.getCause() != null) {
            t = t.getCause();
        }
        if (t == null) {
            return "failed";
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    /** Error handler step: another worker resumed the claim; this one records nothing. */
    public void superseded(ClaimedFile file, Exception cause) {
        LOG.infof("%s/%s file %d (%s): %s", file.tenant(), file.upstream(), file.fileId(), file.remoteId(),
                describe(cause));
    }

    /** Error handler step: a permanent problem with the file itself. */
    public void rejected(ClaimedFile file, Exception cause) {
        try (FileLogContext log = FileLogContext.of(file)) {
            rejectedInContext(file, cause);
        }
    }

    private void rejectedInContext(ClaimedFile file, Exception cause) {
        String reason = cause == null ? "rejected" : describe(cause);
        store.transition(file.fileId(), FileState.REJECTED, reason, null, file.attempt());
        outcome(file, "rejected");
        settled(file.fileId());
        LOG.warnf("%s/%s file %d (%s) REJECTED: %s", file.tenant(), file.upstream(), file.fileId(),
                FileNames.printable(file.name()), reason);
    }

    /** Error handler step: retries exhausted, or a refusal a retry cannot fix. Replayable later. */
    public void deadLettered(ClaimedFile file, Exception cause, Integer redeliveries) {
        try (FileLogContext log = FileLogContext.of(file)) {
            deadLetteredInContext(file, cause, redeliveries);
        }
    }

    private void deadLetteredInContext(ClaimedFile file, Exception cause, Integer redeliveries) {
        String reason = describe(cause)
                + (redeliveries == null || redeliveries == 0 ? "" : " (after " + redeliveries + " redeliveries)");
        store.transition(file.fileId(), FileState.DEAD_LETTERED, reason, null, file.attempt());
        outcome(file, "dead_lettered");
        settled(file.fileId());
        LOG.warnf("%s/%s file %d (%s) DEAD_LETTERED: %s", file.tenant(), file.upstream(), file.fileId(),
                file.remoteId(), reason);
    }

    private Body download(ClaimedFile file, UpstreamSpec spec, Exchange exchange) {
        try {
            return http.get(file.downloadUrl(), poll.auth(spec, file.tenant()));
        } catch (TransientUpstreamException e) {
            // Honour the upstream's Retry-After, but never let one stall the route past the cap.
            e.retryAfter().ifPresent(after -> exchange.getIn().setHeader(Exchange.REDELIVERY_DELAY,
                    Math.min(after.toMillis(), config.intake().retryAfterCap().toMillis())));
            throw e;
        }
    }

    /**
     * Writes the stream to the archive endpoint. S3 needs the length up front to stream a multipart
     * upload (without it Camel's aws2-s3 reads the whole body into memory), so a download of unknown
     * length bound for S3 is first spooled to a temporary file.
     */
    private void archive(ClaimedFile file, String key, CountingDigestStream counted, long contentLength)
            throws java.io.IOException {
        boolean needsLength = config.archive().uri().startsWith("aws2-s3:") && contentLength < 0;
        java.nio.file.Path spool = needsLength ? java.nio.file.Files.createTempFile("erphub-spool-", ".bin") : null;
        try {
            long length = contentLength;
            if (spool != null) {
                try (java.io.OutputStream out = java.nio.file.Files.newOutputStream(spool)) {
                    counted.transferTo(out);
                }
                length = java.nio.file.Files.size(spool);
            }
            Object payload = spool == null ? counted : spool.toFile();
            long announced = length;
            Exchange written = producer.send(endpoints.resolve(config.archive().uri()), e -> {
                e.getIn().setBody(payload);
                e.getIn().setHeader(Exchange.FILE_NAME, key);
                e.getIn().setHeader(AWS2S3Constants.KEY, key);
                if (announced >= 0) {
                    e.getIn().setHeader(AWS2S3Constants.CONTENT_LENGTH, announced);
                }
            });
            if (written.getException() != null) {
                throw archiveFailure(file, written.getException());
            }
        } finally {
            if (spool != null) {
                java.nio.file.Files.deleteIfExists(spool);
            }
        }
    }

    private RuntimeException archiveFailure(ClaimedFile file, Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CountingDigestStream.LimitExceeded) {
                return new RejectedFileException(t.getMessage());
            }
            if (t instanceof TransientUpstreamException || t instanceof java.net.SocketTimeoutException) {
                return new TransientUpstreamException("download of " + file.downloadUrl() + " broke off: " + t.getMessage(), null, e);
            }
        }
        return new TransientUpstreamException("archiving file " + file.fileId() + " failed: " + e, null, e);
    }

    private void verify(ClaimedFile file, CountingDigestStream counted, long contentLength) {
        if (file.size() != null && counted.count() != file.size()) {
            throw new RejectedFileException("size mismatch: the list says " + file.size() + " bytes, the download had "
                    + counted.count());
        }
        if (contentLength >= 0 && counted.count() != contentLength) {
            throw new TransientUpstreamException("download ended after " + counted.count() + " of " + contentLength
                    + " bytes", null, null);
        }
        String actual = counted.hex();
        if (file.checksum() != null && !file.checksum().isBlank() && !matches(file.checksum(), actual)) {
            throw new RejectedFileException("checksum mismatch: the list says " + file.checksumAlgorithm() + " "
                    + file.checksum() + ", the download has " + actual);
        }
    }

    /** Accepts hex or base64, with or without an "algorithm:" prefix. */
    static boolean matches(String declared, String actualHex) {
        String v = declared.trim();
        int colon = v.indexOf(':');
        if (colon > 0) {
            v = v.substring(colon + 1);
        }
        if (v.equalsIgnoreCase(actualHex)) {
            return true;
        }
        try {
            return HexFormat.of().formatHex(Base64.getDecoder().decode(v)).equals(actualHex.toLowerCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** {tenant}/{upstream}/{yyyy}/{mm}/{dd}/{fileId}: built from ids the ledger vouches for, never from a file name. */
    static String archiveKey(ClaimedFile file) {
        String[] date = file.claimedOn().split("-");
        return file.tenant() + "/" + file.upstream() + "/" + date[0] + "/" + date[1] + "/" + date[2] + "/" + file.fileId();
    }

    private void settled(long fileId) {
        store.find(fileId).ifPresent(row -> events.settled(row, java.util.List.of()));
    }

    /** Counts a file's outcome: erphub.files{tenant, upstream, outcome}. */
    public void outcome(ClaimedFile file, String outcome) {
        outcome(file.tenant(), file.upstream(), outcome);
    }

    public void outcome(String tenant, String upstream, String outcome) {
        meters.counter("erphub.files", "tenant", tenant, "upstream", upstream, "outcome", outcome).increment();
    }
}
