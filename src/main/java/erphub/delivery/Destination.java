package erphub.delivery;

/**
 * A place files are delivered to. An implementation streams the archived bytes (or a record about them)
 * to its system and returns a short description of the outcome for the ledger. It throws
 * {@link DeliveryFailedException} for a failure worth retrying and {@link DeliveryRefusedException} for one
 * a retry cannot fix; any other exception counts as worth retrying.
 */
public interface Destination {

    /** The name upstream route files use in their destinations parameter. */
    String name();

    String deliver(Delivery delivery) throws Exception;
}
