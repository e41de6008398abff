package erphub.upstream;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The upstream refused the request in a way a retry will not fix (4xx other than 401/408/429, or a
 * second 401 with a fresh token): no retry, the file is dead-lettered and can be replayed once fixed.
 */
// Named in a route's onException: loaded by name, also in the native executable.
@RegisterForReflection
public class PermanentUpstreamException extends RuntimeException {

    private final int status;

    public PermanentUpstreamException(String message, int status) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
