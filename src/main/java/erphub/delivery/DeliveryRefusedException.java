package erphub.delivery;

/** The destination refused the file in a way a retry cannot fix: the delivery is DEAD at once. */
public class DeliveryRefusedException extends RuntimeException {

    public DeliveryRefusedException(String message, Throwable cause) {
        super(message, cause);
    }
}
