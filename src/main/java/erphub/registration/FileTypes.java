package erphub.registration;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A registration's file types: each a file-name pattern with the types it depends on, a DAG. Within one batch window
 * a type is delivered only after all its prerequisites present in the window; a prerequisite that is DEAD holds its
 * dependants (HELD) until it is replayed. Checked as a whole when the registration is saved: unknown types, a cycle
 * (named with its path), duplicate names, and a type no file can reach because an earlier type's pattern takes every
 * name its own could match (a file's type is the first that matches).
 */
public final class FileTypes {

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");

    /** One type: files whose name matches {@code pattern} ({@code *} and {@code ?}), after {@code dependsOn}. */
    public record FileType(String name, String pattern, List<String> dependsOn) {
        public FileType {
            dependsOn = dependsOn == null ? List.of() : List.copyOf(dependsOn);
        }
    }

    /** What a window's batch must hold as a whole, or it is REJECTED with every reason: a file of each required type. */
    public record Checks(List<String> requiredTypes) {
        public Checks {
            requiredTypes = requiredTypes == null ? List.of() : List.copyOf(requiredTypes);
        }
    }

    private final Map<String, FileType> types = new LinkedHashMap<>();

    public FileTypes(List<FileType> declared) {
        if (declared != null) {
            declared.forEach(t -> types.putIfAbsent(t.name(), t));
        }
    }

    public boolean isEmpty() {
        return types.isEmpty();
    }

    /** Everything wrong with the declarations and the checks; empty when they form a DAG. */
    static List<String> problems(List<FileType> declared, Checks checks) {
        List<String> problems = new ArrayList<>();
        if (declared == null) {
            declared = List.of();
        }
        if (declared.size() > 50) {
            problems.add("fileTypes: at most 50");
            return problems;
        }
        Set<String> names = new HashSet<>();
        for (FileType t : declared) {
            if (t == null || t.name() == null || !NAME.matcher(t.name()).matches()) {
                problems.add("fileTypes: a name is 1 to 64 lower-case letters, digits, '_' or '-'");
                continue;
            }
            if (!names.add(t.name())) {
                problems.add("fileTypes." + t.name() + ": declared twice");
            }
            if (t.pattern() == null || t.pattern().isEmpty() || t.pattern().length() > 200) {
                problems.add("fileTypes." + t.name() + ".pattern: 1 to 200 characters");
            }
        }
        for (FileType t : declared) {
            if (t == null || t.name() == null) {
                continue;
            }
            for (String d : t.dependsOn()) {
                if (!names.contains(d)) {
                    problems.add("fileTypes." + t.name() + ".dependsOn: unknown type '" + RegistrationSpec.shorten(d) + "'");
                }
            }
        }
        if (problems.isEmpty()) {
            for (int later = 1; later < declared.size(); later++) {
                for (int earlier = 0; earlier < later; earlier++) {
                    if (covers(declared.get(earlier).pattern(), declared.get(later).pattern())) {
                        problems.add("fileTypes." + declared.get(later).name() + ".pattern: no file can have this"
                                + " type, '" + declared.get(earlier).name() + "' is declared before it and takes every"
                                + " name its pattern matches (put the narrower type first)");
                        break;
                    }
                }
            }
            new FileTypes(declared).cycle().ifPresent(cycle -> problems.add("fileTypes: a cycle " + String.join(" -> ", cycle)));
        }
        if (checks != null) {
            for (String required : checks.requiredTypes()) {
                if (!names.contains(required)) {
                    problems.add("checks.requiredTypes: unknown type '" + RegistrationSpec.shorten(required) + "'");
                }
            }
        }
        return problems;
    }

    /**
     * Whether glob {@code wide} matches every name glob {@code narrow} matches. Decided on the patterns themselves: a
     * {@code *} of {@code wide} may take any run of {@code narrow}'s symbols, its {@code ?} one literal or {@code ?},
     * its literals only the same literal. Sound (a yes is always right); a rare inclusion it cannot see is let through,
     * which only means the type is not refused.
     */
    static boolean covers(String wide, String narrow) {
        Boolean[][] memo = new Boolean[wide.length() + 1][narrow.length() + 1];
        return covers(wide, 0, narrow, 0, memo);
    }

    private static boolean covers(String wide, int i, String narrow, int j, Boolean[][] memo) {
        if (memo[i][j] != null) {
            return memo[i][j];
        }
        boolean result;
        if (i == wide.length()) {
            result = j == narrow.length();
        } else if (wide.charAt(i) == '*') {
            result = covers(wide, i + 1, narrow, j, memo)
                    || (j < narrow.length() && covers(wide, i, narrow, j + 1, memo));
        } else if (j == narrow.length() || narrow.charAt(j) == '*') {
            result = false;
        } else if (wide.charAt(i) == '?' || wide.charAt(i) == narrow.charAt(j)) {
            result = covers(wide, i + 1, narrow, j + 1, memo);
        } else {
            result = false;
        }
        memo[i][j] = result;
        return result;
    }

    /** A cycle's path (first type repeated at the end), if the dependencies have one. */
    Optional<List<String>> cycle() {
        Map<String, Integer> state = new LinkedHashMap<>();
        for (String start : types.keySet()) {
            List<String> path = new ArrayList<>();
            Optional<List<String>> found = visit(start, state, path);
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }

    private Optional<List<String>> visit(String type, Map<String, Integer> state, List<String> path) {
        Integer s = state.get(type);
        if (s != null && s == 2) {
            return Optional.empty();
        }
        if (s != null && s == 1) {
            List<String> cycle = new ArrayList<>(path.subList(path.indexOf(type), path.size()));
            cycle.add(type);
            return Optional.of(cycle);
        }
        state.put(type, 1);
        path.add(type);
        for (String d : types.get(type).dependsOn()) {
            Optional<List<String>> found = visit(d, state, path);
            if (found.isPresent()) {
                return found;
            }
        }
        path.remove(path.size() - 1);
        state.put(type, 2);
        return Optional.empty();
    }

    /** The type of a file: the first declared whose pattern matches its name, or none. */
    public Optional<String> typeOf(String fileName) {
        if (fileName == null) {
            return Optional.empty();
        }
        return types.values().stream().filter(t -> RegistrationSpec.glob(t.pattern(), fileName)).map(FileType::name)
                .findFirst();
    }

    /** The given types in an order where each comes after every prerequisite (declaration order among equals). */
    public List<String> ordered(Set<String> present) {
        List<String> out = new ArrayList<>();
        Set<String> placed = new HashSet<>();
        for (String t : types.keySet()) {
            place(t, present, placed, out);
        }
        return out;
    }

    private void place(String type, Set<String> present, Set<String> placed, List<String> out) {
        if (placed.contains(type)) {
            return;
        }
        placed.add(type);
        for (String d : types.get(type).dependsOn()) {
            place(d, present, placed, out);
        }
        if (present.contains(type)) {
            out.add(type);
        }
    }

    /** The prerequisites of a type, direct and indirect, that are among {@code present}. */
    public Set<String> prerequisitesOf(String type, Set<String> present) {
        Set<String> out = new LinkedHashSet<>();
        collect(type, out);
        out.retainAll(present);
        return out;
    }

    private void collect(String type, Set<String> out) {
        FileType t = types.get(type);
        if (t == null) {
            return;
        }
        for (String d : t.dependsOn()) {
            if (out.add(d)) {
                collect(d, out);
            }
        }
    }
}
