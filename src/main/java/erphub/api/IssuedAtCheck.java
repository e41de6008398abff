package erphub.api;

import java.time.Instant;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.jwt.JsonWebToken;

import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.SecurityIdentityAugmentor;
import io.smallrye.mutiny.Uni;

/**
 * A bearer token issued in the future (its {@code iat} beyond the clock skew) is refused: no issuer makes one, so it
 * is forged or made by a badly wrong clock, and with {@code mp.jwt.verify.token.age} it would otherwise outlive the
 * maximum age. smallrye-jwt checks the age of a token ({@code now - iat}) but not an {@code iat} ahead of now.
 */
@ApplicationScoped
public class IssuedAtCheck implements SecurityIdentityAugmentor {

    private final long skewSeconds;

    public IssuedAtCheck(@ConfigProperty(name = "mp.jwt.verify.clock.skew", defaultValue = "60") long skewSeconds) {
        this.skewSeconds = skewSeconds;
    }

    @Override
    public Uni<SecurityIdentity> augment(SecurityIdentity identity, AuthenticationRequestContext context) {
        if (identity.getPrincipal() instanceof JsonWebToken token && token.getIssuedAtTime() > 0
                && token.getIssuedAtTime() > Instant.now().getEpochSecond() + skewSeconds) {
            return Uni.createFrom().failure(new AuthenticationFailedException("the token's iat is in the future"));
        }
        return Uni.createFrom().item(identity);
    }
}
