package erphub.upstream;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import com.jayway.jsonpath.JsonPath;

/**
 * One upstream as its route file binds the {@value UpstreamContract#TEMPLATE_ID} kamelet: the declared
 * properties, checked against the kamelet's definition ({@link UpstreamContract}) and compiled once.
 */
public record UpstreamSpec(
        String upstreamId,
        String routeId,
        String baseUrl,
        String listPath,
        String listQuery,
        String sinceParam,
        Duration sinceOverlap,
        Paging paging,
        JsonPath nextLinkPath,
        JsonPath cursorPath,
        String cursorParam,
        String pageParam,
        String pageSizeParam,
        int pageSize,
        int firstPage,
        JsonPath itemsPath,
        JsonPath idPath,
        JsonPath namePath,
        JsonPath versionPath,
        JsonPath sizePath,
        JsonPath checksumPath,
        String checksumAlgorithm,
        JsonPath downloadPath,
        String downloadUrlTemplate,
        String tokenUrl,
        String scope,
        String audience,
        String credential,
        long maxFileSize,
        List<String> destinations,
        String erpApiPath,
        String erpApiMethod,
        String sftpFolder,
        FileChecks checks) {

    /** Checks before fan-out: a file failing one is REJECTED and delivered nowhere. */
    public record FileChecks(Pattern namePattern, String csvHeader, boolean json) {
        public boolean readsContent() {
            return !csvHeader.isEmpty() || json;
        }
    }

    public enum Paging {
        NONE, NEXT_LINK, CURSOR, PAGE;

        static Paging of(String value) {
            return valueOf(value.toUpperCase(Locale.ROOT).replace('-', '_'));
        }
    }

    /**
     * Builds the spec from property values already checked one by one against the kamelet's definition
     * (types, enums, formats) and with its defaults applied; adds the problems that concern several properties.
     */
    static UpstreamSpec of(String routeId, Map<String, String> v, long defaultMaxFileSize, List<String> problems,
            String where) {
        Paging paging = Paging.of(v.get("paging"));
        if (paging == Paging.NEXT_LINK && v.get("nextLinkPath").isEmpty()) {
            problems.add(where + "paging next-link needs nextLinkPath");
        }
        if (paging == Paging.CURSOR && v.get("cursorPath").isEmpty()) {
            problems.add(where + "paging cursor needs cursorPath");
        }
        if (v.get("versionPath").isEmpty() && v.get("checksumPath").isEmpty()) {
            problems.add(where + "one of versionPath or checksumPath is needed: a file's version is its etag, revision or checksum");
        }
        if (v.get("downloadPath").isEmpty() && v.get("downloadUrlTemplate").isEmpty()) {
            problems.add(where + "one of downloadPath or downloadUrlTemplate is needed");
        }
        String maxFileSize = v.getOrDefault("maxFileSize", "");
        return new UpstreamSpec(v.get("upstreamId"), routeId, v.get("baseUrl"), v.get("listPath"), v.get("listQuery"),
                v.get("sinceParam"), Duration.parse(v.get("sinceOverlap")), paging,
                path(v.get("nextLinkPath")), path(v.get("cursorPath")), v.get("cursorParam"),
                v.get("pageParam"), v.get("pageSizeParam"), Integer.parseInt(v.get("pageSize")),
                Integer.parseInt(v.get("firstPage")),
                path(v.get("itemsPath")), path(v.get("idPath")), path(v.get("namePath")), path(v.get("versionPath")),
                path(v.get("sizePath")), path(v.get("checksumPath")), v.get("checksumAlgorithm"),
                path(v.get("downloadPath")), v.get("downloadUrlTemplate"), v.get("tokenUrl"), v.get("scope"),
                v.get("audience"), v.get("credential"),
                maxFileSize.isEmpty() ? defaultMaxFileSize : Long.parseLong(maxFileSize),
                destinations(v.get("destinations")), v.get("erpApiPath"), v.get("erpApiMethod"), v.get("sftpFolder"),
                new FileChecks(v.get("validNamePattern").isEmpty() ? null : Pattern.compile(v.get("validNamePattern")),
                        v.get("validCsvHeader"), Boolean.parseBoolean(v.get("validJson"))));
    }

    private static JsonPath path(String value) {
        return value == null || value.isEmpty() ? null : JsonPath.compile(value);
    }

    /** "erp-api, sftp" as a list; "none" (or nothing) is none. */
    static List<String> destinations(String value) {
        List<String> out = new ArrayList<>();
        if (value == null || value.isBlank() || value.trim().equalsIgnoreCase("none")) {
            return out;
        }
        for (String d : value.split(",")) {
            String destination = d.trim();
            if (!destination.isEmpty() && !out.contains(destination)) {
                out.add(destination);
            }
        }
        return List.copyOf(out);
    }

    /** The first page of one tenant's list, with the route's fixed query; {tenant} stands for the tenant id. */
    public String listUrl(String tenant) {
        String url = join(baseUrl, listPath);
        url = listQuery.isEmpty() ? url : url + (url.contains("?") ? "&" : "?") + listQuery;
        return url.replace("{tenant}", URLEncoder.encode(tenant, StandardCharsets.UTF_8));
    }

    /** The tenant's folder for this upstream's files on the SFTP drop server. */
    public String sftpFolderOf(String tenantFolder) {
        return sftpFolder.replace("{tenant}", tenantFolder).replace("{upstream}", upstreamId);
    }

    /** The ERP API URL this upstream's files of the tenant are sent to. */
    public String erpApiUrl(String tenant, String base) {
        return join(base, erpApiPath.replace("{tenant}", tenant).replace("{upstream}", upstreamId));
    }

    public static String join(String base, String path) {
        if (path.startsWith("http://") || path.startsWith("https://")) {
            return path;
        }
        if (base.endsWith("/") && path.startsWith("/")) {
            return base + path.substring(1);
        }
        if (!base.endsWith("/") && !path.startsWith("/")) {
            return base + "/" + path;
        }
        return base + path;
    }
}
