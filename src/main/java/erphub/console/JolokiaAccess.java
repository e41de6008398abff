package erphub.console;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.eclipse.microprofile.config.ConfigProvider;
import org.jolokia.server.core.config.Configuration;
import org.jolokia.server.core.restrictor.policy.PolicyRestrictor;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The Jolokia access policy of both agents ({@code erphub-console/jolokia-access.xml}): strict origin checking with
 * the origins of {@code erphub.jolokia.allowed-origins}, read-only JVM MBeans, Camel's MBeans operable, and the
 * JVM's diagnostic operations denied. It is Jolokia's own policy engine; erphub only fills in the origins.
 */
public final class JolokiaAccess {

    static final String POLICY = "erphub-console/jolokia-access.xml";
    static final String ORIGINS_PROPERTY = "erphub.jolokia.allowed-origins";
    private static final String PLACEHOLDER = "<!-- erphub:allowed-origins -->";

    private JolokiaAccess() {
    }

    /**
     * erphub's own agent's restrictor ({@code quarkus.camel.jolokia.additional-properties.restrictorClass}): Jolokia
     * creates it with the agent's configuration; the origins come from erphub's.
     */
    @RegisterForReflection
    public static final class Restrictor extends PolicyRestrictor {
        public Restrictor(Configuration ignored) {
            super(policyStream(ConfigProvider.getConfig().getValues(ORIGINS_PROPERTY, String.class)));
        }
    }

    static InputStream policyStream(List<String> origins) {
        return new ByteArrayInputStream(policy(origins).getBytes(StandardCharsets.UTF_8));
    }

    /** The policy document with these browser origins allowed. */
    public static String policy(List<String> origins) {
        List<String> problems = problems(origins);
        if (!problems.isEmpty()) {
            throw new IllegalStateException(String.join("; ", problems));
        }
        StringBuilder allowed = new StringBuilder();
        origins.forEach(o -> allowed.append("<allow-origin>").append(normalise(o)).append("</allow-origin>\n    "));
        return template().replace(PLACEHOLDER, allowed.toString().strip());
    }

    /**
     * Why these origins cannot be allowed: each must be exactly {@code http(s)://host[:port]}, with no wildcard,
     * path, user or query (Jolokia would read {@code *} as "any origin", which is what strict checking is for).
     */
    public static List<String> problems(List<String> origins) {
        List<String> problems = new ArrayList<>();
        if (origins == null || origins.isEmpty()) {
            problems.add(ORIGINS_PROPERTY + " names no origin: the console could not reach Jolokia");
            return problems;
        }
        for (String origin : origins) {
            String o = origin.strip();
            URI uri;
            try {
                uri = URI.create(o);
            } catch (IllegalArgumentException e) {
                problems.add(ORIGINS_PROPERTY + ": '" + o + "' is not an origin (http(s)://host[:port])");
                continue;
            }
            boolean ok = o.matches("(?i)https?://[A-Za-z0-9.\\[\\]:-]+") && uri.getHost() != null
                    && uri.getUserInfo() == null && (uri.getRawPath() == null || uri.getRawPath().isEmpty());
            if (!ok) {
                problems.add(ORIGINS_PROPERTY + ": '" + o + "' is not an origin (http(s)://host[:port], exactly: no"
                        + " wildcard, path or user)");
            }
        }
        return problems;
    }

    private static String normalise(String origin) {
        return origin.strip().toLowerCase(Locale.ROOT);
    }

    private static String template() {
        try (InputStream in = JolokiaAccess.class.getClassLoader().getResourceAsStream(POLICY)) {
            if (in == null) {
                throw new IllegalStateException("the Jolokia policy " + POLICY + " is not in this build");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
