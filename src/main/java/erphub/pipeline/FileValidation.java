package erphub.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.ObjectMapper;

import erphub.pipeline.UpstreamSpec.FileChecks;

/**
 * VALIDATE: the checks an upstream declares before fan-out, run on the archived bytes (streamed, never
 * whole in memory). A failed check is the reason the file is REJECTED and delivered nowhere.
 */
@ApplicationScoped
public class FileValidation {

    private static final int MAX_HEADER_BYTES = 64 * 1024;

    private final Archive archive;
    private final ObjectMapper json;

    public FileValidation(Archive archive, ObjectMapper json) {
        this.archive = archive;
        this.json = json;
    }

    /** Why the file fails the upstream's checks, or empty when it passes. */
    public Optional<String> check(FileChecks checks, String fileName, String archiveKey) {
        if (checks.namePattern() != null && !checks.namePattern().matcher(fileName).matches()) {
            return Optional.of("file name '" + FileNames.printable(fileName) + "' does not match "
                    + checks.namePattern().pattern());
        }
        try {
            if (!checks.csvHeader().isEmpty()) {
                String first = firstLine(archiveKey);
                if (!checks.csvHeader().equals(first)) {
                    return Optional.of("CSV header is '" + FileNames.printable(first == null ? "" : first)
                            + "', expected '" + checks.csvHeader() + "'");
                }
            }
            if (checks.json()) {
                Optional<String> problem = jsonProblem(archiveKey);
                if (problem.isPresent()) {
                    return problem;
                }
            }
        } catch (IOException e) {
            throw new TransientUpstreamException("cannot read archived file " + archiveKey + " for validation: " + e,
                    null, e);
        }
        return Optional.empty();
    }

    /** The first line, read up to 64 KiB: a file without line breaks is not read whole into memory. */
    private String firstLine(String archiveKey) throws IOException {
        try (InputStream in = archive.open(archiveKey)) {
            byte[] head = in.readNBytes(MAX_HEADER_BYTES);
            String text = new String(head, StandardCharsets.UTF_8);
            int end = text.indexOf('\n');
            return (end < 0 ? text : text.substring(0, end)).replace("\uFEFF", "").strip();
        }
    }

    private Optional<String> jsonProblem(String archiveKey) throws IOException {
        try (InputStream in = archive.open(archiveKey); JsonParser parser = json.getFactory().createParser(in)) {
            if (parser.nextToken() == null) {
                return Optional.of("not JSON: the file is empty");
            }
            parser.skipChildren();
            if (parser.nextToken() != null) {
                return Optional.of("not JSON: more than one value at line " + parser.currentLocation().getLineNr());
            }
            return Optional.empty();
        } catch (JsonParseException e) {
            return Optional.of("not JSON: " + e.getOriginalMessage() + " at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr());
        }
    }
}
