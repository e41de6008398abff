package erphub.registration;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.annotation.JsonFormat;

/**
 * What a consumer registers for, as the API takes it and the state store keeps it: a name, an optional owning
 * tenant, a filter, a channel and how events are batched. Validated as a whole by {@link #problems}.
 */
public record RegistrationSpec(String name, String tenant, Filter filter, Channel channel, Batching batching,
        List<FileTypes.FileType> fileTypes, FileTypes.Checks checks) {

    /** The event types a registration may ask for (schema erphub.file-event/1). */
    public static final Set<String> EVENT_TYPES = Set.of("file.discovered", "file.delivered",
            "file.partially_delivered", "file.rejected", "file.dead_lettered");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}");
    private static final int PATTERN_MAX = 200;
    private static final int LIST_MAX = 200;

    /** Empty lists and a null pattern match everything (within the owning tenant, for a tenant's registration). */
    public record Filter(List<String> tenants, List<String> upstreams, List<String> eventTypes, String fileNamePattern) {
        public Filter {
            tenants = tenants == null ? List.of() : List.copyOf(tenants);
            upstreams = upstreams == null ? List.of() : List.copyOf(upstreams);
            eventTypes = eventTypes == null ? List.of() : List.copyOf(eventTypes);
        }
    }

    /**
     * Where batches go: {@code webhook} (an https {@code url}, each call signed), {@code sftp} (a manifest file per
     * batch into {@code folder} under the tenant's SFTP folder) or {@code kafka} (a record per batch on {@code topic}).
     */
    /**
     * Where batches go: a webhook {@code url}, an SFTP {@code folder} (with {@code includeFiles}, the files' archived
     * bytes beside each manifest), or a Kafka {@code topic}.
     */
    public record Channel(String type, String url, String folder, String topic, Boolean includeFiles) {
        /** Whether an SFTP batch carries the files themselves, not only their manifest. */
        public boolean withFiles() {
            return Boolean.TRUE.equals(includeFiles);
        }
    }

    /** The channel types erphub delivers to. */
    public static final Set<String> CHANNELS = Set.of("webhook", "sftp", "kafka");
    private static final Pattern FOLDER = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}){0,4}");
    private static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9._-]{1,249}");

    /**
     * A batch closes when its events have been quiet for {@code debounce}, or {@code maxWait} after its first
     * event, or with {@code maxBatch} events, whichever comes first.
     */
    public record Batching(@JsonFormat(shape = JsonFormat.Shape.STRING) Duration debounce,
            @JsonFormat(shape = JsonFormat.Shape.STRING) Duration maxWait, Integer maxBatch) {
        public static final Duration DEBOUNCE = Duration.ofSeconds(30);
        public static final Duration MAX_WAIT = Duration.ofMinutes(5);
        public static final int MAX_BATCH = 100;

        public Batching {
            debounce = debounce == null ? DEBOUNCE : debounce;
            maxWait = maxWait == null ? MAX_WAIT : maxWait;
            maxBatch = maxBatch == null ? MAX_BATCH : maxBatch;
        }
    }

    public RegistrationSpec {
        filter = filter == null ? new Filter(null, null, null, null) : filter;
        batching = batching == null ? new Batching(null, null, null) : batching;
        fileTypes = fileTypes == null ? List.of() : List.copyOf(fileTypes);
        checks = checks == null ? new FileTypes.Checks(null) : checks;
    }

    /** The same registration for another owning tenant (the API sets a tenant caller's own). */
    public RegistrationSpec withTenant(String owner) {
        return new RegistrationSpec(name, owner, filter, channel, batching, fileTypes, checks);
    }

    /** Its file types, for ordering a window's files. */
    public FileTypes types() {
        return new FileTypes(fileTypes);
    }

    /** Everything wrong with the spec, for a 400 that names it all at once; empty when it is valid. */
    public List<String> problems(Set<String> knownTenants, Set<String> knownUpstreams) {
        List<String> problems = new java.util.ArrayList<>();
        if (name == null || !NAME.matcher(name).matches()) {
            problems.add("name: 1 to 100 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit");
        }
        if (tenant != null && !knownTenants.contains(tenant)) {
            problems.add("tenant '" + shorten(tenant) + "' is not in the tenant registry");
        }
        if (filter.tenants().size() > LIST_MAX || filter.upstreams().size() > LIST_MAX
                || filter.eventTypes().size() > LIST_MAX) {
            problems.add("filter: at most " + LIST_MAX + " entries per list");
        } else {
            filter.tenants().stream().filter(t -> t == null || !knownTenants.contains(t))
                    .forEach(t -> problems.add("filter.tenants: '" + shorten(t) + "' is not in the tenant registry"));
            if (tenant != null && filter.tenants().stream().anyMatch(t -> !tenant.equals(t))) {
                problems.add("filter.tenants: a registration of tenant " + tenant + " sees only that tenant's events");
            }
            filter.upstreams().stream().filter(u -> u == null || !knownUpstreams.contains(u))
                    .forEach(u -> problems.add("filter.upstreams: '" + shorten(u) + "' is not an upstream"));
            filter.eventTypes().stream().filter(t -> t == null || !EVENT_TYPES.contains(t))
                    .forEach(t -> problems.add("filter.eventTypes: '" + shorten(t) + "' is not one of "
                            + new java.util.TreeSet<>(EVENT_TYPES)));
        }
        if (filter.fileNamePattern() != null
                && (filter.fileNamePattern().isEmpty() || filter.fileNamePattern().length() > PATTERN_MAX)) {
            problems.add("filter.fileNamePattern: 1 to " + PATTERN_MAX + " characters");
        }
        if (channel == null || channel.type() == null) {
            problems.add("channel: a type is required " + new java.util.TreeSet<>(CHANNELS));
        } else if (!CHANNELS.contains(channel.type())) {
            problems.add("channel.type: '" + shorten(channel.type()) + "' is not one this erphub delivers to "
                    + new java.util.TreeSet<>(CHANNELS));
        } else {
            channelProblems(problems);
        }
        if (batching.debounce().isNegative() || batching.debounce().compareTo(Duration.ofHours(1)) > 0) {
            problems.add("batching.debounce: between PT0S and PT1H");
        }
        if (batching.maxWait().compareTo(batching.debounce()) < 0 || batching.maxWait().compareTo(Duration.ofHours(24)) > 0) {
            problems.add("batching.maxWait: at least the debounce, at most PT24H");
        }
        if (batching.maxBatch() < 1 || batching.maxBatch() > 1000) {
            problems.add("batching.maxBatch: between 1 and 1000");
        }
        problems.addAll(FileTypes.problems(fileTypes, checks));
        return problems;
    }

    private void channelProblems(List<String> problems) {
        String type = channel.type();
        if (!type.equals("webhook") && channel.url() != null || !type.equals("sftp") && channel.folder() != null
                || !type.equals("kafka") && channel.topic() != null) {
            problems.add("channel: a " + type + " channel takes " + switch (type) {
                case "webhook" -> "a url";
                case "sftp" -> "a folder";
                default -> "a topic";
            } + " only");
        }
        if (!type.equals("sftp") && channel.includeFiles() != null) {
            problems.add("channel.includeFiles: only an sftp channel carries the files themselves");
        }
        if (type.equals("webhook") && (channel.url() == null || channel.url().isBlank())) {
            problems.add("channel.url: a webhook needs its https URL");
        }
        if (type.equals("sftp") && channel.folder() != null
                && (!FOLDER.matcher(channel.folder()).matches() || channel.folder().contains(".."))) {
            problems.add("channel.folder: a relative folder of up to five names (letters, digits, '.', '_', '-'),"
                    + " no '..', no leading '/' or '.'");
        }
        if (type.equals("kafka") && (channel.topic() == null || !TOPIC.matcher(channel.topic()).matches()
                || channel.topic().equals(".") || channel.topic().equals(".."))) {
            problems.add("channel.topic: a Kafka topic name (letters, digits, '.', '_', '-'; at most 249)");
        }
    }

    /** Whether an event of this tenant, upstream, type and file name is one this registration asked for. */
    public boolean matches(String eventTenant, String eventUpstream, String eventType, String fileName) {
        return (tenant == null || tenant.equals(eventTenant))
                && (filter.tenants().isEmpty() || filter.tenants().contains(eventTenant))
                && (filter.upstreams().isEmpty() || filter.upstreams().contains(eventUpstream))
                && (filter.eventTypes().isEmpty() || filter.eventTypes().contains(eventType))
                && (filter.fileNamePattern() == null || (fileName != null && glob(filter.fileNamePattern(), fileName)));
    }

    /**
     * {@code *} any run of characters, {@code ?} one; everything else literal. Matched without regular expressions,
     * so a client's pattern cannot make matching slow (backtracking is bounded by the two-pointer walk).
     */
    static boolean glob(String pattern, String text) {
        int p = 0;
        int t = 0;
        int star = -1;
        int mark = 0;
        while (t < text.length()) {
            if (p < pattern.length() && (pattern.charAt(p) == '?' || pattern.charAt(p) == text.charAt(t))) {
                p++;
                t++;
            } else if (p < pattern.length() && pattern.charAt(p) == '*') {
                star = p++;
                mark = t;
            } else if (star >= 0) {
                p = star + 1;
                t = ++mark;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') {
            p++;
        }
        return p == pattern.length();
    }

    static String shorten(String s) {
        if (s == null) {
            return "null";
        }
        String printable = s.replaceAll("\\p{Cntrl}", "?");
        return printable.length() <= 60 ? printable : printable.substring(0, 60) + "...";
    }
}
