package erphub.testing;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import wiremock.com.fasterxml.jackson.annotation.JsonCreator;
import wiremock.com.fasterxml.jackson.annotation.JsonProperty;
import com.github.tomakehurst.wiremock.matching.MatchResult;
import com.github.tomakehurst.wiremock.matching.StringValuePattern;

/**
 * Matches an {@code Authorization: Bearer <JWT>} header whose token subject is the given client id, so
 * the HTTP upstream can serve each tenant its own bytes, as a real upstream does by token.
 */
public class TokenSubjectPattern extends StringValuePattern {

    @JsonCreator
    public TokenSubjectPattern(@JsonProperty("tokenSubject") String expectedSubject) {
        super(expectedSubject);
    }

    @Override
    public MatchResult match(String header) {
        return MatchResult.of(expectedValue.equals(subject(header)));
    }

    static String subject(String header) {
        if (header == null || !header.startsWith("Bearer ")) {
            return null;
        }
        String[] parts = header.substring(7).split("\\.");
        if (parts.length < 2) {
            return null;
        }
        String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
        int at = payload.indexOf("\"sub\"");
        if (at < 0) {
            return null;
        }
        int start = payload.indexOf('"', payload.indexOf(':', at) + 1) + 1;
        return payload.substring(start, payload.indexOf('"', start));
    }
}
