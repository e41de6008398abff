package erphub.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import com.jcraft.jsch.JSch;

import erphub.testing.BesideTheApplication;

/**
 * JSch's probe of key exchanges before each connection generated an sntrup761 key pair it never offers, about 80 ms
 * of CPU per SFTP connection (the first place in a JFR of the test suite's own JVM): it probes what it offers only.
 */
@BesideTheApplication
class SshKeyExchangesTest {

    @Test
    void theProbeNamesOnlyWhatIsOfferedAndKeepsItsOrder() {
        List<String> offered = List.of(JSch.getConfig(SshKeyExchanges.OFFER).split(","));
        List<String> before = List.of(JSch.getConfig(SshKeyExchanges.PROBE).split(","));
        assertTrue(before.contains("sntrup761x25519-sha512") && !offered.contains("sntrup761x25519-sha512"),
                "JSch probes sntrup761 without offering it: probe " + before + ", offer " + offered);

        SshKeyExchanges.probeOnlyWhatIsOffered();
        SshKeyExchanges.probeOnlyWhatIsOffered();

        List<String> probed = List.of(JSch.getConfig(SshKeyExchanges.PROBE).split(","));
        assertFalse(probed.stream().anyMatch(k -> k.startsWith("sntrup761")), "still probed: " + probed);
        assertEquals(before.stream().filter(offered::contains).toList(), probed,
                "what is offered keeps its probe, in its order");
        assertTrue(probed.contains("mlkem768x25519-sha256") && probed.contains("curve25519-sha256"), probed.toString());
        assertEquals(offered, List.of(JSch.getConfig(SshKeyExchanges.OFFER).split(",")), "the offer is unchanged");
    }
}
