package erphub.pipeline;

/** A file over its tenant's or upstream's size limit: rejected like any bad input, answered 413 to a push. */
public class FileTooLargeException extends RejectedFileException {

    public FileTooLargeException(String reason) {
        super(reason);
    }
}
