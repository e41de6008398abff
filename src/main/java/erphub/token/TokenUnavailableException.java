package erphub.token;

/** The token endpoint did not issue a token after the configured attempts. Transient for callers: retried later. */
public class TokenUnavailableException extends RuntimeException {

    public TokenUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
