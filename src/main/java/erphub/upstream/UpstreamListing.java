package erphub.upstream;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;

import com.jayway.jsonpath.Configuration;
import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;
import com.jayway.jsonpath.Option;
import com.jayway.jsonpath.spi.json.JacksonJsonProvider;
import com.jayway.jsonpath.spi.mapper.JacksonMappingProvider;

import erphub.config.ErphubConfig;
import erphub.state.ClaimStore;
import erphub.state.PollStateStore;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The paging of an upstream's list (what YAML cannot say cleanly): the first page's URL, then for each page
 * its file descriptors, only those the ledger does not settle yet (one query per page, so memory and the ledger
 * work do not grow with the list), and the next page's URL, which ends the route's loop when there is none.
 */
// Camel finds the methods the routes call (bean/method steps) reflectively, also in the native executable.
@RegisterForReflection
@ApplicationScoped
@Named("upstreamListing")
public class UpstreamListing {

    /** The URL of the upstream GET the route makes next (null: the list has ended). */
    public static final String URL = "erphubUrl";
    static final String STATE = "erphubListing";
    /**
     * Whether the route's loop fetches another page: a plain Boolean property, read by the loop's condition without
     * the simple language's method call on a bean (OGNL), which cost 6 % of an empty poll's CPU.
     */
    static final String MORE = "erphubListingMore";
    // Jackson, not the lenient default parser: a truncated page must fail as not JSON.
    private static final Configuration JSON = Configuration.builder()
            .jsonProvider(new JacksonJsonProvider())
            .mappingProvider(new JacksonMappingProvider())
            .options(Option.SUPPRESS_EXCEPTIONS)
            .build();

    private final ClaimStore claims;
    private final PollStateStore polls;
    private final ErphubConfig config;

    public UpstreamListing(ClaimStore claims, PollStateStore polls, ErphubConfig config) {
        this.claims = claims;
        this.polls = polls;
        this.config = config;
    }

    /** Where one tenant's listing is: the upstream, the first page's URL, pages seen, the page number. */
    public static final class State {
        final UpstreamSpec spec;
        final String tenant;
        final String listUrl;
        final Set<String> seen = new HashSet<>();
        int page;
        int listed;

        State(UpstreamSpec spec, String tenant, String listUrl) {
            this.spec = spec;
            this.tenant = tenant;
            this.listUrl = listUrl;
            this.page = spec.firstPage();
        }
    }

    /** Starts a tenant's listing: the URL of its first page. */
    void start(Exchange exchange, UpstreamSpec spec, String tenant) {
        State state = new State(spec, tenant, withSince(spec, tenant, spec.listUrl(tenant)));
        exchange.setProperty(STATE, state);
        exchange.setProperty(MORE, Boolean.TRUE);
        exchange.setProperty(URL, spec.paging() == UpstreamSpec.Paging.PAGE ? pageUrl(state) : state.listUrl);
    }

    /** Reads the page in the body: its files the ledger does not settle yet, and the next page's URL (or none). */
    public List<FileDescriptor> page(Exchange exchange) {
        State state = exchange.getProperty(STATE, State.class);
        String url = exchange.getProperty(URL, String.class);
        UpstreamSpec spec = state.spec;
        if (!state.seen.add(url) || state.seen.size() > config.intake().maxPagesPerPoll()) {
            throw new MalformedListException(spec.upstreamId() + "/" + state.tenant + ": paging does not end ("
                    + state.seen.size() + " pages, last " + url + ")", null);
        }
        DocumentContext doc = read(exchange.getIn().getBody(InputStream.class), url);
        List<Object> items = items(doc, spec, url);
        List<FileDescriptor> files = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            files.add(descriptor(state, items.get(i), url, i));
        }
        state.listed += files.size();
        String next = next(state, doc, url, items.size());
        exchange.setProperty(MORE, next != null);
        if (next != null) {
            exchange.setProperty(URL, next);
        }
        return claims.unsettled(state.tenant, spec.upstreamId(), files, FileDescriptor::key);
    }

    private DocumentContext read(InputStream body, String url) {
        byte[] page;
        try (InputStream in = body == null ? InputStream.nullInputStream() : body) {
            long max = config.intake().maxListPageBytes();
            page = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
            if (page.length > max) {
                throw new MalformedListException("list page " + url + " is larger than " + max + " bytes", null);
            }
        } catch (IOException e) {
            throw new TransientUpstreamException("reading list page " + url + ": " + e, null, e);
        }
        try {
            return JsonPath.using(JSON).parse(new String(page, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            throw new MalformedListException("list page " + url + " is not JSON: " + e.getMessage(), e);
        }
    }

    private static List<Object> items(DocumentContext doc, UpstreamSpec spec, String url) {
        Object found = doc.read(spec.itemsPath());
        if (found instanceof List<?> list) {
            @SuppressWarnings("unchecked")
            List<Object> items = (List<Object>) list;
            return items;
        }
        throw new MalformedListException("list page " + url + " has no file array at " + spec.itemsPath().getPath(), null);
    }

    private FileDescriptor descriptor(State state, Object rawItem, String url, int index) {
        UpstreamSpec spec = state.spec;
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
        return new FileDescriptor(state.tenant, spec.upstreamId(), id, version, name, size, checksum,
                downloadUrl(state, item, id, url, where));
    }

    private static String downloadUrl(State state, DocumentContext item, String id, String pageUrl, String where) {
        UpstreamSpec spec = state.spec;
        try {
            String url;
            if (spec.downloadPath() != null) {
                String link = text(item, spec.downloadPath());
                if (link == null || link.isEmpty()) {
                    throw new MalformedListException(where + " (id " + id + "): no download link at "
                            + spec.downloadPath().getPath(), null);
                }
                // A link in a page is resolved as a browser would: against the page's own URL.
                url = URI.create(pageUrl).resolve(link).toString();
            } else {
                String path = spec.downloadUrlTemplate().replace("{id}", URLEncoder.encode(id, StandardCharsets.UTF_8))
                        .replace("{tenant}", URLEncoder.encode(state.tenant, StandardCharsets.UTF_8));
                url = URI.create(UpstreamSpec.join(spec.baseUrl(), path)).toString();
            }
            erphub.routing.HttpTargets.check(url);
            return url;
        } catch (IllegalArgumentException e) {
            throw new MalformedListException(where + " (id " + id + "): bad download link: " + e.getMessage(), e);
        }
    }

    private static String next(State state, DocumentContext doc, String url, int itemCount) {
        UpstreamSpec spec = state.spec;
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
                return state.listUrl + (state.listUrl.contains("?") ? "&" : "?") + spec.cursorParam() + "="
                        + URLEncoder.encode(cursor.toString(), StandardCharsets.UTF_8);
            }
            case PAGE:
                if (itemCount == 0 || itemCount < spec.pageSize()) {
                    return null;
                }
                state.page++;
                return pageUrl(state);
            default:
                return null;
        }
    }

    private static String pageUrl(State state) {
        UpstreamSpec spec = state.spec;
        return state.listUrl + (state.listUrl.contains("?") ? "&" : "?") + spec.pageParam() + "=" + state.page + "&"
                + spec.pageSizeParam() + "=" + spec.pageSize();
    }

    private static String text(DocumentContext item, JsonPath path) {
        Object v = item.read(path);
        return v == null ? null : v.toString();
    }

    /**
     * Adds the "since" watermark for upstreams that take one: the start of the last fully successful poll, minus an
     * overlap for clock skew and late arrivals. Never the only safeguard: every listed key is checked against the
     * ledger anyway. While any file of the pair is claimed but unfinished, the whole list is asked for: a claim is
     * resumed by listing its file again, and an unchanged file would not be in a "since" list.
     */
    private String withSince(UpstreamSpec spec, String tenant, String url) {
        if (spec.sinceParam().isEmpty() || claims.hasUnfinished(tenant, spec.upstreamId())) {
            return url;
        }
        return polls.find(spec.upstreamId(), tenant)
                .map(p -> p.watermark())
                .filter(Objects::nonNull)
                .map(w -> url + (url.contains("?") ? "&" : "?") + spec.sinceParam() + "="
                        + URLEncoder.encode(w.minus(spec.sinceOverlap()).toString(), StandardCharsets.UTF_8))
                .orElse(url);
    }
}
