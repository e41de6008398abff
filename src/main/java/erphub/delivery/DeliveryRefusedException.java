package erphub.delivery;

import io.quarkus.runtime.annotations.RegisterForReflection;

/** The destination refused the file in a way a retry cannot fix: the delivery is DEAD at once. */
// Named in a route's onException: loaded by name, also in the native executable.
@RegisterForReflection
public class DeliveryRefusedException extends RuntimeException {

    public DeliveryRefusedException(String message, Throwable cause) {
        super(message, cause);
    }
}
