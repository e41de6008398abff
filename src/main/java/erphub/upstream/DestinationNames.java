package erphub.upstream;

import java.util.Set;

/** The destinations this instance can deliver to: what an upstream's {@code destinations} may name. */
public interface DestinationNames {

    Set<String> names();
}
