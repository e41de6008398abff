package erphub.api;

import java.io.IOException;
import java.io.InputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.Response;

import org.apache.camel.Exchange;
import org.apache.camel.FluentProducerTemplate;
import org.jboss.logging.Logger;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;

import erphub.api.Views.PushView;
import erphub.archive.ArchiveFailedException;
import erphub.pipeline.ArchiveSteps;
import erphub.pipeline.ClaimedFile;
import erphub.pipeline.FileIntake;
import erphub.pipeline.FileNames;
import erphub.pipeline.FileTooLargeException;
import erphub.pipeline.RejectedFileException;
import erphub.routing.Failures;
import erphub.state.Claim;
import erphub.state.ClaimStore;
import erphub.state.FileKey;
import erphub.state.FileLedger;
import erphub.state.FileRecord;
import erphub.state.FileState;
import erphub.state.LedgerQueries;
import erphub.tenant.TenantDirectory;
import erphub.tracing.FileTraces;
import erphub.upstream.UpstreamPolls;
import erphub.upstream.UpstreamRequest;
import erphub.upstream.UpstreamSpec;
import erphub.upstream.UpstreamSpecs;

/**
 * A file pushed by a tenant's system instead of listed by a poll: it enters the pipeline at CLAIM, keyed by the
 * client's {@code Idempotency-Key}, and then takes the same route as a downloaded file ({@code direct:erphub-push}:
 * ARCHIVE, VALIDATE, FAN-OUT). The same key with the same bytes answers with the first push's file; the same key
 * with other bytes is refused (422, the IETF Idempotency-Key draft's rule), and the first file stays.
 */
@ApplicationScoped
public class PushIngestion {

    /** The version of a pushed file: the client's key identifies it, and a push is never revised. */
    static final String PUSHED_VERSION = "pushed";
    private static final Logger LOG = Logger.getLogger(PushIngestion.class);

    private final ClaimStore claims;
    private final FileLedger ledger;
    private final LedgerQueries files;
    private final TenantDirectory tenants;
    private final UpstreamSpecs specs;
    private final FluentProducerTemplate producer;
    private final FileTraces traces;

    public PushIngestion(ClaimStore claims, FileLedger ledger, LedgerQueries files, TenantDirectory tenants,
            UpstreamSpecs specs, FluentProducerTemplate producer, FileTraces traces) {
        this.traces = traces;
        this.claims = claims;
        this.ledger = ledger;
        this.files = files;
        this.tenants = tenants;
        this.specs = specs;
        this.producer = producer;
    }

    Response push(String tenant, String upstream, String key, String fileName, Long contentLength, InputStream body,
            String sentBy) {
        UpstreamSpec spec = specs.forUpstream(upstream)
                .orElseThrow(() -> new NotFoundException("upstream " + upstream + " not found"));
        if (tenants.tenant(tenant).isEmpty()) {
            throw new NotFoundException("tenant " + tenant + " not found");
        }
        if (!tenants.tenant(tenant).get().enabled()) {
            return Problems.problem(409, "Conflict", "tenant " + tenant + " is disabled in the tenant registry", null);
        }
        if (!tenants.subscribes(tenant, upstream)) {
            throw new NotFoundException("tenant " + tenant + " is not subscribed to upstream " + upstream);
        }
        if (key == null || key.isBlank() || key.length() > 200) {
            throw new IllegalArgumentException("an Idempotency-Key header (1 to 200 characters) is required");
        }
        if (fileName == null || fileName.isBlank()) {
            throw new IllegalArgumentException("an X-File-Name header is required");
        }
        Optional<String> unsafe = FileNames.whyUnsafe(fileName);
        if (unsafe.isPresent()) {
            throw new IllegalArgumentException("unsafe file name '" + FileNames.printable(fileName) + "': " + unsafe.get());
        }
        long limit = tenants.maxFileSize(tenant, spec.maxFileSize());
        if (contentLength != null && contentLength > limit) {
            return tooLarge("file of " + contentLength + " bytes is over the limit of " + limit + " bytes");
        }
        FileKey fileKey = new FileKey(tenant, upstream, key, PUSHED_VERSION);
        // The pushed file's trace: a span under the request's own (when tracing is on), like a listed file's LIST.
        Instant claiming = Instant.now();
        Span trace = traces.listed("PUSH", tenant, upstream, key, fileName, claiming, Context.current());
        String traceparent = FileTraces.traceparent(trace);
        Optional<Claim> claim = claims.claim(fileKey, fileName, contentLength, null, traceparent);
        if (claim.isEmpty()) {
            return repeated(fileKey, key, body, limit);
        }
        Claim c = claim.get();
        traces.claimed(trace, claiming, tenant, upstream, c.fileId(), c.attempt());
        ClaimedFile file = new ClaimedFile(c.fileId(), c.attempt(), tenant, upstream, key, PUSHED_VERSION, fileName,
                null, null, "SHA-256", "push", limit, LocalDate.now(ZoneOffset.UTC).toString(), traceparent);
        Exchange done = producer.to("direct:erphub-push").withProcessor(e -> {
            e.setProperty(FileIntake.CLAIMED_FILE, file);
            e.setProperty(FileIntake.FILE_ID, file.fileId());
            e.setProperty(UpstreamPolls.TENANT, tenant);
            e.setProperty(UpstreamPolls.UPSTREAM, upstream);
            e.setProperty(UpstreamRequest.CONTENT_LENGTH, contentLength == null ? -1L : contentLength);
            e.setProperty(ArchiveSteps.PUSHED_BY, sentBy);
            e.getIn().setBody(body);
        }).send();
        Exception failure = done.getException();
        if (failure == null) {
            FileRecord stored = files.find(c.fileId()).orElseThrow();
            return Response.accepted(new PushView(stored.id(), stored.state().name(), false, key)).build();
        }
        Throwable cause = rootOf(failure);
        if (cause instanceof RejectedFileException rejected) {
            ledger.transition(c.fileId(), FileState.REJECTED, rejected.getMessage(), null, c.attempt());
            return rejected instanceof FileTooLargeException
                    ? tooLarge(rejected.getMessage())
                    : Problems.problem(422, "Unprocessable Content", rejected.getMessage(), null);
        }
        // Nothing was archived: let the client's retry with the same key resume this claim.
        claims.release(c.fileId(), c.attempt());
        LOG.warnf("Push %s of %s/%s failed before it was archived: %s", key, tenant, upstream, Failures.describe(failure));
        String detail = cause instanceof ArchiveFailedException ? "the file could not be stored" : "the upload broke off";
        return Problems.problem(503, "Service Unavailable", detail + "; retry with the same Idempotency-Key", null);
    }

    /**
     * The key was used before. The same bytes again is a client's retry: answered with the first push's file. Other
     * bytes under the same key are refused and the first file stays. A first push still being stored is a conflict.
     */
    private Response repeated(FileKey fileKey, String key, InputStream body, long limit) {
        FileRecord earlier = files.find(fileKey).orElseThrow(() -> new IllegalStateException("no row for " + fileKey));
        if (earlier.checksum() == null) {
            return Problems.problem(409, "Conflict", "a push with this Idempotency-Key is still being stored (or ended "
                    + earlier.state() + " before it was): retry later", null);
        }
        String sha256;
        try {
            sha256 = sha256(body, limit);
        } catch (IOException e) {
            return Problems.problem(400, "Bad Request", "the request body could not be read: " + e.getMessage(), null);
        }
        if (sha256 == null) {
            return tooLarge("file is over the limit of " + limit + " bytes");
        }
        if (!sha256.equals(earlier.checksum())) {
            return Problems.problem(422, "Unprocessable Content", "Idempotency-Key " + key + " was used for other content"
                    + " (file " + earlier.id() + ", SHA-256 " + earlier.checksum() + "); a new file needs a new key", null);
        }
        return Response.ok(new PushView(earlier.id(), earlier.state().name(), true, key)).build();
    }

    /** SHA-256 of the body (hex), read to its end but never held; null when it passes the limit. */
    private static String sha256(InputStream body, long limit) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = new DigestInputStream(body == null ? InputStream.nullInputStream() : body, digest)) {
            byte[] buffer = new byte[64 * 1024];
            long total = 0;
            for (int n; (n = in.read(buffer)) > 0;) {
                total += n;
                if (total > limit) {
                    return null;
                }
            }
            return HexFormat.of().formatHex(digest.digest());
        }
    }

    private static Response tooLarge(String detail) {
        return Problems.problem(413, "Content Too Large", detail, null);
    }

    private static Throwable rootOf(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RejectedFileException || t instanceof ArchiveFailedException) {
                return t;
            }
        }
        return failure;
    }
}
