package erphub.api;

import java.io.InputStream;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;

import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import erphub.api.Views.DeliveryTransitionView;
import erphub.archive.ArchiveReads;
import erphub.api.Views.DeliveryView;
import erphub.api.Views.FileDetail;
import erphub.api.Views.FileSummary;
import erphub.api.Views.FileView;
import erphub.api.Views.Page;
import erphub.api.Views.PushView;
import erphub.api.Views.TransitionView;
import erphub.pipeline.FileNames;
import erphub.state.FileKey;
import erphub.state.FileLedger;
import erphub.state.FileRecord;
import erphub.state.FileState;
import erphub.state.LedgerQueries;
import erphub.state.LedgerQueries.FileFilter;

/** The file ledger: files with filters and cursor paging, one file's whole story, and push ingestion. */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed({ Caller.ADMIN, Caller.TENANT_ROLE })
@Tag(name = "files")
public class FilesResource {

    static final int MAX_PAGE = 1000;

    private final LedgerQueries files;
    private final FileLedger ledger;
    private final Caller caller;
    private final PushIngestion push;
    private final ArchiveReads archive;
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(FilesResource.class);

    public FilesResource(LedgerQueries files, FileLedger ledger, Caller caller, PushIngestion push, ArchiveReads archive) {
        this.files = files;
        this.ledger = ledger;
        this.caller = caller;
        this.push = push;
        this.archive = archive;
    }

    @GET
    @Path("/files")
    @Operation(summary = "Files in the ledger, oldest first, filtered; follow 'next' for the following page")
    public Page<FileView> list(@QueryParam("tenant") String tenant, @QueryParam("upstream") String upstream,
            @QueryParam("state") String state,
            @QueryParam("from") @Parameter(schema = @Schema(type = SchemaType.STRING, format = "date-time")) String fromText,
            @QueryParam("to") @Parameter(schema = @Schema(type = SchemaType.STRING, format = "date-time")) String toText,
            @QueryParam("name") String name,
            @QueryParam("limit") @Parameter(schema = @Schema(type = SchemaType.INTEGER, minimum = "1", maximum = "1000"))
            String limitText, @QueryParam("cursor") String cursor) {
        int size = pageSize(Params.integer("limit", limitText));
        Instant from = Params.instant("from", fromText);
        Instant to = Params.instant("to", toText);
        long after = 0;
        if (cursor != null) {
            try {
                after = Long.parseLong(Views.uncursor(cursor));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("cursor '" + Params.shorten(cursor) + "' is not one this API gave out");
            }
        }
        FileState wanted = state == null ? null : parseState(state);
        List<FileRecord> rows = files.page(new FileFilter(caller.tenantFilter(tenant), upstream, wanted, from, to, name),
                after, size + 1);
        return Page.of(rows, size, FileView::of, f -> String.valueOf(f.id()));
    }

    @GET
    @Path("/files/summary")
    @Operation(summary = "How many files each tenant has from each upstream, by state; narrowed by tenant and upstream")
    public List<FileSummary> summary(@QueryParam("tenant") String tenant, @QueryParam("upstream") String upstream) {
        java.util.Map<String, FileSummary> byPair = new java.util.LinkedHashMap<>();
        for (LedgerQueries.StateCount c : files.countByTenantUpstreamAndState(caller.tenantFilter(tenant), upstream)) {
            FileSummary s = byPair.computeIfAbsent(c.tenant() + "\n" + c.upstream(), k -> {
                java.util.Map<String, Long> states = new java.util.LinkedHashMap<>();
                for (FileState state : FileState.values()) {
                    states.put(state.name(), 0L);
                }
                return new FileSummary(c.tenant(), c.upstream(), 0, states);
            });
            s.states().put(c.state().name(), c.count());
            byPair.put(c.tenant() + "\n" + c.upstream(), new FileSummary(s.tenant(), s.upstream(), s.total() + c.count(),
                    s.states()));
        }
        return List.copyOf(byPair.values());
    }

    @GET
    @Path("/files/{id}")
    @Operation(summary = "One file: its ledger row, every transition, and each destination's delivery")
    public FileDetail get(@PathParam("id") long id) {
        FileRecord f = visible(id);
        return new FileDetail(FileView.of(f), files.history(id).stream().map(TransitionView::of).toList(),
                files.deliveries(id).stream().map(DeliveryView::of).toList(),
                files.deliveryHistory(id).stream().map(DeliveryTransitionView::of).toList());
    }

    /**
     * The archived bytes of a file, as erphub delivered them (the record and replay source), streamed: for admins
     * only, like the archive itself. Each download is logged with who asked.
     */
    @GET
    @Path("/files/{id}/content")
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    @RolesAllowed(Caller.ADMIN)
    @Operation(summary = "The file's archived bytes (admins)")
    @APIResponse(responseCode = "200", description = "The bytes, as an attachment named as the file")
    @APIResponse(responseCode = "404", description = "No such file, or none of its bytes were archived (rejected first)")
    public Response content(@PathParam("id") long id) {
        FileRecord f = visible(id);
        if (f.archiveKey() == null) {
            throw new NotFoundException("file " + id + " has no archived bytes (" + f.state() + ")");
        }
        InputStream in = archive.open(f);
        LOG.infof("file %d (%s/%s) downloaded from the archive by %s", id, f.key().tenant(), f.key().upstream(),
                caller.subject());
        jakarta.ws.rs.core.StreamingOutput body = out -> {
            try (InputStream bytes = in) {
                bytes.transferTo(out);
            }
        };
        String name = f.fileName() == null ? "file-" + id : f.fileName();
        return Response.ok(body, MediaType.APPLICATION_OCTET_STREAM_TYPE)
                .header("Content-Disposition", "attachment; filename=\"" + name.replaceAll("[^A-Za-z0-9._-]", "_")
                        + "\"; filename*=UTF-8''" + java.net.URLEncoder.encode(name, java.nio.charset.StandardCharsets.UTF_8)
                                .replace("+", "%20"))
                .header("X-Content-Type-Options", "nosniff")
                .build();
    }

    /** Body of a reprocess request: why, for the ledger. */
    public record ReprocessRequest(String comment) {
    }

    @POST
    @Path("/files/{id}/reprocess")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Process a REJECTED or DEAD_LETTERED file again from its upstream, once the upstream fixed it")
    @APIResponse(responseCode = "202", description = "Back to DISCOVERED: the next poll that lists it downloads it again",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = FileView.class)))
    @APIResponse(responseCode = "409", description = "Not failed, or archived and delivered somewhere (replay it instead)")
    public Response reprocess(@PathParam("id") long id, ReprocessRequest request) {
        visible(id);
        if (request == null || request.comment() == null || request.comment().isBlank()) {
            throw new IllegalArgumentException("reprocessing needs a comment saying why (it is kept in the ledger)");
        }
        FileLedger.Reprocess result = ledger.reprocess(id, "reprocess requested by " + caller.subject() + ": "
                + request.comment());
        return switch (result) {
            case QUEUED -> Response.accepted(FileView.of(files.find(id).orElseThrow())).build();
            case NOT_FAILED -> Problems.problem(409, "Conflict", "file " + id + " is not REJECTED or DEAD_LETTERED", null);
            case HAS_DELIVERIES -> Problems.problem(409, "Conflict", "file " + id + " was archived and has deliveries:"
                    + " replay its dead deliveries (POST /api/replays) instead", null);
        };
    }

    /**
     * A file pushed by a tenant's system instead of listed by a poll: it enters the pipeline at CLAIM, keyed by the
     * client's {@code Idempotency-Key}, so the same push repeated is answered with the first one's file.
     */
    @POST
    @Path("/tenants/{tenant}/upstreams/{upstream}/files")
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Push a file (streamed, size-limited) into the pipeline; idempotent on Idempotency-Key")
    @APIResponse(responseCode = "202", description = "Received and archived; delivery follows",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = PushView.class)))
    @APIResponse(responseCode = "200", description = "An earlier push with this Idempotency-Key: its file, not a new one",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = PushView.class)))
    @APIResponse(responseCode = "413", description = "Over the tenant's or the upstream's size limit")
    @APIResponse(responseCode = "422", description = "Rejected by the upstream's checks")
    public Response push(@PathParam("tenant") String tenant, @PathParam("upstream") String upstream,
            @HeaderParam("Idempotency-Key") String key, @HeaderParam("X-File-Name") @Parameter(description = "The file's name: ASCII as it is, other names as UTF-8,"
                    + " percent-encoded (caf%C3%A9.csv) or RFC 8187 (UTF-8''caf%C3%A9.csv); a literal % is %25") String fileNameHeader,
            @HeaderParam("Content-Length") Long contentLength,
            @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_OCTET_STREAM,
                    schema = @Schema(type = SchemaType.STRING, format = "binary"))) InputStream body) throws Exception {
        caller.mustSee(tenant, "tenant " + tenant);
        // UTF-8 names arrive percent-encoded, RFC 8187-encoded or as raw UTF-8 bytes (see FileNames.fromHeader).
        return push.push(tenant, upstream, key, FileNames.fromHeader(fileNameHeader), contentLength, body, caller.subject());
    }

    private FileRecord visible(long id) {
        FileRecord f = files.find(id).orElseThrow(() -> new NotFoundException("file " + id + " not found"));
        caller.mustSee(f.key().tenant(), "file " + id);
        return f;
    }

    static int pageSize(Integer limit) {
        if (limit == null) {
            return 100;
        }
        if (limit < 1 || limit > MAX_PAGE) {
            throw new IllegalArgumentException("limit must be between 1 and " + MAX_PAGE);
        }
        return limit;
    }

    private static FileState parseState(String state) {
        try {
            return FileState.valueOf(state.toUpperCase());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown state '" + Params.shorten(state) + "' (one of "
                    + List.of(FileState.values()) + ")");
        }
    }
}
