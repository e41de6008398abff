package erphub.upstream;

/** A list page that cannot be read as the upstream route declares it: that poll fails, the route goes on. */
public class MalformedListException extends RuntimeException {

    public MalformedListException(String message, Throwable cause) {
        super(message, cause);
    }
}
