package erphub.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.component.aws2.s3.AWS2S3Constants;
import org.apache.camel.support.SynchronizationAdapter;

import com.fasterxml.jackson.databind.ObjectMapper;

import erphub.archive.Archive;
import erphub.archive.ArchiveFailedException;
import erphub.archive.ArchiveSpool;
import erphub.config.ErphubConfig;
import erphub.routing.Failures;
import erphub.upstream.TransientUpstreamException;
import erphub.upstream.UpstreamRequest;
import erphub.upstream.UpstreamSpec;
import erphub.upstream.UpstreamSpecs;

/**
 * The processors of the route {@code erphub-archive}: the body streamed into the archive endpoint is counted,
 * hashed and size-limited on the way ({@link ArchiveStream}); a failed write is told apart (the file too large,
 * the source broken off, the archive itself failing); and the result is verified against what the list
 * declared. The checksum is computed once, from the bytes that reached the archive.
 */
@ApplicationScoped
public class ArchiveSteps {

    public static final String ARCHIVED = "erphubArchived";
    /** Who pushed the file (push ingestion), for the ledger's detail. */
    public static final String PUSHED_BY = "erphubPushedBy";
    static final String STREAM = "erphubArchiveStream";

    private final UpstreamSpecs specs;
    private final ObjectMapper json;
    private final Archive archive;
    private final boolean s3;
    private final ArchiveSpool spool;

    public ArchiveSteps(UpstreamSpecs specs, ObjectMapper json, ErphubConfig config, Archive archive, ArchiveSpool spool) {
        this.specs = specs;
        this.spool = spool;
        this.archive = archive;
        this.json = json;
        this.s3 = config.archive().uri().startsWith("aws2-s3:");
    }

    @Produces
    @Named("archiveInput")
    Processor input() {
        return this::input;
    }

    @Produces
    @Named("archiveFailed")
    Processor failed() {
        return exchange -> {
            ClaimedFile file = exchange.getProperty(FileIntake.CLAIMED_FILE, ClaimedFile.class);
            archive.discardPartial(file.archiveKey());
            failed(exchange);
        };
    }

    @Produces
    @Named("archiveVerify")
    Processor verify() {
        return ArchiveSteps::verify;
    }

    private void input(Exchange exchange) throws IOException {
        ClaimedFile file = exchange.getProperty(FileIntake.CLAIMED_FILE, ClaimedFile.class);
        long announced = exchange.getProperty(UpstreamRequest.CONTENT_LENGTH, -1L, Long.class);
        if (announced > file.maxFileSize()) {
            throw new FileTooLargeException("file of " + announced + " bytes is over the limit of " + file.maxFileSize()
                    + " bytes");
        }
        UpstreamSpec.FileChecks checks = specs.get(file.upstream()).checks();
        // A copy for the spool only of a file that may fit: a large one announced as such is not copied at all.
        int copy = spool.largestFile();
        if (announced > copy || (file.size() != null && file.size() > copy)) {
            copy = 0;
        }
        ArchiveStream stream = new ArchiveStream(exchange.getIn().getBody(InputStream.class), file.checksumAlgorithm(),
                file.maxFileSize(), !checks.csvHeader().isEmpty(), checks.json() ? json.getFactory() : null, copy);
        exchange.setProperty(STREAM, stream);
        String key = file.archiveKey();
        exchange.getIn().setHeader(Exchange.FILE_NAME, key);
        exchange.getIn().setHeader(AWS2S3Constants.KEY, key);
        if (s3 && announced < 0) {
            // S3 needs the length up front to stream a multipart upload (without it Camel's aws2-s3 reads the
            // whole body into memory): a download of unknown length is spooled to a temporary file first.
            Path spool = Files.createTempFile("erphub-spool-", ".bin");
            exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
                @Override
                public void onDone(Exchange done) {
                    try {
                        Files.deleteIfExists(spool);
                    } catch (IOException ignored) {
                        // a temporary file; the OS cleans its temp folder
                    }
                }
            });
            try (OutputStream out = Files.newOutputStream(spool)) {
                stream.transferTo(out);
            }
            exchange.getIn().setBody(spool.toFile());
            exchange.getIn().setHeader(AWS2S3Constants.CONTENT_LENGTH, Files.size(spool));
        } else {
            exchange.getIn().setBody(stream);
            if (announced >= 0) {
                exchange.getIn().setHeader(AWS2S3Constants.CONTENT_LENGTH, announced);
            }
        }
    }

    /** In the archive route's doCatch: what the failed write means for the file. */
    private static void failed(Exchange exchange) {
        Throwable caught = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        ClaimedFile file = exchange.getProperty(FileIntake.CLAIMED_FILE, ClaimedFile.class);
        for (Throwable t = caught; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ArchiveStream.LimitExceeded) {
                throw new FileTooLargeException(t.getMessage());
            }
            if (t instanceof ArchiveStream.SourceFailed || t instanceof java.net.SocketTimeoutException) {
                throw new TransientUpstreamException("download of " + file.downloadUrl() + " broke off: "
                        + t.getCause().getMessage(), null, t);
            }
        }
        throw new ArchiveFailedException("archiving file " + file.fileId() + " failed: " + Failures.describe(caught),
                caught);
    }

    private static void verify(Exchange exchange) {
        ClaimedFile file = exchange.getProperty(FileIntake.CLAIMED_FILE, ClaimedFile.class);
        ArchiveStream stream = exchange.getProperty(STREAM, ArchiveStream.class);
        long announced = exchange.getProperty(UpstreamRequest.CONTENT_LENGTH, -1L, Long.class);
        ArchiveStream.Result result = stream.result();
        if (file.size() != null && result.bytes() != file.size()) {
            throw new RejectedFileException("size mismatch: the list says " + file.size() + " bytes, the download had "
                    + result.bytes());
        }
        if (announced >= 0 && result.bytes() != announced) {
            throw new TransientUpstreamException("download ended after " + result.bytes() + " of " + announced
                    + " bytes", null, null);
        }
        String actual = result.declaredAlgorithmHex() != null ? result.declaredAlgorithmHex() : result.sha256();
        if (file.checksum() != null && !file.checksum().isBlank() && !matches(file.checksum(), actual)) {
            throw new RejectedFileException("checksum mismatch: the list says " + file.checksumAlgorithm() + " "
                    + file.checksum() + ", the download has " + actual);
        }
        String pushedBy = exchange.getProperty(PUSHED_BY, String.class);
        exchange.setProperty(ARCHIVED, new Archived(file.archiveKey(), result.bytes(), result.sha256(),
                pushedBy == null ? "" : ", pushed by " + pushedBy, result.head(), result.jsonProblem(), result.whole()));
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
}
