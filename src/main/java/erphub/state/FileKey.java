package erphub.state;

import java.util.Objects;
import java.util.regex.Pattern;

/** The identity of one file version: (tenant, upstream, remote id, version). */
public record FileKey(String tenant, String upstream, String remoteId, String version) {

    /** A tenant id: a slug, as the registry, the API's paths, archive keys and folder names use it. */
    public static final String TENANT_ID_PATTERN = "[a-z0-9][a-z0-9-]{1,39}";
    private static final Pattern TENANT_ID = Pattern.compile(TENANT_ID_PATTERN);
    private static final Pattern UPSTREAM_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}");

    public FileKey {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(upstream, "upstream");
        Objects.requireNonNull(remoteId, "remoteId");
        Objects.requireNonNull(version, "version");
        if (!isTenantId(tenant)) {
            throw new IllegalArgumentException("tenant id '" + tenant + "' is not a slug " + TENANT_ID_PATTERN);
        }
        if (!UPSTREAM_ID.matcher(upstream).matches()) {
            throw new IllegalArgumentException("upstream id '" + upstream + "' is not a slug [a-z0-9][a-z0-9-]{0,63}");
        }
        requireLength("remoteId", remoteId, 512);
        requireLength("version", version, 256);
    }

    /** Whether the text is a tenant id ({@value #TENANT_ID_PATTERN}). */
    public static boolean isTenantId(String text) {
        return text != null && TENANT_ID.matcher(text).matches();
    }

    private static void requireLength(String what, String value, int max) {
        if (value.isEmpty() || value.length() > max) {
            throw new IllegalArgumentException(what + " must have 1 to " + max + " characters");
        }
    }

    @Override
    public String toString() {
        return tenant + ":" + upstream + ":" + remoteId + ":" + version;
    }
}
