package erphub.api;

import java.time.Instant;
import java.util.List;

import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import erphub.api.Views.DeadLetterView;
import erphub.api.Views.Page;
import erphub.api.Views.ReplayFilter;
import erphub.api.Views.ReplayRequest;
import erphub.api.Views.ReplayView;
import erphub.api.Views.ReplayedDelivery;
import erphub.delivery.DeliveryReplay;
import erphub.delivery.DeliveryReplay.ReplayResult;
import erphub.state.DeliveryRecord;
import erphub.state.LedgerQueries;
import erphub.state.LedgerQueries.DeadCursor;
import erphub.state.LedgerQueries.DeadFilter;
import erphub.state.FileRecord;

/**
 * Dead deliveries and their replay. A replay reads the archived bytes, never the upstream; it needs a comment,
 * which the ledger keeps with the caller's token subject; a dry run says what the replay would take.
 */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed({ Caller.ADMIN, Caller.TENANT_ROLE })
@Tag(name = "dead letters")
public class DeadLettersResource {

    private final LedgerQueries deliveries;
    private final LedgerQueries files;
    private final DeliveryReplay replay;
    private final Caller caller;

    public DeadLettersResource(LedgerQueries ledger, DeliveryReplay replay, Caller caller) {
        this.deliveries = ledger;
        this.files = ledger;
        this.replay = replay;
        this.caller = caller;
    }

    @GET
    @Path("/dead-letters")
    @Operation(summary = "Dead deliveries, oldest first, with their reasons; follow 'next' for the following page")
    public Page<DeadLetterView> list(@QueryParam("tenant") String tenant, @QueryParam("upstream") String upstream,
            @QueryParam("destination") String destination, @QueryParam("from") Instant from, @QueryParam("to") Instant to,
            @QueryParam("limit") Integer limit, @QueryParam("cursor") String cursor) {
        int size = FilesResource.pageSize(limit);
        DeadFilter filter = new DeadFilter(caller.tenantFilter(tenant), upstream, destination, from, to);
        List<DeliveryRecord> rows = deliveries.dead(filter, cursor == null ? null : decode(cursor), size + 1);
        return Page.of(rows, size, this::view, d -> d.updatedAt() + "|" + d.fileId() + "|" + d.destination());
    }

    private DeadLetterView view(DeliveryRecord d) {
        FileRecord f = files.find(d.fileId()).orElseThrow();
        return new DeadLetterView(d.fileId(), f.key().tenant(), f.key().upstream(), f.fileName(), d.destination(),
                d.tries(), d.lastError(), d.updatedAt(), f.archiveKey());
    }

    @POST
    @Path("/replays")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Replay dead deliveries of one file, one destination of a file, or all matching a filter")
    public ReplayView replay(ReplayRequest request) {
        if (request == null) {
            throw new IllegalArgumentException("a replay request body is required");
        }
        boolean dryRun = Boolean.TRUE.equals(request.dryRun());
        ReplayResult result;
        if (request.fileId() != null) {
            FileRecord f = files.find(request.fileId())
                    .orElseThrow(() -> new NotFoundException("file " + request.fileId() + " not found"));
            caller.mustSee(f.key().tenant(), "file " + request.fileId());
            result = request.destination() == null
                    ? replay.replayFile(f.id(), dryRun, caller.subject(), request.comment())
                    : replay.replayDelivery(f.id(), request.destination(), dryRun, caller.subject(), request.comment());
        } else if (request.filter() != null) {
            ReplayFilter f = request.filter();
            int cap = request.cap() == null ? 100 : request.cap();
            if (cap < 1) {
                throw new IllegalArgumentException("cap must be at least 1");
            }
            result = replay.replayMatching(new DeadFilter(caller.tenantFilter(f.tenant()), f.upstream(), f.destination(),
                    f.from(), f.to()), cap, dryRun, caller.subject(), request.comment());
        } else {
            throw new IllegalArgumentException("say what to replay: a fileId (and destination) or a filter");
        }
        return new ReplayView(result.dryRun(), result.count(), result.capped(),
                result.replayed().stream().map(d -> new ReplayedDelivery(d.fileId(), d.destination())).toList(),
                result.dryRun() ? null : DeliveryReplay.auditDetail(caller.subject(), request.comment()));
    }

    private static DeadCursor decode(String cursor) {
        String[] parts = Views.uncursor(cursor).split("\\|", 3);
        try {
            return new DeadCursor(Instant.parse(parts[0]), Long.parseLong(parts[1]), parts[2]);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cursor '" + cursor + "' is not one this API gave out");
        }
    }
}
