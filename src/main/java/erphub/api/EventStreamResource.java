package erphub.api;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import erphub.config.ErphubConfig;
import erphub.events.EventLog;
import io.smallrye.mutiny.Multi;

/**
 * The live event stream: Server-Sent Events of the event log, tenant-scoped like the rest of the API, each with its
 * log position as id, so a client that reconnects with {@code Last-Event-ID} (browsers' EventSource does by itself)
 * resumes after the last event it saw, on any replica, within erphub.events.stream-retention.
 */
@Path("/api/events")
@RolesAllowed({ Caller.ADMIN, Caller.TENANT_ROLE })
@Tag(name = "events")
public class EventStreamResource {

    private static final int PER_LOOK = 500;
    private static final Duration KEEP_ALIVE = Duration.ofSeconds(15);

    private final EventLog log;
    private final ErphubConfig config;
    private final Caller caller;

    public EventStreamResource(EventLog log, ErphubConfig config, Caller caller) {
        this.log = log;
        this.config = config;
        this.caller = caller;
    }

    @GET
    @Path("/stream")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @Operation(summary = "Lifecycle events as they happen (Server-Sent Events, schema erphub.file-event/1); send"
            + " Last-Event-ID to resume after an event, otherwise the stream starts now")
    public Multi<OutboundSseEvent> stream(@QueryParam("tenant") String tenant,
            @HeaderParam("Last-Event-ID") String lastEventId, @Context Sse sse) {
        String scope = caller.tenantFilter(tenant);
        AtomicLong cursor = new AtomicLong(lastEventId == null ? log.newest() : position(lastEventId));
        Multi<OutboundSseEvent> events = Multi.createFrom().ticks().every(config.events().streamPoll())
                .onOverflow().drop()
                .onItem().transformToIterable(tick -> log.after(scope, cursor.get(), PER_LOOK))
                .map(e -> {
                    cursor.set(e.id());
                    return sse.newEventBuilder().id(Long.toString(e.id())).name(e.type())
                            .mediaType(MediaType.APPLICATION_JSON_TYPE).data(e.payload()).build();
                });
        // A comment line now and then keeps proxies and load balancers from closing a quiet stream.
        Multi<OutboundSseEvent> keepAlive = Multi.createFrom().ticks().every(KEEP_ALIVE).onOverflow().drop()
                .map(tick -> sse.newEventBuilder().comment("keep-alive").build());
        return Multi.createBy().merging().streams(events, keepAlive);
    }

    private static long position(String lastEventId) {
        try {
            long id = Long.parseLong(lastEventId.trim());
            if (id < 0) {
                throw new NumberFormatException();
            }
            return id;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Last-Event-ID '" + Params.shorten(lastEventId)
                    + "' is not an event id this stream gave out");
        }
    }
}
