package erphub.pipeline;

/** Bad input from an upstream (unsafe name, oversize, checksum mismatch): never retried, the file is REJECTED. */
public class RejectedFileException extends RuntimeException {

    public RejectedFileException(String reason) {
        super(reason);
    }
}
