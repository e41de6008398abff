package erphub.api;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import erphub.config.ErphubConfig;
import erphub.registration.FileTypes;
import erphub.registration.Registration;
import erphub.registration.RegistrationBatches;
import erphub.registration.RegistrationBatches.BatchRecord;
import erphub.registration.RegistrationSpec;
import erphub.registration.RegistrationStore;
import erphub.registration.RegistrationChannels;
import erphub.tenant.TenantRegistry;
import erphub.upstream.UpstreamSpec;
import erphub.upstream.UpstreamSpecs;

/**
 * Registrations: consumers' standing orders for events, scoped like the rest of the API (a tenant's caller makes,
 * sees and changes only its tenant's; another's is not found; admins see all and may register across tenants).
 * The signing secret is shown once, in the answer that made it (create, rotate). Every change is in the
 * registration's audit trail with the caller's subject.
 */
@Path("/api/registrations")
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed({ Caller.ADMIN, Caller.TENANT_ROLE })
@Tag(name = "registrations")
public class RegistrationsResource {

    private static final Set<String> BATCH_STATES = Set.of("PENDING", "DELIVERED", "DEAD", "HELD", "REJECTED");

    private final RegistrationStore store;
    private final RegistrationBatches batches;
    private final RegistrationChannels channels;
    private final TenantRegistry tenants;
    private final UpstreamSpecs upstreams;
    private final ErphubConfig config;
    private final Caller caller;

    public RegistrationsResource(RegistrationStore store, RegistrationBatches batches, RegistrationChannels channels,
            TenantRegistry tenants, UpstreamSpecs upstreams, ErphubConfig config, Caller caller) {
        this.store = store;
        this.batches = batches;
        this.channels = channels;
        this.tenants = tenants;
        this.upstreams = upstreams;
        this.config = config;
        this.caller = caller;
    }

    /** A registration as the API shows it: never its secret. */
    public record RegistrationView(String id, String name, String tenant, RegistrationSpec.Filter filter,
            RegistrationSpec.Channel channel, RegistrationSpec.Batching batching, List<FileTypes.FileType> fileTypes,
            FileTypes.Checks checks, String createdBy, Instant createdAt, Instant updatedAt,
            Instant previousSecretSignsUntil) {
        static RegistrationView of(Registration r) {
            RegistrationSpec s = r.spec();
            return new RegistrationView(r.id(), s.name(), s.tenant(), s.filter(), s.channel(), s.batching(),
                    s.fileTypes(), s.checks(), r.createdBy(), r.createdAt(), r.updatedAt(), r.previousSecretUntil());
        }
    }

    /** The answer that makes a secret: the only time erphub shows it. */
    public record WithSecret(RegistrationView registration, String secret) {
    }

    public record Detail(RegistrationView registration, List<Registration.AuditEntry> audit) {
    }

    public record RotateRequest(Duration overlap) {
    }

    public record BatchReplayRequest(String batchId, String comment, Boolean dryRun) {
    }

    public record BatchReplayView(boolean dryRun, int count, List<String> batches) {
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Register for events: a filter, a channel (webhook) and batching; the answer holds the signing secret, once")
    @APIResponse(responseCode = "201", description = "Registered; 'secret' signs its deliveries and is not shown again")
    @APIResponse(responseCode = "400", description = "Every problem of the registration, or a URL erphub will not call")
    public Response create(RegistrationSpec spec) {
        RegistrationSpec checked = checked(scoped(spec));
        Registration r = store.create(checked, caller.subject());
        return Response.created(URI.create("/api/registrations/" + r.id()))
                .entity(new WithSecret(RegistrationView.of(r), r.secret())).build();
    }

    @GET
    @Operation(summary = "Registrations the caller may see, by id; follow 'next' for the following page")
    public Views.Page<RegistrationView> list(@QueryParam("tenant") String tenant, @QueryParam("limit") String limit,
            @QueryParam("cursor") String cursor) {
        int size = FilesResource.pageSize(Params.integer("limit", limit));
        String after = cursor == null ? null : Views.uncursor(cursor);
        return Views.Page.of(store.list(caller.tenantFilter(tenant), after, size + 1), size, RegistrationView::of,
                Registration::id);
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "One registration and its audit trail")
    public Detail get(@PathParam("id") String id) {
        Registration r = visible(id);
        return new Detail(RegistrationView.of(r), store.audit(r.id()));
    }

    @PUT
    @Path("/{id}")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Replace a registration's filter, channel and batching (its tenant and secret stay)")
    public RegistrationView update(@PathParam("id") String id, RegistrationSpec spec) {
        Registration r = visible(id);
        if (spec != null && spec.tenant() != null && !spec.tenant().equals(r.ownerTenant())) {
            throw new IllegalArgumentException("tenant: a registration keeps its tenant (" + r.ownerTenant() + ")");
        }
        RegistrationSpec checked = checked(spec == null ? null
                : spec.withTenant(r.ownerTenant()));
        return RegistrationView.of(store.update(r.id(), checked, caller.subject())
                .orElseThrow(() -> new NotFoundException("registration " + id + " not found")));
    }

    @DELETE
    @Path("/{id}")
    @Operation(summary = "Delete a registration with its undelivered events and batches (its audit trail stays)")
    @APIResponse(responseCode = "204", description = "Deleted")
    public Response delete(@PathParam("id") String id) {
        store.delete(visible(id), caller.subject());
        return Response.noContent().build();
    }

    @POST
    @Path("/{id}/secret")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "A new signing secret, shown once; the previous one keeps signing for the overlap (default erphub.registrations.secret-overlap)")
    public WithSecret rotate(@PathParam("id") String id, RotateRequest request) {
        Registration r = visible(id);
        Duration overlap = request == null || request.overlap() == null ? config.registrations().secretOverlap()
                : request.overlap();
        if (overlap.isNegative() || overlap.compareTo(Duration.ofDays(7)) > 0) {
            throw new IllegalArgumentException("overlap: between PT0S and P7D");
        }
        Registration rotated = store.rotate(r, overlap, caller.subject());
        return new WithSecret(RegistrationView.of(rotated), rotated.secret());
    }

    @GET
    @Path("/{id}/batches")
    @Operation(summary = "The registration's batches, newest first (state: PENDING, DELIVERED or DEAD)")
    public List<BatchRecord> batches(@PathParam("id") String id, @QueryParam("state") String state,
            @QueryParam("limit") String limit) {
        Registration r = visible(id);
        if (state != null && !BATCH_STATES.contains(state)) {
            throw new IllegalArgumentException("state '" + Params.shorten(state) + "' is not one of "
                    + new java.util.TreeSet<>(BATCH_STATES));
        }
        return batches.batches(r.id(), state, FilesResource.pageSize(Params.integer("limit", limit)));
    }

    @POST
    @Path("/{id}/replays")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Send DEAD batches again (one, or all of the registration), with a comment for the audit trail")
    @APIResponse(responseCode = "200", description = "What was (or, as a dry run, would be) sent again")
    public BatchReplayView replay(@PathParam("id") String id, BatchReplayRequest request) {
        Registration r = visible(id);
        if (request == null || request.comment() == null || request.comment().isBlank()
                || request.comment().length() > 500) {
            throw new IllegalArgumentException("comment: say why (1 to 500 characters); it goes into the audit trail");
        }
        List<String> dead = batches.batches(r.id(), "DEAD", 1000).stream().map(BatchRecord::id)
                .filter(b -> request.batchId() == null || b.equals(request.batchId())).toList();
        if (request.batchId() != null && dead.isEmpty()) {
            throw new NotFoundException("registration " + id + " has no DEAD batch " + Params.shorten(request.batchId()));
        }
        if (Boolean.TRUE.equals(request.dryRun())) {
            return new BatchReplayView(true, dead.size(), dead);
        }
        int n = batches.replayDead(r.id(), request.batchId());
        if (n > 0) {
            store.audited(r, caller.subject(), "REPLAYED", n + " batch(es)"
                    + (request.batchId() == null ? "" : " " + request.batchId()) + ": " + request.comment());
        }
        return new BatchReplayView(false, n, dead);
    }

    /** The registration if the caller may see it; another tenant's (or an admin's, to a tenant) is not found. */
    private Registration visible(String id) {
        Registration r = store.find(id).orElseThrow(() -> new NotFoundException("registration " + Params.shorten(id) + " not found"));
        if (!caller.isAdmin() && !caller.ownTenant().orElseThrow().equals(r.ownerTenant())) {
            throw new NotFoundException("registration " + Params.shorten(id) + " not found");
        }
        return r;
    }

    /** A tenant's caller registers for its own tenant; naming another is answered as that tenant not existing. */
    private RegistrationSpec scoped(RegistrationSpec spec) {
        if (spec == null) {
            throw new IllegalArgumentException("a registration body is required");
        }
        String own = caller.ownTenant().orElse(null);
        if (own == null) {
            return spec;
        }
        if (spec.tenant() != null && !spec.tenant().equals(own)) {
            throw new NotFoundException("tenant " + Params.shorten(spec.tenant()) + " not found");
        }
        return spec.withTenant(own);
    }

    private RegistrationSpec checked(RegistrationSpec spec) {
        if (spec == null) {
            throw new IllegalArgumentException("a registration body is required");
        }
        Set<String> knownTenants = tenants.current().tenants().keySet();
        Set<String> knownUpstreams = upstreams.all().stream().map(UpstreamSpec::upstreamId).collect(Collectors.toSet());
        List<String> problems = new java.util.ArrayList<>(spec.problems(knownTenants, knownUpstreams));
        if (problems.isEmpty()) {
            try {
                channels.check(spec);
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        return spec;
    }
}
