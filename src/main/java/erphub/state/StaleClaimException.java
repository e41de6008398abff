package erphub.state;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * This node's claim on a file was taken over by a newer one (its lease had ended): the old holder must
 * stop and record nothing, so that two workers never both move one file along.
 */
// Named in a route's onException: loaded by name, also in the native executable.
@RegisterForReflection
public class StaleClaimException extends StateStoreException {

    public StaleClaimException(String message) {
        super(message);
    }
}
