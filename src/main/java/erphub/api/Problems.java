package erphub.api;

import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import erphub.state.StateStoreException;
import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.ForbiddenException;
import io.quarkus.security.UnauthorizedException;

/**
 * Every API error as RFC 7807 {@code application/problem+json}: status, title, a detail for people and the
 * request path, never a stack trace. Unexpected failures are logged here and answered with a plain 500.
 */
public class Problems {

    public static final String TYPE = "application/problem+json";
    private static final Logger LOG = Logger.getLogger(Problems.class);

    @Context
    UriInfo uri;

    public static Response problem(int status, String title, String detail, String instance) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", "about:blank");
        body.put("title", title);
        body.put("status", status);
        if (detail != null) {
            body.put("detail", detail);
        }
        if (instance != null) {
            body.put("instance", instance);
        }
        Response.ResponseBuilder response = Response.status(status).type(TYPE).entity(body);
        if (status == 401) {
            response.header("WWW-Authenticate", "Bearer");
        }
        return response.build();
    }

    private String path() {
        return uri == null ? null : "/" + uri.getPath().replaceFirst("^/", "");
    }

    @ServerExceptionMapper
    public Response unauthenticated(AuthenticationFailedException e) {
        return problem(401, "Unauthorized", "a valid bearer token is required", path());
    }

    @ServerExceptionMapper
    public Response unauthorized(UnauthorizedException e) {
        return problem(401, "Unauthorized", "a valid bearer token is required", path());
    }

    @ServerExceptionMapper
    public Response forbidden(ForbiddenException e) {
        return problem(403, "Forbidden", e.getMessage() == null ? "the token lacks the role for this" : e.getMessage(), path());
    }

    @ServerExceptionMapper
    public Response webApplication(WebApplicationException e) {
        int status = e.getResponse().getStatus();
        return problem(status, e.getResponse().getStatusInfo().getReasonPhrase(), e.getMessage(), path());
    }

    /** The archive would not give a file's bytes (gone, unreachable): the cause is in the log, not the answer. */
    @ServerExceptionMapper
    public Response archiveUnreadable(erphub.archive.ArchiveReads.ArchiveReadException e) {
        return problem(502, "Bad Gateway", e.getMessage(), path());
    }

    /** A body that is not JSON, or JSON of the wrong shape: which field, and what it should have been. */
    @ServerExceptionMapper
    public Response unreadableJson(JsonProcessingException e) {
        return problem(400, "Bad Request", describe(e), path());
    }

    @ServerExceptionMapper
    public Response mismatchedJson(MismatchedInputException e) {
        return problem(400, "Bad Request", describe(e), path());
    }

    @ServerExceptionMapper
    public Response unknownField(UnrecognizedPropertyException e) {
        return problem(400, "Bad Request", describe(e), path());
    }

    static String describe(JsonProcessingException e) {
        if (e instanceof UnrecognizedPropertyException unknown) {
            return "unknown field '" + field(unknown) + "'" + (unknown.getKnownPropertyIds() == null ? ""
                    : " (known: " + String.join(", ", unknown.getKnownPropertyIds().stream().map(String::valueOf).sorted()
                            .toList()) + ")");
        }
        if (e instanceof MismatchedInputException mismatch && !mismatch.getPath().isEmpty()) {
            Class<?> type = mismatch.getTargetType();
            return "field '" + field(mismatch) + "' must be " + (type == null ? "of another type" : kind(type));
        }
        if (e instanceof JsonMappingException) {
            return "the body is not a JSON object of the expected shape";
        }
        return "the body is not valid JSON" + (e.getLocation() == null ? ""
                : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
    }

    private static String field(JsonMappingException e) {
        return String.join(".", e.getPath().stream()
                .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]").toList());
    }

    private static String kind(Class<?> type) {
        if (type == Long.class || type == Integer.class || type == long.class || type == int.class) {
            return "a whole number";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a string";
        }
        if (type == java.time.Instant.class) {
            return "an ISO-8601 instant such as 2026-11-23T10:00:00Z";
        }
        return "an object";
    }

    @ServerExceptionMapper
    public Response badRequest(IllegalArgumentException e) {
        return problem(400, "Bad Request", e.getMessage(), path());
    }

    @ServerExceptionMapper
    public Response stateStore(StateStoreException e) {
        LOG.errorf("API %s: state store failed: %s", path(), e.getMessage());
        return problem(503, "Service Unavailable", "the state store is not available; try again", path());
    }

    @ServerExceptionMapper
    public Response unexpected(Exception e) {
        LOG.errorf(e, "API %s failed", path());
        return problem(500, "Internal Server Error", "unexpected failure; it has been logged", path());
    }
}
