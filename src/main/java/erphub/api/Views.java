package erphub.api;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import erphub.state.DeliveryRecord;
import erphub.state.DeliveryTransition;
import erphub.state.FileRecord;
import erphub.state.Transition;
import erphub.tracing.FileTraces;

/** The JSON shapes of the management API (documented in /q/openapi through these records). */
public final class Views {

    private Views() {
    }

    /** A page of results; {@code next} is the cursor of the following page, null on the last one. */
    public record Page<T>(List<T> items, String next) {
        /** A page from {@code size + 1} fetched rows: the extra row only tells that another page follows. */
        static <R, T> Page<T> of(List<R> rows, int size, java.util.function.Function<R, T> view,
                java.util.function.Function<R, String> cursorOf) {
            boolean more = rows.size() > size;
            List<R> page = more ? rows.subList(0, size) : rows;
            return new Page<>(page.stream().map(view).toList(), more ? cursor(cursorOf.apply(page.get(size - 1))) : null);
        }
    }

    public record FileView(long id, String tenant, String upstream, String remoteId, String version, String fileName,
            Long sizeBytes, String checksum, String state, String reason, String archiveKey, Instant createdAt,
            Instant updatedAt, String traceId) {
        static FileView of(FileRecord f) {
            return new FileView(f.id(), f.key().tenant(), f.key().upstream(), f.key().remoteId(), f.key().version(),
                    f.fileName(), f.sizeBytes(), f.checksum(), f.state().name(), f.reason(), f.archiveKey(),
                    f.createdAt(), f.updatedAt(), FileTraces.traceId(f.traceparent()));
        }
    }

    public record TransitionView(Instant at, String node, String from, String to, int attempt, String detail) {
        static TransitionView of(Transition t) {
            return new TransitionView(t.occurredAt(), t.node(), t.from() == null ? null : t.from().name(), t.to().name(),
                    t.attempt(), t.detail());
        }
    }

    public record DeliveryView(String destination, String state, int tries, String lastError, Instant updatedAt) {
        static DeliveryView of(DeliveryRecord d) {
            return new DeliveryView(d.destination(), d.state().name(), d.tries(), d.lastError(), d.updatedAt());
        }
    }

    public record DeliveryTransitionView(Instant at, String destination, String node, String from, String to,
            String detail) {
        static DeliveryTransitionView of(DeliveryTransition t) {
            return new DeliveryTransitionView(t.occurredAt(), t.destination(), t.node(),
                    t.from() == null ? null : t.from().name(), t.to().name(), t.detail());
        }
    }

    /** One file with its whole history and where each destination stands. */
    public record FileDetail(FileView file, List<TransitionView> history, List<DeliveryView> deliveries,
            List<DeliveryTransitionView> deliveryHistory) {
    }

    public record DeadLetterView(long fileId, String tenant, String upstream, String fileName, String destination,
            int tries, String lastError, Instant deadAt, String archiveKey) {
    }

    /** A replay request: one file ({@code fileId}), one destination of it (plus {@code destination}), or a filter. */
    public record ReplayRequest(Long fileId, String destination, ReplayFilter filter, Boolean dryRun, Integer cap,
            String comment) {
    }

    public record ReplayFilter(String tenant, String upstream, String destination, Instant from, Instant to) {
    }

    public record ReplayedDelivery(long fileId, String destination) {
    }

    public record ReplayView(boolean dryRun, int count, boolean capped, List<ReplayedDelivery> deliveries,
            String recordedAs) {
    }

    /** What a push did: the file it created, or the one an earlier push with the same key created. */
    /** One tenant's files from one upstream: how many are in each state (every state, zero included). */
    public record FileSummary(String tenant, String upstream, long total, java.util.Map<String, Long> states) {
    }

    public record PushView(long fileId, String state, boolean duplicate, String idempotencyKey) {
    }

    public record TenantView(String id, String name, boolean enabled, Map<String, String> upstreamCredentials,
            String erpApiBaseUrl, String sftpFolder, String sftpServer, String kafkaTopic, Map<String, Object> limits) {
    }

    public record PollView(String tenant, Instant lastStartedAt, Instant lastSuccessAt, String lastError) {
    }

    public record UpstreamView(String id, String routeId, String routeStatus, String circuit, List<String> destinations,
            int tenants, List<PollView> polls) {
    }

    /** One wellness check as operators see it behind the API: its state and why. */
    public record HealthCheckView(String name, String status, Map<String, Object> data) {
    }

    static String cursor(String value) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(value.getBytes(StandardCharsets.UTF_8));
    }

    static String uncursor(String cursor) {
        try {
            return new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cursor '" + Params.shorten(cursor) + "' is not one this API gave out");
        }
    }
}
