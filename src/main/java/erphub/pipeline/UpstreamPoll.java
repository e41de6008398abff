package erphub.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.jboss.logging.Logger;

import com.jayway.jsonpath.Configuration;
import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import com.jayway.jsonpath.Option;
import com.jayway.jsonpath.spi.json.JacksonJsonProvider;
import com.jayway.jsonpath.spi.mapper.JacksonMappingProvider;

import erphub.config.ErphubConfig;
import erphub.tenant.CredentialStore.Credential;
import erphub.pipeline.UpstreamHttp.Auth;
import erphub.pipeline.UpstreamHttp.Body;
import erphub.state.Claim;
import erphub.state.FileKey;
import erphub.state.FileStateStore;
import erphub.state.PollStateStore;
import erphub.tenant.TenantDirectory;
import erphub.token.TokenKey;

/**
 * LIST, SPLIT and CLAIM for the upstream routes: which tenants to poll, the file list one page at a time
 * (every listed version checked against the ledger, so nothing is missed and memory does not grow with
 * the list), and the atomic claim of each new version.
 */
@ApplicationScoped
@Named("upstreamPoll")
public class UpstreamPoll {

    private static final Logger LOG = Logger.getLogger(UpstreamPoll.class);
    static final String STARTED = "erphubPollStarted";
    static final String CLAIMED = "erphubPollClaimed";
    // Jackson, not the lenient default parser: a truncated page must fail as not JSON.
    private static final Configuration JSON = Configuration.builder()
            .jsonProvider(new JacksonJsonProvider())
            .mappingProvider(new JacksonMappingProvider())
            .options(Option.SUPPRESS_EXCEPTIONS)
            .build();

    private final UpstreamSpecs specs;
    private final TenantDirectory tenants;
    private final UpstreamHttp http;
    private final FileStateStore store;
    private final ErphubConfig config;
    private final PollStateStore polls;
    private final erphub.events.FileEvents events;
    private final io.micrometer.core.instrument.MeterRegistry meters;

    public UpstreamPoll(UpstreamSpecs specs, TenantDirectory tenants, UpstreamHttp http, FileStateStore store,
            ErphubConfig config, PollStateStore polls, erphub.events.FileEvents events,
            io.micrometer.core.instrument.MeterRegistry meters) {
        this.meters = meters;
        this.polls = polls;
        this.events = events;
        this.specs = specs;
        this.tenants = tenants;
        this.http = http;
        this.store = store;
        this.config = config;
    }

    /** The latest poll outcome per "upstream/tenant", kept in memory so health never queries a database. */
    private final java.util.Map<String, LastPoll> lastPolls = new java.util.concurrent.ConcurrentHashMap<>();

    /** One (upstream, tenant) poll outcome as health reports it. */
    public record LastPoll(String upstream, String tenant, boolean ok, java.time.Instant at, String error) {
    }

    public java.util.Collection<LastPoll> lastPolls() {
        return lastPolls.values();
    }

    /** Records a tenant's finished poll, with how many files it claimed. */
    public void pollSucceeded(String tenant, Exchange exchange) {
        java.util.concurrent.atomic.AtomicInteger claimed = exchange.getProperty(CLAIMED,
                java.util.concurrent.atomic.AtomicInteger.class);
        String upstream = specs.forRoute(exchange.getFromRouteId()).upstreamId();
        lastPolls.put(upstream + "/" + tenant, new LastPoll(upstream, tenant, true, java.time.Instant.now(), null));
        polls.succeeded(upstream, tenant, started(exchange), claimed == null ? 0 : claimed.get());
        timeList(upstream, "succeeded", exchange);
    }

    /** erphub.list.duration{upstream, outcome}: one tenant's whole listing (all pages), a histogram in Prometheus. */
    private void timeList(String upstream, String outcome, Exchange exchange) {
        meters.timer("erphub.list.duration", "upstream", upstream, "outcome", outcome)
                .record(java.time.Duration.between(started(exchange), java.time.Instant.now()));
    }

    /** Records a tenant's failed poll with its reason; the route goes on with the next tenant and the next tick. */
    public void pollFailed(String tenant, Exception cause, Exchange exchange) {
        String upstream = specs.forRoute(exchange.getFromRouteId()).upstreamId();
        try (FileLogContext log = FileLogContext.of(tenant, upstream)) {
            recordFailure(tenant, upstream, cause, exchange);
        }
    }

    private void recordFailure(String tenant, String upstream, Exception cause, Exchange exchange) {
        String reason = cause == null ? "failed" : cause.getClass().getSimpleName() + ": " + cause.getMessage();
        LastPoll previous = lastPolls.put(upstream + "/" + tenant,
                new LastPoll(upstream, tenant, false, java.time.Instant.now(), reason));
        polls.failed(upstream, tenant, started(exchange), reason);
        timeList(upstream, "failed", exchange);
        // A failing upstream is polled again and again: say so when it starts or changes, not every tick.
        if (previous == null || previous.ok() || !reason.equals(previous.error())) {
            LOG.warnf("Poll of %s for tenant %s failed: %s", upstream, tenant, reason);
        } else {
            LOG.debugf("Poll of %s for tenant %s still failing: %s", upstream, tenant, reason);
        }
    }

    /** Marks the start of one tenant's poll. */
    public void pollStarting(Exchange exchange) {
        exchange.setProperty(STARTED, java.time.Instant.now());
        exchange.setProperty(CLAIMED, new java.util.concurrent.atomic.AtomicInteger());
    }

    private static java.time.Instant started(Exchange exchange) {
        java.time.Instant started = exchange.getProperty(STARTED, java.time.Instant.class);
        return started == null ? java.time.Instant.now() : started;
    }

    /** The tenants this upstream route polls now. */
    public List<String> tenants(Exchange exchange) {
        return tenants.tenantsOf(specs.forRoute(exchange.getFromRouteId()).upstreamId());
    }

    /** The files of one tenant that the ledger does not settle yet, fetched page by page as they are consumed. */
    public Iterator<FileDescriptor> listing(String tenant, Exchange exchange) {
        UpstreamSpec spec = specs.forRoute(exchange.getFromRouteId());
        if (!tenants.subscribes(tenant, spec.upstreamId())) {
            return java.util.Collections.emptyIterator(); // disabled or unsubscribed since this poll began
        }
        return new Listing(spec, tenant, auth(spec, tenant));
    }

    /** Claims the file for this node; null when another claim or an earlier run already has it. */
    public ClaimedFile claim(FileDescriptor file, Exchange exchange) {
        UpstreamSpec spec = specs.forRoute(exchange.getFromRouteId());
        if (!tenants.subscribes(file.tenant(), spec.upstreamId())) {
            return null; // the tenant was disabled during this poll's listing: no new claims from now on
        }
        Optional<Claim> claim = store.claim(file.key(), file.name(), file.size(), file.checksum());
        if (claim.isEmpty()) {
            return null;
        }
        // Split copies properties into each file's exchange, so one counter object is shared by all of them.
        java.util.concurrent.atomic.AtomicInteger claimed = exchange.getProperty(CLAIMED,
                java.util.concurrent.atomic.AtomicInteger.class);
        if (claimed != null) {
            claimed.incrementAndGet();
        }
        Claim c = claim.get();
        ClaimedFile claimedFile = new ClaimedFile(c.fileId(), c.attempt(), file.tenant(), file.upstream(), file.remoteId(),
                file.version(), file.name(), file.size(), file.checksum(), spec.checksumAlgorithm(),
                file.downloadUrl(), tenants.maxFileSize(file.tenant(), spec.maxFileSize()), LocalDate.now(ZoneOffset.UTC).toString());
        if (!c.resumed()) {
            events.discovered(claimedFile);
        }
        return claimedFile;
    }

    Auth auth(UpstreamSpec spec, String tenant) {
        Credential credential = tenants.upstreamCredential(tenant, spec.upstreamId())
                .orElseThrow(() -> new PermanentUpstreamException("tenant " + tenant + " has no resolvable credential"
                        + " for upstream " + spec.upstreamId() + " (see the tenant registry)", 0));
        return new Auth(new TokenKey(spec.tokenUrl(), credential.clientId(), spec.scope(), spec.audience()),
                credential.clientSecret());
    }

    /** Lazily paged list: one page in memory at a time, already filtered against the ledger. */
    private final class Listing implements Iterator<FileDescriptor> {
        private final UpstreamSpec spec;
        private final String tenant;
        private final Auth auth;
        private final Deque<FileDescriptor> pending = new ArrayDeque<>();
        private final Set<String> seenPages = new HashSet<>();
        private final String listUrl;
        private String nextUrl;
        private int page;
        private int listed;

        Listing(UpstreamSpec spec, String tenant, Auth auth) {
            this.spec = spec;
            this.tenant = tenant;
            this.auth = auth;
            this.listUrl = withSince(spec, tenant, spec.listUrl(tenant));
            this.page = spec.firstPage();
            this.nextUrl = spec.paging() == UpstreamSpec.Paging.PAGE ? pageUrl(page) : listUrl;
        }

        @Override
        public boolean hasNext() {
            while (pending.isEmpty() && nextUrl != null) {
                String url = nextUrl;
                // A failed page ends this listing: the poll fails, the next poll starts over.
                nextUrl = null;
                fetch(url);
            }
            return !pending.isEmpty();
        }

        @Override
        public FileDescriptor next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return pending.poll();
        }

        private void fetch(String url) {
            if (!seenPages.add(url) || seenPages.size() > config.intake().maxPagesPerPoll()) {
                throw new MalformedListException(spec.upstreamId() + "/" + tenant + ": paging does not end ("
                        + seenPages.size() + " pages, last " + url + ")", null);
            }
            DocumentContext doc = read(url);
            List<Object> items = items(doc, url);
            List<FileDescriptor> files = new ArrayList<>(items.size());
            for (int i = 0; i < items.size(); i++) {
                files.add(descriptor(items.get(i), url, i));
            }
            listed += files.size();
            pending.addAll(store.unsettled(tenant, spec.upstreamId(), files, FileDescriptor::key));
            nextUrl = next(doc, url, items.size());
            if (nextUrl == null) {
                LOG.debugf("%s/%s: %d files listed", spec.upstreamId(), tenant, listed);
            }
        }

        private DocumentContext read(String url) {
            byte[] page;
            try (Body body = http.get(url, auth)) {
                page = readBounded(body, config.intake().maxListPageBytes(), url);
            } catch (IOException e) {
                throw new TransientUpstreamException("reading list page " + url + ": " + e, null, e);
            }
            try {
                return JsonPath.using(JSON).parse(new String(page, StandardCharsets.UTF_8));
            } catch (RuntimeException e) {
                throw new MalformedListException("list page " + url + " is not JSON: " + e.getMessage(), e);
            }
        }

        private List<Object> items(DocumentContext doc, String url) {
            Object found = doc.read(spec.itemsPath());
            if (found instanceof List<?> list) {
                @SuppressWarnings("unchecked")
                List<Object> items = (List<Object>) list;
                return items;
            }
            throw new MalformedListException("list page " + url + " has no file array at " + spec.itemsPath().getPath(), null);
        }

        private FileDescriptor descriptor(Object rawItem, String url, int index) {
            // One document per descriptor, read by every field path.
            DocumentContext item = JsonPath.using(JSON).parse(rawItem);
            String where = "list page " + url + ", item " + index;
            String id = text(item, spec.idPath());
            String name = text(item, spec.namePath());
            String checksum = spec.checksumPath() == null ? null : text(item, spec.checksumPath());
            String version = spec.versionPath() == null ? checksum : text(item, spec.versionPath());
            if (id == null || id.isEmpty()) {
                throw new MalformedListException(where + ": no id at " + spec.idPath().getPath(), null);
            }
            if (version == null || version.isEmpty()) {
                throw new MalformedListException(where + " (id " + id + "): no version", null);
            }
            if (id.length() > 512 || version.length() > 256) {
                throw new MalformedListException(where + ": id or version too long", null);
            }
            Long size = null;
            if (spec.sizePath() != null) {
                Object raw = item.read(spec.sizePath());
                if (raw != null) {
                    try {
                        size = new BigDecimal(raw.toString()).longValueExact();
                    } catch (ArithmeticException | NumberFormatException e) {
                        throw new MalformedListException(where + " (id " + id + "): size '" + raw + "' is not a whole number", e);
                    }
                    if (size < 0) {
                        throw new MalformedListException(where + " (id " + id + "): negative size", null);
                    }
                }
            }
            return new FileDescriptor(tenant, spec.upstreamId(), id, version, name, size, checksum,
                    downloadUrl(item, id, url, where));
        }

        private String downloadUrl(DocumentContext item, String id, String pageUrl, String where) {
            try {
                if (spec.downloadPath() != null) {
                    String link = text(item, spec.downloadPath());
                    if (link == null || link.isEmpty()) {
                        throw new MalformedListException(where + " (id " + id + "): no download link at "
                                + spec.downloadPath().getPath(), null);
                    }
                    // A link in a page is resolved as a browser would: against the page's own URL.
                    return URI.create(pageUrl).resolve(link).toString();
                }
                String path = spec.downloadUrlTemplate().replace("{id}", URLEncoder.encode(id, StandardCharsets.UTF_8))
                        .replace("{tenant}", tenant);
                return URI.create(UpstreamSpec.join(spec.baseUrl(), path)).toString();
            } catch (IllegalArgumentException e) {
                throw new MalformedListException(where + " (id " + id + "): bad download link", e);
            }
        }

        private String next(DocumentContext doc, String url, int itemCount) {
            switch (spec.paging()) {
                case NEXT_LINK: {
                    Object link = doc.read(spec.nextLinkPath());
                    if (link == null || link.toString().isBlank()) {
                        return null;
                    }
                    return URI.create(url).resolve(link.toString()).toString();
                }
                case CURSOR: {
                    Object cursor = doc.read(spec.cursorPath());
                    if (cursor == null || cursor.toString().isBlank()) {
                        return null;
                    }
                    String base = listUrl;
                    return base + (base.contains("?") ? "&" : "?") + spec.cursorParam() + "="
                            + URLEncoder.encode(cursor.toString(), StandardCharsets.UTF_8);
                }
                case PAGE:
                    if (itemCount == 0 || itemCount < spec.pageSize()) {
                        return null;
                    }
                    page++;
                    return pageUrl(page);
                default:
                    return null;
            }
        }

        private String pageUrl(int n) {
            String base = listUrl;
            return base + (base.contains("?") ? "&" : "?") + spec.pageParam() + "=" + n + "&" + spec.pageSizeParam()
                    + "=" + spec.pageSize();
        }

        private String text(DocumentContext item, JsonPath path) {
            Object v = item.read(path);
            return v == null ? null : v.toString();
        }
    }

    /**
     * Adds the "since" watermark for upstreams that take one: the start of the last fully successful poll,
     * minus an overlap for clock skew and late arrivals. Never the only safeguard: every listed key is
     * checked against the ledger anyway. While any file of the pair is claimed but unfinished, the whole
     * list is asked for: a claim is resumed by listing its file again, and an unchanged file would not
     * be in a "since" list.
     */
    private String withSince(UpstreamSpec spec, String tenant, String url) {
        if (spec.sinceParam().isEmpty() || store.hasUnfinished(tenant, spec.upstreamId())) {
            return url;
        }
        return polls.find(spec.upstreamId(), tenant)
                .map(p -> p.watermark())
                .filter(java.util.Objects::nonNull)
                .map(w -> url + (url.contains("?") ? "&" : "?") + spec.sinceParam() + "="
                        + URLEncoder.encode(w.minus(spec.sinceOverlap()).toString(), StandardCharsets.UTF_8))
                .orElse(url);
    }

    static byte[] readBounded(InputStream in, long max, String url) throws IOException {
        byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
        if (bytes.length > max) {
            throw new MalformedListException("list page " + url + " is larger than " + max + " bytes", null);
        }
        return bytes;
    }
}
