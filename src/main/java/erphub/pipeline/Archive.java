package erphub.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.aws2.s3.AWS2S3Constants;

import erphub.config.ErphubConfig;

/**
 * Reads archived bytes back, streamed, for validation, delivery and replay: the archive is the one copy
 * erphub delivers from, so a redelivery never downloads from the upstream again. The archive is the
 * endpoint {@code erphub.archive.uri}: a local folder ({@code file:}) or an S3 bucket ({@code aws2-s3:}).
 */
@ApplicationScoped
public class Archive {

    private final ProducerTemplate producer;
    private final Endpoints endpoints;
    private final String uri;
    /** The archive endpoint with its own options (endpoint, credentials, region), reading instead of writing. */
    private final String readUri;

    public Archive(ProducerTemplate producer, ErphubConfig config, Endpoints endpoints) {
        this.producer = producer;
        this.endpoints = endpoints;
        this.uri = config.archive().uri();
        if (!uri.startsWith("file:") && !uri.startsWith("aws2-s3:")) {
            throw new IllegalStateException("erphub.archive.uri must be a file: or aws2-s3: endpoint, not " + uri);
        }
        this.readUri = uri + (uri.contains("?") ? "&" : "?") + "operation=getObject";
    }

    /** Opens an archived file; the caller closes the stream. */
    public InputStream open(String key) throws IOException {
        if (uri.startsWith("file:")) {
            return Files.newInputStream(folder().resolve(key));
        }
        Exchange read = producer.send(endpoints.resolve(readUri), e -> e.getIn().setHeader(AWS2S3Constants.KEY, key));
        if (read.getException() != null) {
            throw new IOException("cannot read " + location(key) + ": " + FileIntake.describe(read.getException()),
                    read.getException());
        }
        InputStream body = read.getMessage().getBody(InputStream.class);
        if (body == null) {
            throw new IOException("cannot read " + location(key) + ": the archive returned no body");
        }
        return body;
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
