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
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
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
import erphub.upstream.DestinationNames;
import erphub.state.LedgerQueries;
import erphub.state.LedgerQueries.DeadCursor;
import erphub.state.LedgerQueries.DeadFilter;
import erphub.state.DeliveryState;
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

    private final DestinationNames destinations;

    public DeadLettersResource(LedgerQueries ledger, DeliveryReplay replay, Caller caller, DestinationNames destinations) {
        this.destinations = destinations;
        this.deliveries = ledger;
        this.files = ledger;
        this.replay = replay;
        this.caller = caller;
    }

    @GET
    @Path("/dead-letters")
    @Operation(summary = "Dead deliveries, oldest first, with their reasons; follow 'next' for the following page")
    public Page<DeadLetterView> list(@QueryParam("tenant") String tenant, @QueryParam("upstream") String upstream,
            @QueryParam("destination") String destination,
            @QueryParam("from") @Parameter(schema = @Schema(type = SchemaType.STRING, format = "date-time")) String from,
            @QueryParam("to") @Parameter(schema = @Schema(type = SchemaType.STRING, format = "date-time")) String to,
            @QueryParam("limit") @Parameter(schema = @Schema(type = SchemaType.INTEGER, minimum = "1", maximum = "1000"))
            String limit, @QueryParam("cursor") String cursor) {
        int size = FilesResource.pageSize(Params.integer("limit", limit));
        DeadFilter filter = new DeadFilter(caller.tenantFilter(tenant), upstream, knownDestination(destination),
                Params.instant("from", from), Params.instant("to", to));
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
    @APIResponse(responseCode = "200", description = "What was replayed (or, as a dry run, would be); recordedAs is the"
            + " ledger's line, absent when nothing was taken")
    @APIResponse(responseCode = "400", description = "Not a replay request: no fileId or filter, an unknown destination, a bad cap")
    @APIResponse(responseCode = "404", description = "No such file, or the file has no delivery to that destination")
    @APIResponse(responseCode = "409", description = "The file's deliveries are not dead: nothing to replay")
    public ReplayView replay(ReplayRequest request) {
        if (request == null) {
            throw new IllegalArgumentException("a replay request body is required");
        }
        boolean dryRun = Boolean.TRUE.equals(request.dryRun());
        ReplayResult result;
        if (request.fileId() != null && request.filter() != null) {
            throw new IllegalArgumentException("say what to replay: a fileId (and destination) or a filter, not both");
        }
        if (request.fileId() != null) {
            if (request.cap() != null) {
                throw new IllegalArgumentException("cap applies to a filter, not to one file");
            }
            FileRecord f = files.find(request.fileId())
                    .orElseThrow(() -> new NotFoundException("file " + request.fileId() + " not found"));
            caller.mustSee(f.key().tenant(), "file " + request.fileId());
            String destination = knownDestination(request.destination());
            mustHaveDeadDeliveries(f, destination);
            result = destination == null
                    ? replay.replayFile(f.id(), dryRun, caller.subject(), request.comment())
                    : replay.replayDelivery(f.id(), destination, dryRun, caller.subject(), request.comment());
        } else if (request.filter() != null) {
            if (request.destination() != null) {
                throw new IllegalArgumentException("destination goes inside the filter: {\"filter\": {\"destination\": ...}}");
            }
            ReplayFilter f = request.filter();
            int cap = request.cap() == null ? 100 : request.cap();
            if (cap < 1) {
                throw new IllegalArgumentException("cap must be at least 1");
            }
            result = replay.replayMatching(new DeadFilter(caller.tenantFilter(f.tenant()), f.upstream(),
                    knownDestination(f.destination()), f.from(), f.to()), cap, dryRun, caller.subject(), request.comment());
        } else {
            throw new IllegalArgumentException("say what to replay: a fileId (and destination) or a filter");
        }
        // Only a replay that took something left a line in the ledger.
        return new ReplayView(result.dryRun(), result.count(), result.capped(),
                result.replayed().stream().map(d -> new ReplayedDelivery(d.fileId(), d.destination())).toList(),
                result.dryRun() || result.count() == 0 ? null : DeliveryReplay.auditDetail(caller.subject(), request.comment()));
    }

    /** A destination erphub knows, or none; anything else is a client's mistake, not an empty result. */
    private String knownDestination(String destination) {
        if (destination != null && !destinations.names().contains(destination)) {
            throw new IllegalArgumentException("destination '" + Params.shorten(destination) + "' is not one of "
                    + new java.util.TreeSet<>(destinations.names()));
        }
        return destination;
    }

    /**
     * One file's replay that would take nothing is answered as what it is: the file has no delivery to that
     * destination (404), or none of its deliveries is dead (409), with their states.
     */
    private void mustHaveDeadDeliveries(FileRecord f, String destination) {
        List<DeliveryRecord> of = deliveries.deliveries(f.id()).stream()
                .filter(d -> destination == null || d.destination().equals(destination)).toList();
        if (of.isEmpty()) {
            throw new NotFoundException(destination == null ? "file " + f.id() + " has no deliveries (it is " + f.state() + ")"
                    : "file " + f.id() + " has no delivery to " + destination);
        }
        if (of.stream().noneMatch(d -> d.state() == DeliveryState.DEAD)) {
            throw new WebApplicationException("nothing to replay: no delivery of file " + f.id() + " is dead ("
                    + String.join(", ", of.stream().map(d -> d.destination() + " " + d.state()).toList()) + ")",
                    Response.Status.CONFLICT);
        }
    }

    private static DeadCursor decode(String cursor) {
        String[] parts = Views.uncursor(cursor).split("\\|", 3);
        try {
            return new DeadCursor(Instant.parse(parts[0]), Long.parseLong(parts[1]), parts[2]);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cursor '" + Params.shorten(cursor) + "' is not one this API gave out");
        }
    }
}
