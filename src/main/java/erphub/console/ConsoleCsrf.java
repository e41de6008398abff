package erphub.console;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Optional;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.jwt.JsonWebToken;

import io.quarkus.security.ForbiddenException;
import io.quarkus.security.identity.SecurityIdentity;

/**
 * The console's CSRF tokens: every form carries one, every POST must bring it back. A token is an HMAC of the
 * signed-in session (the ID token's subject and issue time) under a key derived from the console client's secret, so
 * it is the same on every replica, changes with each sign-in, and needs no server-side state. The session cookie is
 * also SameSite=Strict. (quarkus-rest-csrf, the extension for this, does not resolve at 3.27.0 here.)
 */
@ApplicationScoped
public class ConsoleCsrf {

    public static final String FIELD = "csrf";

    private final SecretKeySpec key;

    public ConsoleCsrf(@ConfigProperty(name = "quarkus.oidc.credentials.secret") Optional<String> secret) {
        // An unset secret still gets a key: no sign-in can succeed without the client's secret anyway.
        this.key = new SecretKeySpec(("erphub-console-csrf\n" + secret.orElse("")).getBytes(StandardCharsets.UTF_8),
                "HmacSHA256");
    }

    /** The token for this session's forms. */
    public String token(SecurityIdentity identity) {
        String session = identity.getPrincipal().getName();
        if (identity.getPrincipal() instanceof JsonWebToken jwt) {
            session = jwt.getSubject() + "\n" + jwt.getIssuedAtTime();
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return Base64.getUrlEncoder().withoutPadding()
                    .encodeToString(mac.doFinal(session.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** Refuses a form whose token is missing or not this session's (403). */
    public void check(SecurityIdentity identity, String sent) {
        byte[] expected = token(identity).getBytes(StandardCharsets.US_ASCII);
        if (sent == null || !MessageDigest.isEqual(expected, sent.getBytes(StandardCharsets.US_ASCII))) {
            throw new ForbiddenException("this form's CSRF token is missing or belongs to another session:"
                    + " reload the page and try again");
        }
    }
}
