package erphub.routing;

/** What a failure says, for ledger details and log lines. */
public final class Failures {

    private Failures() {
    }

    /** The meaningful message of a failure: Camel's wrappers say nothing about what went wrong. */
    public static String describe(Throwable cause) {
        Throwable t = cause;
        while ((t instanceof org.apache.camel.CamelExecutionException || t instanceof org.apache.camel.RuntimeCamelException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        if (t == null) {
            return "failed";
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
