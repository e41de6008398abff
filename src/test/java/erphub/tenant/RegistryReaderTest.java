package erphub.tenant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import erphub.crypto.PgpEncryption;
import erphub.testing.BesideTheApplication;
import erphub.testing.PgpTestKeys;

/**
 * The registry file as an operator writes it: checked as a whole, every mistake reported with file, line and
 * column. (TenantsIT covers loading at start, reloading and the pipeline.)
 */
@BesideTheApplication
class RegistryReaderTest {

    static final Map<String, RegistryReader.Upstream> UPSTREAMS = Map.of(
            "payroll-exports", new RegistryReader.Upstream("payroll", Set.of("erp-api", "sftp", "kafka")),
            "supplier-invoices", new RegistryReader.Upstream("procurement", Set.of("sftp")));

    /** What PGP key references resolve to (erphub.credentials.<ref>.pgp-public-key in the application). */
    static final Map<String, String> PGP_KEYS = new ConcurrentHashMap<>();

    /** Credentials that resolve: every reference except those starting with "missing"; PGP keys from PGP_KEYS. */
    static final RegistryReader.Credentials CREDENTIALS = new RegistryReader.Credentials() {
        @Override
        public boolean hasClient(String ref) {
            return !ref.startsWith("missing");
        }

        @Override
        public boolean hasSftpLogin(String ref) {
            return !ref.startsWith("missing");
        }

        @Override
        public String describe(String ref) {
            return "erphub.credentials." + ref + ".*";
        }

        @Override
        public Optional<String> pgpPublicKeyProblem(String ref) {
            String key = PGP_KEYS.get(ref);
            if (key == null) {
                return Optional.of("does not resolve: set pgp-public-key in " + describe(ref));
            }
            try {
                PgpEncryption.forPublicKey(key);
                return Optional.empty();
            } catch (IllegalArgumentException e) {
                return Optional.of(e.getMessage());
            }
        }
    };

    /** The shared drop server, as erphub.destinations.sftp.host / port name it. */
    static final RegistryReader.SftpAddress SHARED_SFTP = new RegistryReader.SftpAddress("sftp.example.com", 2222);

    static RegistryReader.Result read(String yaml) {
        return new RegistryReader("tenants.yaml", UPSTREAMS, CREDENTIALS, new TenantSettings.Limits(4, 1 << 30, 100),
                SHARED_SFTP).read(yaml);
    }

    @Test
    void aRegistryOf250TenantsIsReadWithDefaultsAndOverrides() {
        StringBuilder yaml = new StringBuilder("tenants:\n");
        for (int i = 0; i < 250; i++) {
            yaml.append("  - id: tenant-").append(i).append("\n    name: Tenant ").append(i)
                    .append("\n    upstreams:\n      payroll-exports: {credential: t").append(i).append("-payroll}\n");
            if (i % 2 == 0) {
                yaml.append("      supplier-invoices:\n");
            }
            if (i % 10 == 0) {
                yaml.append("    enabled: false\n    limits: {maxConcurrentDownloads: 2, maxDeliveriesPerSecond: 5}\n")
                        .append("    destinations:\n      sftp: {folder: custom/t").append(i).append("}\n")
                        .append("      kafka: {topic: t").append(i).append(".files}\n")
                        .append("      erpApi: {baseUrl: \"https://erp.example.com/t").append(i).append("\"}\n");
            }
        }
        RegistryReader.Result result = read(yaml.toString());
        assertEquals(List.of(), result.problems());
        assertEquals(250, result.tenants().size());
        TenantSettings t0 = result.tenants().get("tenant-0");
        assertFalse(t0.enabled());
        assertEquals(Map.of("payroll-exports", "t0-payroll", "supplier-invoices", "tenant-0-procurement"), t0.upstreams());
        assertEquals(new TenantSettings.Limits(2, 1 << 30, 5), t0.limits());
        assertEquals("custom/t0", t0.sftpFolder());
        assertEquals("t0.files", t0.kafkaTopic().orElseThrow());
        assertEquals("tenant-0-erp", t0.erpCredential());
        TenantSettings t1 = result.tenants().get("tenant-1");
        assertTrue(t1.enabled());
        assertEquals("tenant-1", t1.sftpFolder());
        assertEquals(new TenantSettings.Limits(4, 1 << 30, 100), t1.limits());
    }

    @Test
    void fiveDifferentMistakesAreAllReportedWithTheirLocation() {
        String yaml = """
                tenants:
                  - id: acme
                    upstreams:
                      payrol-exports: {credential: acme-payroll}
                  - id: acme
                    upstreams:
                      payroll-exports:
                  - id: Globex_Corp
                    upstreams:
                      supplier-invoices:
                  - id: initech
                    upstreams:
                      payroll-exports: {credential: missing-initech}
                  - id: umbrella
                    upstreams:
                      supplier-invoices:
                    limits: {maxConcurrentDownloads: 500}
                """;
        List<String> problems = read(yaml).problems();
        assertEquals(5, problems.size(), String.join("\n", problems));
        assertEquals("tenants.yaml:4:7: tenants[0] (acme): unknown upstream 'payrol-exports' (known: payroll-exports,"
                + " supplier-invoices)", problems.get(0));
        assertEquals("tenants.yaml:5:5: tenants[1]: tenant id 'acme' is declared twice (first at line 2)", problems.get(1));
        assertEquals("tenants.yaml:8:9: tenants[2] (Globex_Corp): id 'Globex_Corp' is not a slug [a-z0-9][a-z0-9-]{1,39}",
                problems.get(2));
        assertEquals("tenants.yaml:13:37: tenants[3] (initech): credential 'missing-initech' of upstream payroll-exports"
                + " does not resolve: set client-id and client-secret in erphub.credentials.missing-initech.*", problems.get(3));
        assertEquals("tenants.yaml:17:38: tenants[4] (umbrella).limits.maxConcurrentDownloads: 500 is out of range"
                + " (a whole number from 1 to 64)", problems.get(4));
    }

    @Test
    void typosUnsafeFoldersSharedFoldersAndSecretsInPlaceOfReferencesAreRefused() {
        String yaml = """
                tenants:
                  - id: acme
                    upstreams: {payroll-exports: {credential: acme-payroll}}
                    destinations: {sftp: {folder: ../globex}}
                    limit: {maxFileSize: 10}
                  - id: globex
                    upstreams: {payroll-exports: {credential: "hunter2 secret!"}}
                  - id: initech
                    destinations: {erpApi: {baseUrl: "ftp://erp"}}
                  - id: hooli
                    destinations: {sftp: {folder: shared}}
                  - id: pied-piper
                    destinations: {sftp: {folder: shared}}
                """;
        List<String> problems = read(yaml).problems();
        assertEquals(5, problems.size(), String.join("\n", problems));
        assertEquals("tenants.yaml:5:5: tenants[0] (acme): unknown key 'limit' (expected destinations, enabled, id, limits,"
                + " name, upstreams)", problems.get(0));
        assertTrue(problems.get(1).startsWith("tenants.yaml:4:35: tenants[0] (acme): sftp.folder '../globex' is not a safe"), problems.get(1));
        assertTrue(problems.get(2).startsWith("tenants.yaml:7:47: tenants[1] (globex).upstreams.payroll-exports.credential:"
                + " 'hunter2 secret!' is not a credential reference"), problems.get(2));
        assertTrue(problems.get(3).startsWith("tenants.yaml:9:38: tenants[2] (initech): erpApi.baseUrl 'ftp://erp'"), problems.get(3));
        assertEquals("tenants.yaml:12:5: tenant 'pied-piper' has SFTP folder 'shared' the same as tenant 'hooli''s folder"
                + " 'shared' on the shared SFTP server: each tenant needs a folder of its own, not the same as, inside or"
                + " around another's", problems.get(4));
    }

    /** Two tenants with the destinations given (YAML flow mappings); acme comes first. */
    static String twoTenants(String acme, String globex) {
        return "tenants:\n  - id: acme\n    upstreams: {payroll-exports: }\n    destinations: " + acme
                + "\n  - id: globex\n    upstreams: {payroll-exports: }\n    destinations: " + globex + "\n";
    }

    static final String ACME = "{sftp: {folder: acme}, kafka: {topic: acme.files}}";

    static Stream<Arguments> sharedPlaces() {
        return Stream.of(
                Arguments.of(ACME, "{sftp: {folder: ./acme}}", "'./acme' the same as tenant 'acme''s folder 'acme'"),
                Arguments.of(ACME, "{sftp: {folder: acme/payroll-exports}}", "'acme/payroll-exports' inside tenant 'acme''s"),
                Arguments.of(ACME, "{sftp: {folder: acme/./x}}", "'acme/./x' inside tenant 'acme''s"),
                Arguments.of(ACME, "{sftp: {folder: ACME}}", "'ACME' the same as tenant 'acme''s folder"),
                Arguments.of(ACME, "{sftp: {folder: acme.}}", "'acme.' the same as tenant 'acme''s folder"),
                Arguments.of(ACME, "{sftp: {folder: .}}", "sftp.folder '.' is the root of the SFTP server"),
                Arguments.of(ACME, "{sftp: {folder: ./.}}", "sftp.folder './.' is the root of the SFTP server"),
                Arguments.of(ACME, "{sftp: {folder: \"\"}}", "sftp.folder '' is not a safe relative path"),
                Arguments.of(ACME, "{sftp: {folder: /acme}}", "sftp.folder '/acme' is not a safe relative path"),
                Arguments.of(ACME, "{sftp: {folder: acme//x}}", "sftp.folder 'acme//x' is not a safe relative path"),
                Arguments.of(ACME, "{sftp: {folder: 'acme\\x'}}", "is not a safe relative path"),
                Arguments.of(ACME, "{sftp: {folder: acme/../globex}}", "sftp.folder 'acme/../globex' is not a safe"),
                Arguments.of(ACME, "{sftp: {folder: \"\uff41cme\"}}", "is not a safe relative path"),
                Arguments.of("{sftp: {folder: drop/acme}}", "{sftp: {folder: drop}}", "'drop' around tenant 'acme''s folder 'drop/acme'"),
                // A tenant's "own" server that is the shared one, however its address is written.
                Arguments.of(ACME, "{sftp: {folder: acme, server: {host: sftp.example.com, port: 2222}}}",
                        "'acme' the same as tenant 'acme''s folder 'acme' on the shared SFTP server"),
                Arguments.of(ACME, "{sftp: {folder: acme/in, server: {host: SFTP.Example.COM., port: 2222}}}",
                        "'acme/in' inside tenant 'acme''s folder 'acme' on the shared SFTP server"),
                Arguments.of("{sftp: {folder: x, server: {host: localhost, port: 22}}}",
                        "{sftp: {folder: x/y, server: {host: 127.0.0.1, port: 22}}}", "'x/y' inside tenant 'acme''s folder 'x'"),
                Arguments.of("{sftp: {folder: x, server: {host: \"[::1]\", port: 22}}}",
                        "{sftp: {folder: X, server: {host: localhost, port: 22}}}", "'X' the same as tenant 'acme''s folder 'x'"),
                Arguments.of(ACME, "{kafka: {topic: acme.files}}", "has the Kafka topic 'acme.files' of tenant 'acme'"),
                Arguments.of(ACME, "{kafka: {topic: acme_files}}", "has the Kafka topic 'acme_files' of tenant 'acme'"));
    }

    @ParameterizedTest(name = "acme {0}, globex {1}")
    @MethodSource("sharedPlaces")
    void aFolderOrTopicThatIsAnotherTenantsOrTheRootIsRefused(String acme, String globex, String problem) {
        RegistryReader.Result result = read(twoTenants(acme, globex));
        assertFalse(result.valid(), "accepted: " + globex);
        assertTrue(result.problems().stream().anyMatch(p -> p.contains(problem)), String.join("\n", result.problems()));
        assertFalse(result.tenants().containsKey("globex"), "the second tenant is not applied");
    }

    @Test
    void folderNamesThatOnlyShareAPrefixAndTheSameFolderOnAnotherServerAreNotShared() {
        RegistryReader.Result result = read(twoTenants("{sftp: {folder: acme}}", "{sftp: {folder: acme-eu}}"));
        assertEquals(List.of(), result.problems());
        result = read(twoTenants("{sftp: {folder: drop}}", "{sftp: {folder: drop, server: {host: sftp.example.com, port: 22}}}"));
        assertEquals(List.of(), result.problems(), "port 22 is another server than the shared sftp.example.com:2222");
        result = read(twoTenants("{kafka: {topic: acme.files}}", "{kafka: {topic: acme.files2}}"));
        assertEquals(List.of(), result.problems());
    }

    @Test
    void brokenYamlIsOneProblemWithItsPosition() {
        List<String> problems = read("tenants:\n  - id: acme\n    upstreams: [unclosed\n").problems();
        assertEquals(1, problems.size());
        assertTrue(problems.get(0).startsWith("tenants.yaml:4:1: not valid YAML"), problems.get(0));
    }

    @Test
    void anSftpPgpKeyIsAReferenceToAPublicKeyThatMustParse() {
        PgpTestKeys.TestKey acme = PgpTestKeys.recipient("acme@example.com");
        PGP_KEYS.put("acme-pgp", acme.armoredPublicKey());
        PGP_KEYS.put("globex-pgp", acme.armoredSecretKey());
        PGP_KEYS.put("initech-pgp", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbm90IGEga2V5\n-----END PGP PUBLIC KEY BLOCK-----\n");
        String yaml = """
                tenants:
                  - id: acme
                    destinations: {sftp: {pgpPublicKey: acme-pgp}}
                  - id: globex
                    destinations:
                      sftp:
                        folder: globex
                        pgpPublicKey: globex-pgp
                  - id: initech
                    destinations: {sftp: {pgpPublicKey: initech-pgp}}
                  - id: hooli
                    destinations: {sftp: {pgpPublicKey: missing-pgp}}
                  - id: umbrella
                    destinations: {sftp: {pgpPublicKey: "-----BEGIN PGP PUBLIC KEY BLOCK-----"}}
                """;
        RegistryReader.Result result = read(yaml);
        List<String> problems = result.problems();
        assertEquals(4, problems.size(), String.join("\n", problems));
        assertEquals("tenants.yaml:8:23: tenants[1] (globex): sftp.pgpPublicKey 'globex-pgp' is a secret (private) key:"
                + " give the recipient's public key only, and keep the secret key out of erphub's configuration", problems.get(0));
        assertEquals("tenants.yaml:10:41: tenants[2] (initech): sftp.pgpPublicKey 'initech-pgp' is not an OpenPGP public key"
                + " (it does not parse)", problems.get(1));
        assertEquals("tenants.yaml:12:41: tenants[3] (hooli): sftp.pgpPublicKey 'missing-pgp' does not resolve: set"
                + " pgp-public-key in erphub.credentials.missing-pgp.*", problems.get(2));
        assertTrue(problems.get(3).startsWith("tenants.yaml:14:41: tenants[4] (umbrella).destinations.sftp.pgpPublicKey:"
                + " '-----BEGIN PGP PUBLIC KEY BLOCK-----' is not a credential reference"), problems.get(3));
        assertEquals(Optional.of("acme-pgp"), result.tenants().get("acme").sftpPgpPublicKey());

        PGP_KEYS.put("globex-pgp", PgpTestKeys.recipient("globex@example.com").armoredPublicKey());
        PGP_KEYS.put("initech-pgp", acme.armoredPublicKey());
        RegistryReader.Result fixed = read(yaml.lines().limit(10).collect(java.util.stream.Collectors.joining("\n")));
        assertEquals(List.of(), fixed.problems());
        assertEquals(Optional.of("globex-pgp"), fixed.tenants().get("globex").sftpPgpPublicKey());
        assertEquals(Optional.empty(), read("tenants:\n  - id: plain\n").tenants().get("plain").sftpPgpPublicKey());
    }
}
