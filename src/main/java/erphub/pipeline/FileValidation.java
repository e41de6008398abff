package erphub.pipeline;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;

import erphub.upstream.UpstreamSpec.FileChecks;
import erphub.upstream.UpstreamSpecs;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * VALIDATE: the checks an upstream declares before fan-out. The content checks use what the archive step saw
 * as the bytes passed (the first bytes, the streaming JSON parser's verdict), so validating reads nothing again.
 * A failed check is the reason the file is REJECTED and delivered nowhere.
 */
// Camel finds the methods the routes call (bean/method steps) reflectively, also in the native executable.
@RegisterForReflection
@ApplicationScoped
@Named("fileValidation")
public class FileValidation {

    private final UpstreamSpecs specs;

    public FileValidation(UpstreamSpecs specs) {
        this.specs = specs;
    }

    /** Sets {@value FileIntake#REJECTION} to why the file fails its upstream's checks, or leaves it unset. */
    public void validate(Exchange exchange) {
        ClaimedFile file = exchange.getProperty(FileIntake.CLAIMED_FILE, ClaimedFile.class);
        Archived archived = exchange.getProperty(ArchiveSteps.ARCHIVED, Archived.class);
        check(specs.get(file.upstream()).checks(), file.name(), archived)
                .ifPresent(reason -> exchange.setProperty(FileIntake.REJECTION, reason));
    }

    static Optional<String> check(FileChecks checks, String fileName, Archived archived) {
        if (checks.namePattern() != null && !checks.namePattern().matcher(fileName).matches()) {
            return Optional.of("file name '" + FileNames.printable(fileName) + "' does not match "
                    + checks.namePattern().pattern());
        }
        if (!checks.csvHeader().isEmpty()) {
            String first = firstLine(archived.head());
            if (!checks.csvHeader().equals(first)) {
                return Optional.of("CSV header is '" + FileNames.printable(first) + "', expected '" + checks.csvHeader()
                        + "'");
            }
        }
        if (checks.json() && archived.jsonProblem() != null) {
            return Optional.of(archived.jsonProblem());
        }
        return Optional.empty();
    }

    /** The first line of the first 64 KiB: a file without line breaks is not read whole into memory. */
    private static String firstLine(byte[] head) {
        String text = new String(head, StandardCharsets.UTF_8);
        int end = text.indexOf('\n');
        return (end < 0 ? text : text.substring(0, end)).replace("\uFEFF", "").strip();
    }
}
