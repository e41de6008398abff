package erphub.sandbox;

import java.util.List;
import java.util.Map;

import org.jose4j.jwk.JsonWebKey;
import org.jose4j.jwk.JsonWebKeySet;
import org.jose4j.jwk.RsaJsonWebKey;
import org.jose4j.jwk.RsaJwkGenerator;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.consumer.InvalidJwtException;
import org.jose4j.jwt.consumer.JwtConsumer;
import org.jose4j.jwt.consumer.JwtConsumerBuilder;
import org.jose4j.lang.JoseException;

/**
 * The sandbox's OAuth2 issuer: an RSA key made at start, RS256-signed tokens for the client-credentials grant
 * (upstreams and ERP) and for the management API, and its JWKS. Sandbox only: the key lives in memory.
 */
final class SandboxIssuer {

    private final String issuer;
    private final RsaJsonWebKey key;
    private final JwtConsumer verifier;

    SandboxIssuer(String issuer) {
        this.issuer = issuer;
        try {
            this.key = RsaJwkGenerator.generateJwk(2048);
        } catch (JoseException e) {
            throw new IllegalStateException("cannot make the sandbox signing key", e);
        }
        key.setKeyId("erphub-sandbox");
        this.verifier = new JwtConsumerBuilder().setRequireExpirationTime().setExpectedIssuer(issuer)
                .setSkipDefaultAudienceValidation().setVerificationKey(key.getPublicKey()).build();
    }

    String issuer() {
        return issuer;
    }

    String token(String subject, String audience, long seconds, Map<String, Object> claims) {
        JwtClaims c = new JwtClaims();
        c.setIssuer(issuer);
        c.setSubject(subject);
        c.setAudience(audience);
        c.setIssuedAtToNow();
        c.setExpirationTimeMinutesInTheFuture(seconds / 60f);
        c.setGeneratedJwtId();
        claims.forEach((name, value) -> {
            if (value instanceof List<?> list) {
                c.setStringListClaim(name, list.stream().map(String::valueOf).toList());
            } else {
                c.setClaim(name, value);
            }
        });
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(c.toJson());
        jws.setKey(key.getPrivateKey());
        jws.setKeyIdHeaderValue(key.getKeyId());
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.RSA_USING_SHA256);
        try {
            return jws.getCompactSerialization();
        } catch (JoseException e) {
            throw new IllegalStateException("cannot sign a sandbox token", e);
        }
    }

    /** The subject of a valid token of this issuer, or null. */
    String subjectOf(String bearer) {
        try {
            return verifier.processToClaims(bearer).getSubject();
        } catch (InvalidJwtException | org.jose4j.jwt.MalformedClaimException e) {
            return null;
        }
    }

    String jwks() {
        return new JsonWebKeySet(key).toJson(JsonWebKey.OutputControlLevel.PUBLIC_ONLY);
    }
}
