package erphub.console;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import erphub.api.Caller;
import erphub.api.DeadLettersResource;
import erphub.api.EventStreamResource;
import erphub.api.FilesResource;
import erphub.api.RegistryResource;
import erphub.api.Views.DeadLetterView;
import erphub.api.Views.FileDetail;
import erphub.api.Views.FileSummary;
import erphub.api.Views.FileView;
import erphub.api.Views.Page;
import erphub.api.Views.ReplayFilter;
import erphub.api.Views.ReplayRequest;
import erphub.api.Views.ReplayView;
import erphub.api.Views.TenantView;
import erphub.api.Views.UpstreamView;
import erphub.state.FileState;
import erphub.tenant.TenantRegistry;
import erphub.upstream.DestinationNames;
import io.quarkus.oidc.OidcSession;
import io.quarkus.qute.CheckedTemplate;
import io.quarkus.qute.TemplateData;
import io.quarkus.qute.TemplateInstance;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

/**
 * The operator console: server-side pages over the management API's own resources (so every action here is one of
 * the API's, with its checks: roles, tenant scoping, the comment a replay needs). Operators sign in with the OIDC
 * authorization-code flow (application.properties, "Operator console"); an admin sees every tenant, a tenant's
 * operator only that tenant, and another tenant's file is "not found". Every form carries a CSRF token
 * ({@link ConsoleCsrf}). htmx boosts links and forms, so a page changes without a full reload.
 */
@Path("/console")
@Produces(MediaType.TEXT_HTML)
@RolesAllowed({ Caller.ADMIN, Caller.TENANT_ROLE })
public class OperatorConsole {

    private static final Logger LOG = Logger.getLogger(OperatorConsole.class);
    private static final int PAGE = 50;

    /** Who is signed in, as every page shows it, and the token its forms carry. */
    @TemplateData
    public record ConsoleUser(String name, boolean admin, String tenant, String csrf) {
    }

    /** The files page's filter, as the form shows it again. */
    @TemplateData
    public record FileSearch(String tenant, String upstream, String state, String name, String from, String to) {
        String query() {
            StringBuilder q = new StringBuilder();
            Map<String, String> values = new LinkedHashMap<>();
            values.put("tenant", tenant);
            values.put("upstream", upstream);
            values.put("state", state);
            values.put("name", name);
            values.put("from", from);
            values.put("to", to);
            values.forEach((k, v) -> {
                if (v != null && !v.isBlank()) {
                    q.append(q.isEmpty() ? "" : "&").append(k).append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8));
                }
            });
            return q.toString();
        }
    }

    /** Counts by state over what the filter covers (the summary API's numbers), per tenant and upstream below. */
    @TemplateData
    public record Counts(long total, Map<String, Long> byState, List<FileSummary> rows) {
    }

    /** The dead letters page's filter. */
    @TemplateData
    public record DeadSearch(String tenant, String upstream, String destination) {
    }

    /** What a replay form asked for, for the result page: one file (and destination) or a filter. */
    @TemplateData
    public record ReplayAsked(Long fileId, String destination, String tenant, String upstream, String comment) {
    }

    @CheckedTemplate
    static class Templates {
        static native TemplateInstance files(ConsoleUser user, FileSearch search, Counts counts, Page<FileView> page,
                String next, List<String> states, List<String> upstreams, String error);

        static native TemplateInstance file(ConsoleUser user, FileDetail detail, List<String> deadDestinations);

        static native TemplateInstance deadLetters(ConsoleUser user, DeadSearch search, Page<DeadLetterView> page,
                String next, List<String> destinations, List<String> upstreams, String error);

        static native TemplateInstance replayed(ConsoleUser user, ReplayAsked asked, ReplayView result);

        static native TemplateInstance upstreams(ConsoleUser user, List<UpstreamView> upstreams, List<TenantView> tenants,
                TenantRegistry.Rejection rejection);

        static native TemplateInstance live(ConsoleUser user);

        static native TemplateInstance problem(ConsoleUser user, int status, String title, String detail);

        static native TemplateInstance signedOut();
    }

    private final FilesResource files;
    private final DeadLettersResource deadLetters;
    private final RegistryResource registry;
    private final EventStreamResource events;
    private final TenantRegistry tenants;
    private final DestinationNames destinations;
    private final Caller caller;
    private final SecurityIdentity identity;
    private final ConsoleCsrf csrf;
    private final OidcSession session;

    public OperatorConsole(FilesResource files, DeadLettersResource deadLetters, RegistryResource registry,
            EventStreamResource events, TenantRegistry tenants, DestinationNames destinations, Caller caller,
            SecurityIdentity identity, ConsoleCsrf csrf, OidcSession session) {
        this.files = files;
        this.deadLetters = deadLetters;
        this.registry = registry;
        this.events = events;
        this.tenants = tenants;
        this.destinations = destinations;
        this.caller = caller;
        this.identity = identity;
        this.csrf = csrf;
        this.session = session;
    }

    @GET
    public Response home() {
        return Response.seeOther(URI.create("/console/files")).build();
    }

    @GET
    @Path("/files")
    @Operation(hidden = true)
    public TemplateInstance files(@QueryParam("tenant") String tenant, @QueryParam("upstream") String upstream,
            @QueryParam("state") String state, @QueryParam("name") String name, @QueryParam("from") String from,
            @QueryParam("to") String to, @QueryParam("cursor") String cursor) {
        FileSearch search = new FileSearch(blankToNull(tenant), blankToNull(upstream), blankToNull(state),
                blankToNull(name), blankToNull(from), blankToNull(to));
        Counts counts = counts(files.summary(search.tenant(), search.upstream()));
        Page<FileView> page;
        String error = null;
        try {
            page = files.list(search.tenant(), search.upstream(), search.state(), instant(search.from()),
                    instant(search.to()), search.name(), String.valueOf(PAGE), blankToNull(cursor));
        } catch (IllegalArgumentException e) {
            page = new Page<>(List.of(), null);
            error = e.getMessage();
        }
        String next = page.next() == null ? null : "/console/files?" + search.query()
                + (search.query().isEmpty() ? "" : "&") + "cursor=" + page.next();
        return Templates.files(user(), search, counts, page, next, states(), upstreamIds(), error);
    }

    @GET
    @Path("/files/{id}")
    @Operation(hidden = true)
    public TemplateInstance file(@PathParam("id") long id) {
        FileDetail detail = files.get(id);
        List<String> dead = detail.deliveries().stream().filter(d -> "DEAD".equals(d.state())).map(d -> d.destination())
                .toList();
        return Templates.file(user(), detail, dead);
    }

    /** The archived bytes, as the API's download (admins only, logged with who asked). */
    @GET
    @Path("/files/{id}/content")
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    @RolesAllowed(Caller.ADMIN)
    @Operation(hidden = true)
    public Response content(@PathParam("id") long id) {
        return files.content(id);
    }

    @GET
    @Path("/dead-letters")
    @Operation(hidden = true)
    public TemplateInstance deadLetters(@QueryParam("tenant") String tenant, @QueryParam("upstream") String upstream,
            @QueryParam("destination") String destination, @QueryParam("cursor") String cursor) {
        DeadSearch search = new DeadSearch(blankToNull(tenant), blankToNull(upstream), blankToNull(destination));
        Page<DeadLetterView> page;
        String error = null;
        try {
            page = deadLetters.list(search.tenant(), search.upstream(), search.destination(), null, null,
                    String.valueOf(PAGE), blankToNull(cursor));
        } catch (IllegalArgumentException e) {
            page = new Page<>(List.of(), null);
            error = e.getMessage();
        }
        String next = page.next() == null ? null : "/console/dead-letters?tenant=" + enc(search.tenant())
                + "&upstream=" + enc(search.upstream()) + "&destination=" + enc(search.destination())
                + "&cursor=" + page.next();
        return Templates.deadLetters(user(), search, page, next, new ArrayList<>(new TreeSet<>(destinations.names())),
                upstreamIds(), error);
    }

    /**
     * A replay or its dry run ({@code mode=dry-run}), of one file's dead deliveries (fileId, optionally a destination)
     * or of every dead delivery a filter matches: the API's replay, with the comment it requires and the caller as the
     * actor in the ledger.
     */
    @POST
    @Path("/replays")
    @Operation(hidden = true)
    public TemplateInstance replay(@FormParam(ConsoleCsrf.FIELD) String token, @FormParam("mode") String mode,
            @FormParam("fileId") Long fileId, @FormParam("destination") String destination,
            @FormParam("tenant") String tenant, @FormParam("upstream") String upstream,
            @FormParam("comment") String comment) {
        csrf.check(identity, token);
        boolean dryRun = !"replay".equals(mode);
        ReplayAsked asked = new ReplayAsked(fileId, blankToNull(destination), blankToNull(tenant), blankToNull(upstream),
                comment);
        ReplayRequest request = fileId != null
                ? new ReplayRequest(fileId, asked.destination(), null, dryRun, null, comment)
                : new ReplayRequest(null, null, new ReplayFilter(asked.tenant(), asked.upstream(), asked.destination(),
                        null, null), dryRun, null, comment);
        ReplayView result = deadLetters.replay(request);
        if (!dryRun) {
            LOG.infof("console: %s replayed %d dead deliveries", caller.subject(), result.count());
        }
        return Templates.replayed(user(), asked, result);
    }

    @GET
    @Path("/upstreams")
    @Operation(hidden = true)
    public TemplateInstance upstreams() {
        // A rejected registry file's problems may name any tenant: admins only.
        return Templates.upstreams(user(), registry.upstreams(), registry.tenants(),
                caller.isAdmin() ? tenants.rejection().orElse(null) : null);
    }

    @GET
    @Path("/live")
    @Operation(hidden = true)
    public TemplateInstance live() {
        return Templates.live(user());
    }

    /** The event stream for the live page: the API's, with the console's session instead of a bearer token. */
    @GET
    @Path("/live/stream")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @Operation(hidden = true)
    public Multi<OutboundSseEvent> liveStream(@HeaderParam("Last-Event-ID") String lastEventId, @Context Sse sse) {
        return events.stream(null, lastEventId, sse);
    }

    /** Signs out of the console (this application's session; the identity provider's own session stays). */
    @POST
    @Path("/sign-out")
    @Operation(hidden = true)
    public Uni<TemplateInstance> signOut(@FormParam(ConsoleCsrf.FIELD) String token) {
        csrf.check(identity, token);
        return session.logout().map(done -> Templates.signedOut());
    }

    @ServerExceptionMapper
    public Response notFound(NotFoundException e) {
        return page(404, "Not found", e.getMessage());
    }

    @ServerExceptionMapper
    public Response refused(ForbiddenException e) {
        return page(403, "Not allowed", e.getMessage());
    }

    @ServerExceptionMapper
    public Response badRequest(IllegalArgumentException e) {
        return page(400, "Cannot do that", e.getMessage());
    }

    @ServerExceptionMapper
    public Response conflict(WebApplicationException e) {
        int status = e.getResponse().getStatus();
        return page(status, status == 409 ? "Nothing to do" : "Cannot do that", e.getMessage());
    }

    private Response page(int status, String title, String detail) {
        return Response.status(status).type(MediaType.TEXT_HTML_TYPE)
                .entity(Templates.problem(user(), status, title, detail).render()).build();
    }

    private ConsoleUser user() {
        boolean admin = caller.isAdmin();
        String tenant = null;
        if (!admin) {
            try {
                tenant = caller.ownTenant().orElse(null);
            } catch (ForbiddenException e) {
                // A tenant role without a tenant claim: every page says so (403), including this header.
                tenant = "(none: the ID token has no '" + Caller.TENANT_CLAIM + "' claim)";
            }
        }
        return new ConsoleUser(caller.displayName(), admin, tenant, csrf.token(identity));
    }

    private static Counts counts(List<FileSummary> rows) {
        Map<String, Long> byState = new LinkedHashMap<>();
        for (FileState s : FileState.values()) {
            byState.put(s.name(), 0L);
        }
        long total = 0;
        for (FileSummary row : rows) {
            total += row.total();
            row.states().forEach((state, n) -> byState.merge(state, n, Long::sum));
        }
        return new Counts(total, byState, rows);
    }

    private List<String> upstreamIds() {
        return registry.upstreams().stream().map(UpstreamView::id).toList();
    }

    private static List<String> states() {
        return java.util.Arrays.stream(FileState.values()).map(Enum::name).toList();
    }

    /** A time from the form: an ISO instant, or the browser's date-time field (no zone: taken as UTC). */
    private static String instant(String text) {
        if (text == null) {
            return null;
        }
        try {
            return LocalDateTime.parse(text).toInstant(ZoneOffset.UTC).toString();
        } catch (DateTimeParseException e) {
            return text; // an ISO instant, or the API's clear error
        }
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }

    private static String enc(String value) {
        return value == null ? "" : URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
