package erphub.state;

/** One destination's delivery of a file version, as drawn in DESIGN.md. */
public enum DeliveryState {
    PENDING,
    RETRYING,
    DELIVERED,
    DEAD
}
