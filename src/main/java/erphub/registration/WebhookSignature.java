package erphub.registration;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Webhook signatures as Standard Webhooks (standardwebhooks.com) define them, so receivers can check them with
 * that project's libraries or a few lines of their own: the secret is {@code whsec_} and 32 random bytes in
 * base64; the signature is base64(HMAC-SHA256(secret bytes, {@code <webhook-id>.<webhook-timestamp>.<body>}))
 * sent as {@code v1,<signature>}, several separated by spaces (during a secret's rotation both secrets sign).
 */
public final class WebhookSignature {

    public static final String PREFIX = "whsec_";
    private static final SecureRandom RANDOM = new SecureRandom();

    private WebhookSignature() {
    }

    public static String newSecret() {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return PREFIX + Base64.getEncoder().encodeToString(key);
    }

    /** The {@code webhook-signature} header: one {@code v1,} signature per secret. */
    public static String header(List<String> secrets, String id, long timestampSeconds, byte[] body) {
        StringBuilder out = new StringBuilder();
        for (String secret : secrets) {
            if (!out.isEmpty()) {
                out.append(' ');
            }
            out.append("v1,").append(sign(secret, id, timestampSeconds, body));
        }
        return out.toString();
    }

    static String sign(String secret, String id, long timestampSeconds, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.substring(PREFIX.length())), "HmacSHA256"));
            mac.update((id + "." + timestampSeconds + ".").getBytes(StandardCharsets.UTF_8));
            return Base64.getEncoder().encodeToString(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is not available", e);
        }
    }
}
