package erphub.delivery;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.jcraft.jsch.JSch;

/**
 * What JSch (the SSH client under Camel's sftp component) checks before each connection. Its {@code CheckKexes}
 * probe initialises each key exchange it names, to drop those the JVM cannot do from the offer, and it names
 * sntrup761, which JSch 2.27 does not even offer (its post-quantum offer is mlkem768x25519): initialising sntrup761
 * generates a key pair in pure Java (Bouncy Castle), about 80 ms of CPU per connection for nothing (JFR of the test
 * suite's JVM: every sntrup761 sample came from {@code Session.checkKex}; it was the first place there). The probe now
 * names only the key exchanges JSch offers. An operator's own {@code -Djsch.check_kexes} is left as it is.
 */
final class SshKeyExchanges {

    static final String PROBE = "CheckKexes";
    static final String OFFER = "kex";
    private static boolean done;

    private SshKeyExchanges() {
    }

    /** Once per JVM, before the first SFTP connection (SftpDestination, which every upload goes through). */
    static synchronized void probeOnlyWhatIsOffered() {
        if (done) {
            return;
        }
        done = true;
        if (System.getProperty("jsch.check_kexes") != null) {
            return;
        }
        List<String> offered = List.of(JSch.getConfig(OFFER).split(","));
        JSch.setConfig(PROBE, Stream.of(JSch.getConfig(PROBE).split(","))
                .filter(offered::contains)
                .collect(Collectors.joining(",")));
    }
}
