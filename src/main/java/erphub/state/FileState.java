package erphub.state;

import java.util.EnumSet;
import java.util.Set;

/** A file version's lifecycle, as drawn in DESIGN.md. */
public enum FileState {
    DISCOVERED,
    DOWNLOADED,
    ARCHIVED,
    VALIDATED,
    DELIVERED,
    PARTIALLY_DELIVERED,
    REJECTED,
    DEAD_LETTERED;

    /** States whose bytes are not yet safe in the archive: a claim in one of them may be resumed once its lease ends. */
    public static final Set<FileState> RESUMABLE = EnumSet.of(DISCOVERED, DOWNLOADED);

    public boolean canMoveTo(FileState next) {
        return switch (this) {
            case DISCOVERED -> next == DOWNLOADED || next == REJECTED || next == DEAD_LETTERED;
            // DOWNLOADED again: a claim resumed after a crash between download and archive fetches the bytes anew.
            case DOWNLOADED -> next == DOWNLOADED || next == ARCHIVED || next == REJECTED || next == DEAD_LETTERED;
            case ARCHIVED -> next == VALIDATED || next == REJECTED || next == DEAD_LETTERED;
            case VALIDATED -> next == DELIVERED || next == PARTIALLY_DELIVERED || next == REJECTED
                    || next == DEAD_LETTERED;
            // Replay moves a dead or partially delivered file back into delivery.
            case PARTIALLY_DELIVERED, DEAD_LETTERED -> next == VALIDATED;
            case DELIVERED, REJECTED -> false;
        };
    }
}
