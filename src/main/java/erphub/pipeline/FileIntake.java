package erphub.pipeline;

import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.jboss.logging.Logger;

import erphub.config.ErphubConfig;
import erphub.routing.Failures;

import erphub.state.DeliveryLedger;
import erphub.state.DeliveryLedger.DeliveryClaim;
import erphub.state.Fanout;
import erphub.state.FileLedger;
import erphub.state.FileState;
import erphub.state.LedgerQueries;
import erphub.upstream.UpstreamListing;
import erphub.upstream.UpstreamPolls;
import erphub.upstream.UpstreamSpec;
import erphub.upstream.UpstreamSpecs;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The intake route's own steps (routes/erphub-intake.yaml): the claimed file's identity for the steps after it,
 * the checks that need no download, the ledger's record of the archived file, and the ends a file's intake can
 * come to (REJECTED, DEAD_LETTERED, handed back while its upstream's circuit is open, superseded).
 */
// Camel finds the methods the routes call (bean/method steps) reflectively, also in the native executable.
@RegisterForReflection
@ApplicationScoped
@Named("fileIntake")
public class FileIntake {

    private static final Logger LOG = Logger.getLogger(FileIntake.class);
    /** The claimed file the intake route works on. */
    public static final String CLAIMED_FILE = "claimedFile";
    /** The ledger id of the file an exchange is about (events read it). */
    public static final String FILE_ID = "erphubFileId";
    /** Why validation rejected the file (null: it passed). */
    public static final String REJECTION = "erphubRejection";

    private final FileLedger ledger;
    private final DeliveryLedger deliveries;
    private final LedgerQueries queries;
    private final UpstreamSpecs specs;
    private final MeterRegistry meters;
    private final int maxRedeliveries;

    public FileIntake(FileLedger ledger, DeliveryLedger deliveries, LedgerQueries queries,
            UpstreamSpecs specs, MeterRegistry meters, ErphubConfig config) {
        this.maxRedeliveries = config.intake().maxRedeliveries();
        this.ledger = ledger;
        this.deliveries = deliveries;
        this.queries = queries;
        this.specs = specs;
        this.meters = meters;
    }

    /** The claimed file in the body becomes the exchange's subject: its tenant, upstream and ledger id. */
    public void received(Exchange exchange) {
        ClaimedFile file = exchange.getIn().getBody(ClaimedFile.class);
        exchange.setProperty(CLAIMED_FILE, file);
        exchange.setProperty(FILE_ID, file.fileId());
        exchange.setProperty(UpstreamPolls.TENANT, file.tenant());
        exchange.setProperty(UpstreamPolls.UPSTREAM, file.upstream());
        exchange.setProperty(UpstreamListing.URL, file.downloadUrl());
    }

    /** Checks that need no download: a file that fails them is REJECTED before a byte is fetched. */
    public void admit(Exchange exchange) {
        ClaimedFile file = claimed(exchange);
        FileNames.whyUnsafe(file.name()).ifPresent(reason -> {
            throw new RejectedFileException("unsafe file name '" + FileNames.printable(file.name()) + "': " + reason);
        });
        if (file.size() != null && file.size() > file.maxFileSize()) {
            throw new FileTooLargeException("file of " + file.size() + " bytes is over the limit of "
                    + file.maxFileSize() + " bytes");
        }
    }

    /**
     * The ledger's record of the archived file, in one transaction: DOWNLOADED, ARCHIVED, then REJECTED (the
     * validation's reason) or VALIDATED with a delivery per destination. The body becomes the deliveries to fan out.
     */
    public Fanout archived(Exchange exchange) {
        ClaimedFile file = claimed(exchange);
        Archived archived = exchange.getProperty(ArchiveSteps.ARCHIVED, Archived.class);
        Optional<String> rejection = Optional.ofNullable(exchange.getProperty(REJECTION, String.class));
        UpstreamSpec spec = specs.get(file.upstream());
        try (var log = file.log()) {
            String digest = "SHA-256 " + archived.sha256();
            List<DeliveryClaim> opened = deliveries.archived(file.fileId(), file.attempt(), archived.key(),
                    archived.bytes(), archived.sha256(), archived.bytes() + " bytes, " + digest + archived.detail(),
                    "archived as " + archived.key() + ", " + archived.bytes() + " bytes, " + digest, rejection,
                    spec.destinations());
            meters.counter("erphub.archive.bytes", "upstream", file.upstream()).increment(archived.bytes());
            if (rejection.isPresent()) {
                outcome(file.tenant(), file.upstream(), "rejected");
                LOG.warnf("%s/%s file %d (%s) archived as %s and REJECTED: %s", file.tenant(), file.upstream(),
                        file.fileId(), file.remoteId(), archived.key(), rejection.get());
            } else {
                outcome(file.tenant(), file.upstream(), "archived");
                LOG.debugf("%s/%s file %d (%s) archived as %s, %d bytes%s", file.tenant(), file.upstream(),
                        file.fileId(), file.remoteId(), archived.key(), archived.bytes(),
                        opened.isEmpty() ? "" : ", fan-out to " + String.join(", ", spec.destinations()));
            }
            return new Fanout(queries.find(file.fileId()).orElseThrow(), opened);
        }
    }

    /** Error handler step: another worker resumed the claim; this one records nothing. */
    public void superseded(Exchange exchange) {
        ClaimedFile file = claimed(exchange);
        LOG.infof("%s/%s file %d (%s): %s", file.tenant(), file.upstream(), file.fileId(), file.remoteId(),
                Failures.describe(cause(exchange)));
    }

    /** Error handler step: a permanent problem with the file itself (unsafe name, too large, checksum). */
    public void rejected(Exchange exchange) {
        settle(exchange, FileState.REJECTED, "rejected", Failures.describe(cause(exchange)));
    }

    /** Error handler step: the upstream refused the download in a way a retry cannot fix (a 4xx). Reprocessable. */
    public void refused(Exchange exchange) {
        settle(exchange, FileState.DEAD_LETTERED, "dead_lettered", Failures.describe(cause(exchange)));
    }

    /** The dead-letter channel: retries exhausted. Reprocessable by API once the upstream is fixed. */
    public void deadLettered(Exchange exchange) {
        // The dead-letter channel gets the original message, without the error handler's counters: its policy says.
        int redeliveries = maxRedeliveries;
        settle(exchange, FileState.DEAD_LETTERED, "dead_lettered", Failures.describe(cause(exchange))
                + (redeliveries == 0 ? "" : " (after " + redeliveries + " redeliveries)"));
    }

    private void settle(Exchange exchange, FileState state, String outcome, String reason) {
        ClaimedFile file = claimed(exchange);
        try (var log = file.log()) {
            ledger.transition(file.fileId(), state, reason, null, file.attempt());
            outcome(file.tenant(), file.upstream(), outcome);
            LOG.warnf("%s/%s file %d (%s) %s: %s", file.tenant(), file.upstream(), file.fileId(),
                    FileNames.printable(file.name()), state, reason);
        }
    }

    private static ClaimedFile claimed(Exchange exchange) {
        return exchange.getProperty(CLAIMED_FILE, ClaimedFile.class);
    }

    private static Throwable cause(Exchange exchange) {
        Throwable caught = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        return caught != null ? caught : exchange.getException();
    }


    /** Counts a file's outcome: erphub.files{tenant, upstream, outcome}. */
    public void outcome(String tenant, String upstream, String outcome) {
        meters.counter("erphub.files", "tenant", tenant, "upstream", upstream, "outcome", outcome).increment();
    }
}
