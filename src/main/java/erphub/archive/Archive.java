package erphub.archive;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import io.quarkus.runtime.Startup;

import org.apache.camel.Header;

import erphub.config.ErphubConfig;

/**
 * The archive as people and records name it ({@code s3://bucket/key} or a local path), and the read endpoint of
 * the embedded default's local folder: {@code erphub.archive.read-uri} is an {@code aws2-s3} getObject in prod,
 * and {@code bean:archive?method=open} here. The archive is the record erphub delivers and replays from (small
 * files just archived are delivered from {@link ArchiveSpool}, a copy of the same bytes): a redelivery never
 * downloads from the upstream again.
 */
@Startup
@ApplicationScoped
@Named("archive")
public class Archive {

    private final String uri;

    public Archive(ErphubConfig config) {
        this.uri = config.archive().uri();
        if (!uri.startsWith("file:") && !uri.startsWith("aws2-s3:")) {
            throw new IllegalStateException("erphub.archive.uri must be a file: or aws2-s3: endpoint, not " + uri);
        }
        String readUri = config.archive().readUri();
        if (uri.startsWith("aws2-s3:") != readUri.startsWith("aws2-s3:")) {
            throw new IllegalStateException("erphub.archive.read-uri (" + readUri.replaceAll("\\?.*", "?...") + ") does not"
                    + " read the archive erphub.archive.uri writes (" + uri.replaceAll("\\?.*", "?...") + "): with an S3"
                    + " archive set it to the same bucket and options with operation=getObject; with a local folder it is"
                    + " bean:archive?method=open");
        }
    }

    /** Opens a file of the local archive folder (the read endpoint of the embedded default). */
    public InputStream open(@Header("CamelAwsS3Key") String key) throws IOException {
        if (!uri.startsWith("file:")) {
            throw new IllegalStateException("the archive is " + bucketUri() + ": read it with erphub.archive.read-uri");
        }
        Path folder = folder().toAbsolutePath().normalize();
        Path file = folder.resolve(key).normalize();
        if (!file.startsWith(folder)) {
            throw new IOException("archive key " + key + " leaves the archive folder");
        }
        return Files.newInputStream(file);
    }

    /**
     * Removes what a failed write left in the local folder: Camel's file producer writes under a temporary name
     * ({@code tempPrefix}) and leaves it behind when the stream breaks. An S3 multipart upload is aborted by Camel.
     */
    public void discardPartial(String key) {
        if (!uri.startsWith("file:")) {
            return;
        }
        java.util.regex.Matcher prefix = java.util.regex.Pattern.compile("[?&]tempPrefix=([^&]+)").matcher(uri);
        if (!prefix.find()) {
            return;
        }
        Path folder = folder().toAbsolutePath().normalize();
        Path file = folder.resolve(key).normalize();
        if (file.startsWith(folder)) {
            try {
                Files.deleteIfExists(file.resolveSibling(prefix.group(1) + file.getFileName()));
            } catch (IOException ignored) {
                // a temporary name; the next write of the same key replaces it
            }
        }
    }

    /** Where a file is archived, for people and for claim-check records: s3://bucket/key or a local path. */
    public String location(String key) {
        if (uri.startsWith("file:")) {
            return folder().resolve(key).toAbsolutePath().toUri().toString();
        }
        return "s3://" + bucketUri().substring("aws2-s3://".length()) + "/" + key;
    }

    private Path folder() {
        String path = uri.substring("file:".length());
        int query = path.indexOf('?');
        return Path.of(query < 0 ? path : path.substring(0, query));
    }

    private String bucketUri() {
        int query = uri.indexOf('?');
        String bucket = query < 0 ? uri : uri.substring(0, query);
        return bucket.startsWith("aws2-s3://") ? bucket : "aws2-s3://" + bucket.substring("aws2-s3:".length());
    }
}
