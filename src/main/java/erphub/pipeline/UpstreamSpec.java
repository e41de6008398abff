package erphub.pipeline;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.jayway.jsonpath.JsonPath;

/**
 * One upstream as its route file declares it: the parameters of the {@code erphub-upstream} route
 * template, read and checked once at start. See the README, "Adding an upstream service".
 */
public record UpstreamSpec(
        String upstreamId,
        String routeId,
        String baseUrl,
        String listPath,
        String listQuery,
        String sinceParam,
        java.time.Duration sinceOverlap,
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

    /** Destinations erphub knows; an upstream names the ones its files go to. */
    public static final List<String> KNOWN_DESTINATIONS = List.of("erp-api", "sftp", "kafka");

    /** Checks before fan-out: a file failing one is REJECTED and delivered nowhere. */
    public record FileChecks(java.util.regex.Pattern namePattern, String csvHeader, boolean json) {
        public boolean any() {
            return namePattern != null || !csvHeader.isEmpty() || json;
        }
    }

    public enum Paging {
        NONE, NEXT_LINK, CURSOR, PAGE
    }

    /** Reads the template parameters of one upstream route; every problem is collected, not just the first. */
    public static UpstreamSpec fromTemplateParameters(String routeId, Map<String, Object> p, long defaultMaxFileSize,
            List<String> problems) {
        Reader r = new Reader(routeId, p, problems);
        String upstreamId = r.required("upstreamId");
        if (upstreamId != null && !upstreamId.matches("[a-z0-9][a-z0-9-]{0,63}")) {
            problems.add(routeId + ": upstreamId '" + upstreamId + "' is not a slug [a-z0-9][a-z0-9-]{0,63}");
        }
        Paging paging = r.paging("paging");
        JsonPath versionPath = r.path("versionPath");
        JsonPath checksumPath = r.path("checksumPath");
        if (versionPath == null && checksumPath == null) {
            problems.add(routeId + ": one of versionPath or checksumPath is needed: a file's version is its etag,"
                    + " revision or checksum");
        }
        JsonPath downloadPath = r.path("downloadPath");
        String downloadUrlTemplate = r.optional("downloadUrlTemplate");
        if (downloadPath == null && downloadUrlTemplate.isEmpty()) {
            problems.add(routeId + ": one of downloadPath or downloadUrlTemplate is needed");
        }
        String checksumAlgorithm = r.optional("checksumAlgorithm");
        if (checksumAlgorithm.isEmpty()) {
            checksumAlgorithm = "SHA-256";
        }
        try {
            java.security.MessageDigest.getInstance(checksumAlgorithm);
        } catch (java.security.NoSuchAlgorithmException e) {
            problems.add(routeId + ": checksumAlgorithm '" + checksumAlgorithm + "' is not known to the JVM");
        }
        UpstreamSpec spec = new UpstreamSpec(upstreamId, routeId, r.url("baseUrl"), r.required("listPath"),
                r.optional("listQuery"), r.optional("sinceParam"), r.duration("sinceOverlap", java.time.Duration.ofMinutes(5)),
                paging,
                paging == Paging.NEXT_LINK ? r.requiredPath("nextLinkPath") : r.path("nextLinkPath"),
                paging == Paging.CURSOR ? r.requiredPath("cursorPath") : r.path("cursorPath"),
                paging == Paging.CURSOR ? r.required("cursorParam") : r.optional("cursorParam"),
                r.optionalOr("pageParam", "page"), r.optionalOr("pageSizeParam", "pageSize"),
                r.integer("pageSize", 100), r.integer("firstPage", 1),
                r.requiredPath("itemsPath"), r.requiredPath("idPath"), r.requiredPath("namePath"),
                versionPath, r.path("sizePath"), checksumPath, checksumAlgorithm, downloadPath, downloadUrlTemplate,
                r.url("tokenUrl"), r.optional("scope"), r.optional("audience"), r.required("credential"),
                r.longValue("maxFileSize", defaultMaxFileSize),
                r.destinations("destinations"), r.optionalOr("erpApiPath", "/files/{upstream}"),
                r.method("erpApiMethod"), r.optionalOr("sftpFolder", "{tenant}/{upstream}"),
                new FileChecks(r.pattern("validNamePattern"), r.optional("validCsvHeader"),
                        Boolean.parseBoolean(r.optionalOr("validJson", "false"))));
        return spec;
    }

    /** The first page of one tenant's list, with the route's fixed query; {tenant} stands for the tenant id. */
    public String listUrl(String tenant) {
        String url = join(baseUrl, listPath);
        url = listQuery.isEmpty() ? url : url + (url.contains("?") ? "&" : "?") + listQuery;
        return url.replace("{tenant}", tenant);
    }

    /** The tenant's folder for this upstream's files on the SFTP drop server. */
    public String sftpFolderOf(String tenant, String tenantFolder) {
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

    private static final class Reader {
        private final String routeId;
        private final Map<String, Object> p;
        private final List<String> problems;

        Reader(String routeId, Map<String, Object> p, List<String> problems) {
            this.routeId = routeId;
            this.p = p;
            this.problems = problems;
        }

        String optional(String name) {
            Object v = p.get(name);
            return v == null ? "" : v.toString().trim();
        }

        String optionalOr(String name, String fallback) {
            String v = optional(name);
            return v.isEmpty() ? fallback : v;
        }

        String required(String name) {
            String v = optional(name);
            if (v.isEmpty()) {
                problems.add(routeId + ": parameter " + name + " is required");
                return null;
            }
            return v;
        }

        String url(String name) {
            String v = required(name);
            if (v != null) {
                try {
                    URI u = new URI(v);
                    if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme())) {
                        problems.add(routeId + ": " + name + " '" + v + "' is not an http(s) URL");
                    }
                } catch (java.net.URISyntaxException e) {
                    problems.add(routeId + ": " + name + " '" + v + "' is not a URL: " + e.getMessage());
                }
            }
            return v;
        }

        JsonPath path(String name) {
            String v = optional(name);
            if (v.isEmpty()) {
                return null;
            }
            try {
                return JsonPath.compile(v);
            } catch (RuntimeException e) {
                problems.add(routeId + ": " + name + " '" + v + "' is not a JSONPath: " + e.getMessage());
                return null;
            }
        }

        JsonPath requiredPath(String name) {
            if (optional(name).isEmpty()) {
                problems.add(routeId + ": parameter " + name + " is required");
                return null;
            }
            return path(name);
        }

        Paging paging(String name) {
            String v = optionalOr(name, "none");
            try {
                return Paging.valueOf(v.toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                problems.add(routeId + ": paging '" + v + "' is not one of none, next-link, cursor, page");
                return Paging.NONE;
            }
        }

        List<String> destinations(String name) {
            String v = optionalOr(name, "none");
            if (v.equalsIgnoreCase("none")) {
                return List.of();
            }
            List<String> out = new ArrayList<>();
            for (String d : v.split(",")) {
                String destination = d.trim();
                if (!KNOWN_DESTINATIONS.contains(destination)) {
                    problems.add(routeId + ": destination '" + destination + "' is not one of " + KNOWN_DESTINATIONS
                            + " (or none)");
                } else if (!out.contains(destination)) {
                    out.add(destination);
                }
            }
            return List.copyOf(out);
        }

        String method(String name) {
            String v = optionalOr(name, "POST").toUpperCase(Locale.ROOT);
            if (!v.equals("POST") && !v.equals("PUT")) {
                problems.add(routeId + ": " + name + " '" + v + "' is not POST or PUT");
            }
            return v;
        }

        java.util.regex.Pattern pattern(String name) {
            String v = optional(name);
            if (v.isEmpty()) {
                return null;
            }
            try {
                return java.util.regex.Pattern.compile(v);
            } catch (java.util.regex.PatternSyntaxException e) {
                problems.add(routeId + ": " + name + " '" + v + "' is not a regular expression: " + e.getDescription());
                return null;
            }
        }

        java.time.Duration duration(String name, java.time.Duration fallback) {
            String v = optional(name);
            if (v.isEmpty()) {
                return fallback;
            }
            try {
                return java.time.Duration.parse(v);
            } catch (java.time.format.DateTimeParseException e) {
                problems.add(routeId + ": " + name + " '" + v + "' is not an ISO-8601 duration such as PT5M");
                return fallback;
            }
        }

        int integer(String name, int fallback) {
            return (int) longValue(name, fallback);
        }

        long longValue(String name, long fallback) {
            String v = optional(name);
            if (v.isEmpty()) {
                return fallback;
            }
            try {
                long n = Long.parseLong(v);
                if (n < 0) {
                    problems.add(routeId + ": " + name + " must not be negative");
                }
                return n;
            } catch (NumberFormatException e) {
                problems.add(routeId + ": " + name + " '" + v + "' is not a number");
                return fallback;
            }
        }
    }

    /** Collected problems of all upstream routes, reported at once. */
    public static String describe(List<String> problems) {
        List<String> lines = new ArrayList<>();
        lines.add("Invalid upstream route parameters (" + problems.size() + "):");
        problems.forEach(p -> lines.add("  - " + p));
        return String.join("\n", lines);
    }
}
