package erphub.pipeline;

import io.quarkus.runtime.annotations.RegisterForReflection;

/** Bad input from an upstream (unsafe name, oversize, checksum mismatch): never retried, the file is REJECTED. */
// Named in a route's onException: loaded by name, also in the native executable.
@RegisterForReflection
public class RejectedFileException extends RuntimeException {

    public RejectedFileException(String reason) {
        super(reason);
    }
}
