package erphub.tenant;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The tenant registry's rules, applied to a file away from a running erphub (the offline check,
 * {@code erphub.check.OperatorFilesCheck}): the same reader as at start and reload, with one difference. Credential
 * references are checked for their form only, since the secrets they name live where erphub runs, not where the
 * files are checked (an operator's CI).
 */
public final class RegistryCheck {

    private RegistryCheck() {
    }

    /** Every problem of the registry text, each as "file:line:column: message". */
    public static List<String> problems(String file, String text, List<UpstreamCatalog.Declared> upstreams,
            TenantSettings.Limits defaults, String sharedSftpHost, int sharedSftpPort) {
        Map<String, RegistryReader.Upstream> known = upstreams.stream().collect(Collectors.toMap(
                UpstreamCatalog.Declared::upstreamId, u -> new RegistryReader.Upstream(u.credential(), u.destinations()),
                (a, b) -> a));
        return new RegistryReader(file, known, new SecretsElsewhere(), defaults,
                new RegistryReader.SftpAddress(sharedSftpHost, sharedSftpPort)).read(text).problems();
    }

    /** Every well-formed reference is taken to resolve. */
    private static final class SecretsElsewhere implements RegistryReader.Credentials {
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
            return ref;
        }

        @Override
        public Optional<String> pgpPublicKeyProblem(String ref) {
            return Optional.empty();
        }
    }
}
