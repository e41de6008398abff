package erphub.token;

import java.util.Objects;

/**
 * What a token is good for: one client at one token endpoint, for one scope and audience. Tokens are
 * never shared across keys, so never across tenants (each has its own client) or scopes.
 */
public record TokenKey(String tokenUrl, String clientId, String scope, String audience) {

    public TokenKey {
        Objects.requireNonNull(tokenUrl, "tokenUrl");
        Objects.requireNonNull(clientId, "clientId");
        scope = scope == null ? "" : scope;
        audience = audience == null ? "" : audience;
    }

    @Override
    public String toString() {
        // Never the secret: it is not part of the key.
        return clientId + "@" + tokenUrl + (scope.isEmpty() ? "" : " scope=" + scope)
                + (audience.isEmpty() ? "" : " audience=" + audience);
    }
}
