package erphub.tenant;

import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.composer.Composer;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.parser.ParserImpl;
import org.snakeyaml.engine.v2.scanner.StreamReader;

import erphub.state.FileKey;
import erphub.tenant.TenantSettings.Limits;
import erphub.tenant.TenantSettings.SftpServer;

/**
 * Reads and validates a tenant registry file as a whole: every problem is collected with its file, line and
 * column, so an operator fixes them all in one go. YAML nodes (not a data binding) keep those positions.
 */
final class RegistryReader {

    static final Pattern REFERENCE = Pattern.compile("[a-z0-9][a-z0-9._-]{0,99}");
    static final Pattern TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");
    static final Pattern FOLDER = Pattern.compile("[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*");
    static final int MAX_CONCURRENT_DOWNLOADS = 64;
    static final long MAX_FILE_SIZE = 1L << 40;
    static final int MAX_DELIVERIES_PER_SECOND = 10_000;

    /** What the registry needs to know of an upstream route: its credential name and its destinations. */
    record Upstream(String credential, Set<String> destinations) {
    }

    /** How credential references are checked: does this reference resolve to what this use needs? */
    interface Credentials {
        boolean hasClient(String ref);

        boolean hasSftpLogin(String ref);

        String describe(String ref);

        /** Why the reference is not one usable OpenPGP public key ("does not resolve: ...", "is revoked"), or empty. */
        Optional<String> pgpPublicKeyProblem(String ref);
    }

    /** Where the shared SFTP drop server is: a tenant's own server at this address is the shared one. */
    record SftpAddress(String host, int port) {
    }

    record Result(Map<String, TenantSettings> tenants, List<String> problems) {
        boolean valid() {
            return problems.isEmpty();
        }
    }

    private final String file;
    private final Map<String, Upstream> upstreams;
    private final Credentials credentials;
    private final Limits defaults;
    private final SftpAddress sharedSftp;
    private final List<String> problems = new ArrayList<>();

    RegistryReader(String file, Map<String, Upstream> upstreams, Credentials credentials, Limits defaults,
            SftpAddress sharedSftp) {
        this.file = file;
        this.upstreams = upstreams;
        this.credentials = credentials;
        this.defaults = defaults;
        this.sharedSftp = sharedSftp;
    }

    Result read(String text) {
        Node root;
        try {
            LoadSettings settings = LoadSettings.builder().setLabel(file).setAllowDuplicateKeys(false).build();
            Composer composer = new Composer(settings, new ParserImpl(settings, new StreamReader(settings, text)));
            root = composer.getSingleNode().orElse(null);
        } catch (MarkedYamlEngineException e) {
            problems.add(at(e.getProblemMark()) + "not valid YAML: " + e.getProblem());
            return result(Map.of());
        } catch (YamlEngineException e) {
            problems.add(file + ": not valid YAML: " + e.getMessage());
            return result(Map.of());
        }
        if (!(root instanceof MappingNode top)) {
            problems.add(file + ": expected a mapping with a 'tenants' list");
            return result(Map.of());
        }
        Map<String, Node> fields = fields(top, "the registry", Set.of("tenants"));
        Node list = fields.get("tenants");
        if (list == null) {
            problems.add(at(top) + "'tenants' is missing");
            return result(Map.of());
        }
        if (!(list instanceof SequenceNode tenants)) {
            if (isNull(list)) {
                return result(Map.of());
            }
            problems.add(at(list) + "'tenants' must be a list");
            return result(Map.of());
        }
        Map<String, TenantSettings> out = new LinkedHashMap<>();
        Map<String, Node> firstSeen = new HashMap<>();
        List<Place> places = new ArrayList<>();
        Map<String, String> topics = new HashMap<>();
        int index = 0;
        for (Node node : tenants.getValue()) {
            String where = "tenants[" + index++ + "]";
            String id = node instanceof MappingNode map ? idOf(map) : null;
            Node first = id == null ? null : firstSeen.putIfAbsent(id, node);
            if (first != null) {
                problems.add(at(node) + where + ": tenant id '" + id + "' is declared twice (first at line " + line(first) + ")");
                continue;
            }
            TenantSettings t = tenant(node, where);
            if (t == null) {
                continue;
            }
            if (!isolated(t, node, places, topics)) {
                continue;
            }
            out.put(t.id(), t);
        }
        return result(out);
    }

    /** A tenant's SFTP folder, normalised, on the server it is written to. */
    private record Place(String tenant, String server, String serverName, String folder, List<String> segments) {
    }

    /**
     * Tenant isolation on normalised names, never by string equality: no tenant's SFTP folder may be the same as,
     * inside, or around another's on the same server (a tenant's own server at the shared server's address is the
     * shared server), and no two tenants may name the same Kafka topic of their own.
     */
    private boolean isolated(TenantSettings t, Node node, List<Place> places, Map<String, String> topics) {
        boolean ok = true;
        String server = t.sftpServer().map(s -> serverKey(s.host(), s.port())).orElse(serverKey(sharedSftp.host(), sharedSftp.port()));
        boolean shared = server.equals(serverKey(sharedSftp.host(), sharedSftp.port()));
        String serverName = shared ? "the shared SFTP server" : "SFTP server " + t.sftpServer().map(s -> s.host() + ":" + s.port()).orElseThrow();
        Place mine = new Place(t.id(), server, serverName, t.sftpFolder(), folderSegments(t.sftpFolder()));
        for (Place other : places) {
            if (!other.server().equals(mine.server())) {
                continue;
            }
            String relation = relation(mine.segments(), other.segments());
            if (relation != null) {
                problems.add(at(node) + "tenant '" + t.id() + "' has SFTP folder '" + mine.folder() + "' " + relation
                        + " tenant '" + other.tenant() + "''s folder '" + other.folder() + "' on " + serverName
                        + ": each tenant needs a folder of its own, not the same as, inside or around another's");
                ok = false;
            }
        }
        places.add(mine);
        if (t.kafkaTopic().isPresent()) {
            // Kafka itself treats '.' and '_' as colliding in topic names.
            String topic = t.kafkaTopic().get().replace('.', '_');
            String other = topics.putIfAbsent(topic, t.id());
            if (other != null) {
                problems.add(at(node) + "tenant '" + t.id() + "' has the Kafka topic '" + t.kafkaTopic().get() + "' of tenant '"
                        + other + "' (Kafka does not tell '.' from '_' in topic names): each tenant needs its own topic,"
                        + " or none (the shared topic keys records by tenant)");
                ok = false;
            }
        }
        return ok;
    }

    /** "the same as", "inside" or "around" when one folder equals or contains the other, else null. */
    private static String relation(List<String> mine, List<String> other) {
        int common = Math.min(mine.size(), other.size());
        if (!mine.subList(0, common).equals(other.subList(0, common))) {
            return null;
        }
        return mine.size() == other.size() ? "the same as" : mine.size() > other.size() ? "inside" : "around";
    }

    /**
     * A folder as the server resolves it: '.' and empty segments dropped, compared without case (Windows and macOS
     * servers ignore it) and without the trailing dots and spaces Windows drops.
     */
    static List<String> folderSegments(String folder) {
        List<String> out = new ArrayList<>();
        for (String segment : folder.split("/")) {
            String s = segment.replaceAll("[. ]+$", "").toLowerCase(java.util.Locale.ROOT);
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }

    /** One name per server: host names without case or trailing dot, every loopback address as one. */
    static String serverKey(String host, int port) {
        String h = host.toLowerCase(java.util.Locale.ROOT).replaceAll("\\.$", "");
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        if (h.equals("localhost") || h.endsWith(".localhost")) {
            return "loopback:" + port;
        }
        if (h.matches("[0-9.]+") || h.contains(":")) {
            try {
                java.net.InetAddress address = java.net.InetAddress.getByName(h);
                return (address.isLoopbackAddress() ? "loopback" : address.getHostAddress()) + ":" + port;
            } catch (java.net.UnknownHostException e) {
                return h + ":" + port;
            }
        }
        return h + ":" + port;
    }

    private static String idOf(MappingNode map) {
        return map.getValue().stream().filter(t -> "id".equals(text(t.getKeyNode()))).map(t -> text(t.getValueNode()))
                .findFirst().orElse(null);
    }

    private Result result(Map<String, TenantSettings> tenants) {
        return new Result(Map.copyOf(tenants), List.copyOf(problems));
    }

    private TenantSettings tenant(Node node, String where) {
        if (!(node instanceof MappingNode map)) {
            problems.add(at(node) + where + ": expected a mapping with id, upstreams, ...");
            return null;
        }
        String id = idOf(map);
        if (id == null) {
            problems.add(at(map) + where + ": 'id' is missing");
            return null;
        }
        where = where + " (" + id + ")";
        Map<String, Node> f = fields(map, where, Set.of("id", "name", "enabled", "upstreams", "destinations", "limits"));
        boolean valid = FileKey.isTenantId(id);
        if (!valid) {
            problems.add(at(f.get("id")) + where + ": id '" + id + "' is not a slug " + FileKey.TENANT_ID_PATTERN);
        }
        // Default references derive from the id: with a bad id they would only repeat its problem.
        String prefix = valid ? id + "-" : null;
        String name = Optional.ofNullable(text(f.get("name"))).orElse(id);
        boolean enabled = bool(f.get("enabled"), where + ".enabled", true);

        Map<String, String> subscribed = new LinkedHashMap<>();
        Node ups = f.get("upstreams");
        if (ups instanceof MappingNode upMap) {
            for (NodeTuple tuple : upMap.getValue()) {
                String upstream = text(tuple.getKeyNode());
                Upstream known = upstreams.get(upstream);
                if (known == null) {
                    problems.add(at(tuple.getKeyNode()) + where + ": unknown upstream '" + upstream + "' (known: "
                            + String.join(", ", upstreams.keySet().stream().sorted().toList()) + ")");
                    valid = false;
                    continue;
                }
                Map<String, Node> up = isNull(tuple.getValueNode()) ? Map.of()
                        : fields(tuple.getValueNode(), where + ".upstreams." + upstream, Set.of("credential"));
                String ref = reference(up.get("credential"), where + ".upstreams." + upstream + ".credential",
                        prefix == null ? null : prefix + known.credential());
                if (ref != null && !credentials.hasClient(ref)) {
                    problems.add(at(up.getOrDefault("credential", tuple.getKeyNode())) + where + ": credential '" + ref
                            + "' of upstream " + upstream + " does not resolve: set client-id and client-secret in "
                            + credentials.describe(ref));
                    valid = false;
                }
                if (ref == null) {
                    valid = false;
                    continue;
                }
                subscribed.put(upstream, ref);
            }
        } else if (ups != null && !isNull(ups)) {
            problems.add(at(ups) + where + ": 'upstreams' must be a mapping of upstream id to {credential: ...}");
            valid = false;
        }

        Map<String, Node> dest = f.containsKey("destinations")
                ? fields(f.get("destinations"), where + ".destinations", Set.of("erpApi", "sftp", "kafka")) : Map.of();
        Map<String, Node> erp = dest.containsKey("erpApi")
                ? fields(dest.get("erpApi"), where + ".destinations.erpApi", Set.of("baseUrl", "credential")) : Map.of();
        Optional<String> erpBase = Optional.ofNullable(text(erp.get("baseUrl")));
        if (erpBase.isPresent() && !isHttpUrl(erpBase.get())) {
            problems.add(at(erp.get("baseUrl")) + where + ": erpApi.baseUrl '" + erpBase.get() + "' is not an http(s) URL");
            valid = false;
        }
        String erpRef = reference(erp.get("credential"), where + ".destinations.erpApi.credential",
                prefix == null ? null : prefix + "erp");
        valid &= erpRef != null || prefix == null;
        boolean usesErp = subscribed.keySet().stream().anyMatch(u -> upstreams.get(u).destinations().contains("erp-api"));
        if (enabled && usesErp && erpRef != null && !credentials.hasClient(erpRef)) {
            problems.add(at(erp.getOrDefault("credential", map)) + where + ": ERP API credential '" + erpRef
                    + "' does not resolve: set client-id and client-secret in " + credentials.describe(erpRef));
            valid = false;
        }

        Map<String, Node> sftp = dest.containsKey("sftp")
                ? fields(dest.get("sftp"), where + ".destinations.sftp", Set.of("folder", "server", "pgpPublicKey")) : Map.of();
        String folder = Optional.ofNullable(text(sftp.get("folder"))).orElse(id);
        if (!FOLDER.matcher(folder).matches() || folder.contains("..")) {
            problems.add(at(sftp.getOrDefault("folder", map)) + where + ": sftp.folder '" + folder
                    + "' is not a safe relative path (letters, digits, . _ - and /; no ..)");
            valid = false;
        } else if (folderSegments(folder).isEmpty()) {
            problems.add(at(sftp.getOrDefault("folder", map)) + where + ": sftp.folder '" + folder
                    + "' is the root of the SFTP server, which every tenant's folder is in: a tenant needs a folder of its own");
            valid = false;
        }
        Optional<SftpServer> server = Optional.empty();
        if (sftp.containsKey("server")) {
            server = sftpServer(sftp.get("server"), where + ".destinations.sftp.server", id, prefix);
            valid &= server.isPresent();
        }
        Optional<String> pgpKey = Optional.empty();
        if (sftp.containsKey("pgpPublicKey")) {
            String ref = reference(sftp.get("pgpPublicKey"), where + ".destinations.sftp.pgpPublicKey", null);
            Optional<String> problem = ref == null ? Optional.empty() : credentials.pgpPublicKeyProblem(ref);
            if (problem.isPresent()) {
                problems.add(at(sftp.get("pgpPublicKey")) + where + ": sftp.pgpPublicKey '" + ref + "' " + problem.get());
            }
            valid &= ref != null && problem.isEmpty();
            pgpKey = Optional.ofNullable(ref);
        }

        Map<String, Node> kafka = dest.containsKey("kafka")
                ? fields(dest.get("kafka"), where + ".destinations.kafka", Set.of("topic")) : Map.of();
        Optional<String> topic = Optional.ofNullable(text(kafka.get("topic")));
        if (topic.isPresent() && !TOPIC.matcher(topic.get()).matches()) {
            problems.add(at(kafka.get("topic")) + where + ": kafka.topic '" + topic.get() + "' is not a Kafka topic name");
            valid = false;
        }

        Map<String, Node> lim = f.containsKey("limits") ? fields(f.get("limits"), where + ".limits",
                Set.of("maxConcurrentDownloads", "maxFileSize", "maxDeliveriesPerSecond")) : Map.of();
        Long downloads = number(lim.get("maxConcurrentDownloads"), where + ".limits.maxConcurrentDownloads",
                defaults.maxConcurrentDownloads(), 1, MAX_CONCURRENT_DOWNLOADS);
        Long size = number(lim.get("maxFileSize"), where + ".limits.maxFileSize", defaults.maxFileSize(), 1, MAX_FILE_SIZE);
        Long rate = number(lim.get("maxDeliveriesPerSecond"), where + ".limits.maxDeliveriesPerSecond",
                defaults.maxDeliveriesPerSecond(), 1, MAX_DELIVERIES_PER_SECOND);
        if (downloads == null || size == null || rate == null || !valid) {
            return null;
        }
        return new TenantSettings(id, name, enabled, Map.copyOf(subscribed), erpBase, erpRef, folder, server, pgpKey, topic,
                new Limits(downloads.intValue(), size, rate.intValue()));
    }

    private Optional<SftpServer> sftpServer(Node node, String where, String tenant, String prefix) {
        Map<String, Node> s = fields(node, where, Set.of("host", "port", "username", "credential"));
        String host = text(s.get("host"));
        String username = Optional.ofNullable(text(s.get("username"))).orElse(tenant);
        Long port = number(s.get("port"), where + ".port", 22, 1, 65535);
        String ref = reference(s.get("credential"), where + ".credential", prefix == null ? null : prefix + "sftp");
        boolean ok = port != null && ref != null;
        if (host == null || !host.matches("[A-Za-z0-9.-]+|\\[[0-9a-fA-F:]+\\]")) {
            problems.add(at(s.getOrDefault("host", node)) + where + ": host is missing or not a host name");
            ok = false;
        }
        if (ref != null && !credentials.hasSftpLogin(ref)) {
            problems.add(at(s.getOrDefault("credential", node)) + where + ": credential '" + ref + "' does not resolve:"
                    + " set password or private-key-file in " + credentials.describe(ref));
            ok = false;
        }
        return ok ? Optional.of(new SftpServer(host, port.intValue(), username, ref)) : Optional.empty();
    }

    /** The keys of a mapping; an unknown key is a problem (a typo would otherwise be ignored silently). */
    private Map<String, Node> fields(Node node, String where, Set<String> allowed) {
        if (!(node instanceof MappingNode map)) {
            if (!isNull(node)) {
                problems.add(at(node) + where + ": expected a mapping of " + String.join(", ", allowed.stream().sorted().toList()));
            }
            return Map.of();
        }
        Map<String, Node> out = new LinkedHashMap<>();
        for (NodeTuple tuple : map.getValue()) {
            String key = text(tuple.getKeyNode());
            if (!allowed.contains(key)) {
                problems.add(at(tuple.getKeyNode()) + where + ": unknown key '" + key + "' (expected "
                        + String.join(", ", allowed.stream().sorted().toList()) + ")");
                continue;
            }
            out.put(key, tuple.getValueNode());
        }
        return out;
    }

    /** A credential reference, or null (reported, unless there is no node and no default to check). */
    private String reference(Node node, String where, String fallback) {
        if (node == null && fallback == null) {
            return null;
        }
        String ref = node == null ? fallback : text(node);
        if (ref == null || !REFERENCE.matcher(ref).matches()) {
            problems.add(at(node) + where + ": '" + ref + "' is not a credential reference " + REFERENCE.pattern()
                    + " (the registry holds references, never secret values)");
            return null;
        }
        return ref;
    }

    private Long number(Node node, String where, long fallback, long min, long max) {
        if (node == null || isNull(node)) {
            return fallback;
        }
        String value = text(node);
        try {
            long n = Long.parseLong(value.replace("_", ""));
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException | NullPointerException e) {
            // reported below
        }
        problems.add(at(node) + where + ": " + value + " is out of range (a whole number from " + min + " to " + max + ")");
        return null;
    }

    private boolean bool(Node node, String where, boolean fallback) {
        if (node == null || isNull(node)) {
            return fallback;
        }
        String value = text(node);
        if ("true".equals(value) || "false".equals(value)) {
            return Boolean.parseBoolean(value);
        }
        problems.add(at(node) + where + ": '" + value + "' is not true or false");
        return fallback;
    }

    private static boolean isHttpUrl(String value) {
        try {
            URI uri = URI.create(value);
            return ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static String text(Node node) {
        return node instanceof ScalarNode scalar && !isNull(node) ? scalar.getValue() : null;
    }

    private static boolean isNull(Node node) {
        return node instanceof ScalarNode scalar && Tag.NULL.equals(scalar.getTag());
    }

    private static int line(Node node) {
        return node.getStartMark().map(m -> m.getLine() + 1).orElse(0);
    }

    private String at(Node node) {
        return node == null ? file + ": " : at(node.getStartMark().orElse(null));
    }

    private String at(Optional<Mark> mark) {
        return at(mark.orElse(null));
    }

    private String at(Mark mark) {
        return mark == null ? file + ": " : file + ":" + (mark.getLine() + 1) + ":" + (mark.getColumn() + 1) + ": ";
    }
}
