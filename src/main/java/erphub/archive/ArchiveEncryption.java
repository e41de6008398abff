package erphub.archive;

import java.util.Optional;
import java.util.regex.Pattern;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;

import org.apache.camel.component.aws2.s3.AWS2S3Component;
import org.apache.camel.component.aws2.s3.AWS2S3Configuration;
import org.apache.camel.quarkus.core.events.ComponentAddEvent;
import org.apache.camel.quarkus.main.events.BeforeStart;
import org.jboss.logging.Logger;

import erphub.config.ErphubConfig;

/**
 * Server-side encryption of the S3 archive ({@code erphub.archive.encryption}, {@code erphub.archive.kms-key-id}),
 * passed to Camel's aws2-s3 component as its {@code useSSES3} / {@code useAwsKMS} + {@code awsKMSKeyId} options.
 * Set on the component, it reaches every aws2-s3 endpoint the archive uses, however a route writes to it: single
 * PUTs and multipart uploads carry {@code x-amz-server-side-encryption} (and the KMS key id). Reading needs
 * nothing: S3 decrypts for a caller allowed to use the key. Settings that cannot do what they say stop start-up.
 */
@ApplicationScoped
public class ArchiveEncryption {

    private static final Logger LOG = Logger.getLogger(ArchiveEncryption.class);
    /** KMS key ids, ARNs and aliases; nothing that could break out of an HTTP header. */
    static final Pattern KMS_KEY_ID = Pattern.compile("[A-Za-z0-9:/_+=.,@-]{1,2048}");

    public enum Mode {
        NONE("none"), SSE_S3("sse-s3"), SSE_KMS("sse-kms");

        final String setting;

        Mode(String setting) {
            this.setting = setting;
        }
    }

    /** What the settings ask for, checked. */
    public record Settings(Mode mode, Optional<String> kmsKeyId) {

        /**
         * @throws IllegalStateException naming the setting when the combination is wrong: an unknown mode, sse-kms
         *         without a key or with a malformed one, a key without sse-kms, encryption of a local-folder archive
         */
        public static Settings of(String archiveUri, String encryption, Optional<String> kmsKeyId) {
            Mode mode = null;
            for (Mode m : Mode.values()) {
                if (m.setting.equalsIgnoreCase(encryption == null ? "" : encryption.strip())) {
                    mode = m;
                }
            }
            if (mode == null) {
                throw new IllegalStateException("erphub.archive.encryption must be none, sse-s3 or sse-kms, not '"
                        + encryption + "'");
            }
            Optional<String> key = kmsKeyId.map(String::strip).filter(k -> !k.isEmpty());
            if (mode == Mode.SSE_KMS && key.isEmpty()) {
                throw new IllegalStateException("erphub.archive.encryption=sse-kms needs erphub.archive.kms-key-id"
                        + " (ERPHUB_ARCHIVE_KMS_KEY_ID): a key id, key ARN or alias; alias/aws/s3 for the AWS-managed key");
            }
            if (mode != Mode.SSE_KMS && key.isPresent()) {
                throw new IllegalStateException("erphub.archive.kms-key-id is set but erphub.archive.encryption is "
                        + mode.setting + ": set erphub.archive.encryption=sse-kms to use the key, or remove the key id");
            }
            if (key.isPresent() && !KMS_KEY_ID.matcher(key.get()).matches()) {
                throw new IllegalStateException("erphub.archive.kms-key-id is not a KMS key id, ARN or alias"
                        + " (letters, digits and : / _ + = . , @ -, at most 2048)");
            }
            if (mode != Mode.NONE && !archiveUri.startsWith("aws2-s3:")) {
                throw new IllegalStateException("erphub.archive.encryption=" + mode.setting
                        + " is server-side encryption of an S3 archive, but erphub.archive.uri is not an aws2-s3: endpoint");
            }
            return new Settings(mode, key);
        }

        /** Sets the aws2-s3 options; endpoints created from the configuration afterwards inherit them. */
        public void applyTo(AWS2S3Configuration s3) {
            s3.setUseSSES3(mode == Mode.SSE_S3);
            s3.setUseAwsKMS(mode == Mode.SSE_KMS);
            s3.setAwsKMSKeyId(kmsKeyId.orElse(null));
        }

        @Override
        public String toString() {
            return mode == Mode.SSE_KMS ? "SSE-KMS with key " + kmsKeyId.orElseThrow()
                    : mode == Mode.SSE_S3 ? "SSE-S3 (S3-managed keys)" : "the bucket's default encryption";
        }
    }

    private final ErphubConfig config;

    public ArchiveEncryption(ErphubConfig config) {
        this.config = config;
    }

    public Settings settings() {
        return Settings.of(config.archive().uri(), config.archive().encryption(), config.archive().kmsKeyId());
    }

    /** The component is configured once, when Camel adds it, before any endpoint is created from it. */
    void configure(@Observes ComponentAddEvent event) {
        if (event.getComponent() instanceof AWS2S3Component s3) {
            Settings settings = settings();
            settings.applyTo(s3.getConfiguration());
            if (settings.mode() != Mode.NONE) {
                LOG.infof("Archive objects are written with %s", settings);
            }
        }
    }

    /** Wrong settings stop start-up even when nothing has created an aws2-s3 endpoint yet. */
    void check(@Observes @Priority(Interceptor.Priority.APPLICATION) BeforeStart event) {
        settings();
    }
}
