package erphub.tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import erphub.testing.BesideTheApplication;

/**
 * The registries docs/tenants.md shows are read as erphub reads a registry, against the example upstreams and the one
 * docs/upstreams.md adds (hr-documents): a reader who copies one gets no problem at start-up, and what the page says it
 * means (the default references) is what it means.
 */
@BesideTheApplication
class RegistryExamplesTest {

    static final Path PAGE = Path.of("docs/tenants.md");

    static final Map<String, RegistryReader.Upstream> UPSTREAMS = Map.of(
            "payroll-exports", new RegistryReader.Upstream("payroll", Set.of("erp-api", "sftp", "kafka")),
            "supplier-invoices", new RegistryReader.Upstream("procurement", Set.of("erp-api", "sftp", "kafka")),
            "hr-documents", new RegistryReader.Upstream("hr", Set.of("erp-api", "sftp")));

    /** Every reference resolves: the page's point is the registry's shape, not the operator's secrets. */
    static final RegistryReader.Credentials RESOLVING = new RegistryReader.Credentials() {
        @Override
        public boolean hasClient(String ref) {
            return true;
        }

        @Override
        public boolean hasSftpLogin(String ref) {
            return true;
        }

        @Override
        public String describe(String ref) {
            return "erphub.credentials." + ref + ".*";
        }

        @Override
        public Optional<String> pgpPublicKeyProblem(String ref) {
            return Optional.empty();
        }
    };

    static RegistryReader.Result read(String yaml) {
        return new RegistryReader(PAGE + " example", UPSTREAMS, RESOLVING, new TenantSettings.Limits(4, 1L << 31, 100),
                new RegistryReader.SftpAddress("localhost", 2222)).read(yaml);
    }

    /** The registries of the page: its yaml blocks that start with "tenants:", and the heredoc of its shell example. */
    static List<String> registries() throws IOException {
        List<String> out = new ArrayList<>();
        Matcher yaml = Pattern.compile("```yaml\\n(tenants:\\n.*?)```", Pattern.DOTALL).matcher(Files.readString(PAGE));
        while (yaml.find()) {
            out.add(yaml.group(1));
        }
        Matcher heredoc = Pattern.compile("<<'YAML'\\n(.*?)\\nYAML\\n", Pattern.DOTALL).matcher(Files.readString(PAGE));
        while (heredoc.find()) {
            out.add(heredoc.group(1));
        }
        return out;
    }

    @Test
    void everyRegistryThePageShowsIsReadWithoutProblems() throws IOException {
        List<String> registries = registries();
        assertEquals(2, registries.size(), "the full entry and the tenant of one's own");
        for (String registry : registries) {
            RegistryReader.Result result = read(registry);
            assertEquals(List.of(), result.problems(), registry);
            assertTrue(!result.tenants().isEmpty(), registry);
        }
    }

    @Test
    void theDefaultReferencesAreTheOnesThePageNames() throws IOException {
        TenantSettings acme = read(registries().get(0)).tenants().get("acme");
        assertEquals(Map.of("payroll-exports", "acme-payroll", "supplier-invoices", "acme-procurement"), acme.upstreams());
        assertEquals("acme-erp", acme.erpCredential());
        TenantSettings contoso = read(registries().get(1)).tenants().get("contoso");
        assertEquals(Map.of("hr-documents", "contoso-hr"), contoso.upstreams());
        assertEquals("contoso-erp", contoso.erpCredential());
    }
}
