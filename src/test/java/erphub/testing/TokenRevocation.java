package erphub.testing;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Revocation at the token server, as the resource servers (the test upstream and ERP API) see it: after
 * {@link #revokeAll()} they refuse (401) every bearer token issued before it, as an introspecting server would after
 * a key rotation or an admin's revocation; a client recovers only by fetching a new token.
 */
public final class TokenRevocation {

    private static final Pattern IAT = Pattern.compile("\"iat\"\\s*:\\s*(\\d+)");

    private volatile long refusedBeforeSecond = Long.MIN_VALUE;
    private final AtomicLong refused = new AtomicLong();

    /**
     * Revokes every token issued so far. A token's {@code iat} has whole seconds, so the cut-off waits for the next
     * second: a token issued after this returns is never refused, and none issued before it is accepted.
     */
    public void revokeAll() {
        long now = System.currentTimeMillis();
        long cutoff = now / 1000 + 1;
        try {
            Thread.sleep(cutoff * 1000 - now + 5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        refusedBeforeSecond = cutoff;
    }

    /** Whether a resource server answers this {@code Authorization} header 401 (counted). */
    public boolean refuses(String authorization) {
        long cutoff = refusedBeforeSecond;
        if (cutoff == Long.MIN_VALUE || authorization == null || !authorization.startsWith("Bearer ")) {
            return false;
        }
        String[] parts = authorization.substring(7).split("\\.");
        long iat = Long.MIN_VALUE;
        if (parts.length >= 2) {
            Matcher m = IAT.matcher(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
            iat = m.find() ? Long.parseLong(m.group(1)) : Long.MIN_VALUE;
        }
        if (iat < cutoff) {
            refused.incrementAndGet();
            return true;
        }
        return false;
    }

    /** Requests refused because of a revoked token. */
    public long refused() {
        return refused.get();
    }
}
