package erphub.registration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import erphub.testing.BesideTheApplication;

/**
 * The webhook URLs a client could use to make erphub call into its own network: each refused with the reason, as
 * the operator's default (https only, public addresses only) has it. Literal addresses, so no DNS is needed.
 */
@BesideTheApplication
class WebhookTargetsTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "https://127.0.0.1/hook                      | a loopback address",
            "https://127.1/hook                          | has no host",
            "https://localhost:8443/hook                 | a loopback address",
            "https://[::1]/hook                          | a loopback address",
            "https://[::ffff:127.0.0.1]/hook             | a loopback address",
            "https://0.0.0.0/hook                        | a wildcard address",
            "https://10.1.2.3/hook                       | a private address",
            "https://172.16.0.9/hook                     | a private address",
            "https://192.168.1.1/hook                    | a private address",
            "https://169.254.169.254/latest/meta-data/   | a link-local address",
            "https://[fe80::1]/hook                      | a link-local address",
            "https://[fd12:3456::1]/hook                 | a private (unique local) address",
            "https://[::10.0.0.1]/hook                   | a private (IPv4 in IPv6) address",
            "https://[64:ff9b::a9fe:a9fe]/hook           | a link-local (IPv4 in IPv6) address",
            "https://100.64.0.1/hook                     | a carrier-grade NAT address",
            "https://224.0.0.1/hook                      | a multicast address",
            "https://240.0.0.1/hook                      | a reserved address",
            "https://nowhere.invalid/hook                | does not resolve",
            "http://93.184.215.14/hook                   | a webhook must be https",
            "https://93.184.215.14/hook#frag             | no fragment",
            "https://user:secret@93.184.215.14/hook      | carries user info",
            "javascript:alert(1)                         | is not http or https",
    })
    void anUnsafeUrlIsRefusedWithTheReason(String url, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WebhookTargets.check(url, false, false));
        assertTrue(e.getMessage().startsWith("channel.url: "), e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    @Test
    void aPublicHttpsUrlIsTaken() {
        assertEquals("93.184.215.14", WebhookTargets.check("https://93.184.215.14:8443/hooks/erphub?x=1", false, false).getHost());
        assertEquals("[2606:4700::1111]", WebhookTargets.check("https://[2606:4700::1111]/hook", false, false).getHost());
    }

    @Test
    void anOperatorMayAllowReceiversInsideTheCluster() {
        assertEquals("127.0.0.1", WebhookTargets.check("http://127.0.0.1:9000/hook", true, true).getHost());
        assertThrows(IllegalArgumentException.class, () -> WebhookTargets.check("http://127.0.0.1:9000/hook", false, true));
        assertThrows(IllegalArgumentException.class, () -> WebhookTargets.check("https://127.0.0.1:9000/hook", true, false));
    }

    @Test
    void aFileNamePatternMatchesWithoutRegularExpressions() {
        assertTrue(RegistrationSpec.glob("payroll-*.csv", "payroll-2026-11.csv"));
        assertTrue(RegistrationSpec.glob("*", ""));
        assertTrue(RegistrationSpec.glob("a?c", "abc"));
        assertTrue(!RegistrationSpec.glob("*.csv", "payroll.csv.exe"));
        // The pattern a regex engine backtracks on for ages: linear here.
        String text = "a".repeat(5000) + "b";
        assertTrue(!RegistrationSpec.glob("*a*a*a*a*a*a*a*a*a*a*c", text));
    }
}
