package erphub.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A tenant registry file for a test, and the configuration that goes with it: the registry-file setting and
 * the credentials its references resolve to ({@code erphub.credentials.<ref>.client-id/-secret}). A tenant's
 * client for a credential name {@code c} is {@code <tenant>-<c>}, the registry's default reference, so the
 * token server's subject tells the tenants apart.
 */
public final class TestTenants {

    private final StringBuilder yaml = new StringBuilder("tenants:\n");
    private final Map<String, String> config = new LinkedHashMap<>();

    /** A tenant subscribed to the upstreams, each with its client {@code <tenant>-<credential name>}. */
    public TestTenants tenant(String id, Map<String, String> credentialNameByUpstream) {
        yaml.append("  - id: ").append(id).append("\n    upstreams:\n");
        credentialNameByUpstream.forEach((upstream, name) -> {
            yaml.append("      ").append(upstream).append(":\n");
            client(id + "-" + name, "secret-" + name + "-" + id);
        });
        return this;
    }

    /** Free YAML for one tenant entry (starting with {@code - id: ...}), indented by the caller as in a list item. */
    public TestTenants entry(String yamlOfOneTenant) {
        yamlOfOneTenant.lines().forEach(line -> yaml.append("  ").append(line).append('\n'));
        return this;
    }

    /** Configures the OAuth2 client a credential reference resolves to. */
    public TestTenants client(String ref, String secret) {
        config.put("erphub.credentials." + ref + ".client-id", ref);
        config.put("erphub.credentials." + ref + ".client-secret", secret);
        return this;
    }

    public TestTenants config(String key, String value) {
        config.put(key, value);
        return this;
    }

    public String yaml() {
        return yaml.toString();
    }

    /** Writes the registry to {@code target/test-registries/<name>.yaml}; returns the config pointing at it. */
    public Map<String, String> write(String name) {
        Path file = Path.of("target", "test-registries", name + ".yaml").toAbsolutePath();
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, yaml, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> out = new LinkedHashMap<>(config);
        out.put("erphub.tenants.registry-file", file.toString());
        return out;
    }
}
