package erphub.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A webhook consumer on 127.0.0.1 that checks every call as the Standard Webhooks spec tells a receiver to, with
 * its own code (not erphub's): the signature over {@code id.timestamp.body} by one of the secrets it knows for the
 * path, a timestamp within five minutes of now, and no (id, timestamp) it took before, so a captured call sent
 * again is refused. Each path answers with the status it is told (200 unless set), and every call is recorded.
 */
public final class WebhookReceiver implements AutoCloseable {

    public static final long TOLERANCE_SECONDS = 300;

    /** One call as it arrived, and what the receiver made of it. */
    public record Call(String path, String id, String timestamp, String signature, byte[] body, int answered,
            String refusal) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public boolean accepted() {
            return refusal == null && answered >= 200 && answered < 300;
        }
    }

    private final HttpServer server;
    private final Map<String, List<String>> secrets = new ConcurrentHashMap<>();
    private final Map<String, Integer> statuses = new ConcurrentHashMap<>();
    private final Set<String> seen = ConcurrentHashMap.newKeySet();
    private final List<Call> calls = new CopyOnWriteArrayList<>();

    public WebhookReceiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.start();
    }

    public String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    /** The secrets a path's signatures are checked against (during a rotation: both). */
    public void secrets(String path, String... pathSecrets) {
        secrets.put(path, List.of(pathSecrets));
    }

    public void answer(String path, int status) {
        statuses.put(path, status);
    }

    public List<Call> calls(String path) {
        return calls.stream().filter(c -> c.path().equals(path)).toList();
    }

    public List<Call> accepted(String path) {
        return calls(path).stream().filter(Call::accepted).toList();
    }

    private void handle(HttpExchange exchange) throws IOException {
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readAllBytes();
        }
        String path = exchange.getRequestURI().getPath();
        String id = exchange.getRequestHeaders().getFirst("webhook-id");
        String timestamp = exchange.getRequestHeaders().getFirst("webhook-timestamp");
        String signature = exchange.getRequestHeaders().getFirst("webhook-signature");
        String refusal = refusal(path, id, timestamp, signature, body);
        int status = refusal != null ? 400 : statuses.getOrDefault(path, 200);
        if (status >= 200 && status < 300) {
            // Taken: the same call again is a replay. A failed call is not remembered, so its retry is not refused.
            seen.add(id + "|" + timestamp);
        }
        calls.add(new Call(path, id, timestamp, signature, body, status, refusal));
        byte[] answer = (refusal == null ? "" : refusal).getBytes(StandardCharsets.UTF_8);
        if (status == 503 || status == 429) {
            exchange.getResponseHeaders().add("Retry-After", "0");
        }
        exchange.sendResponseHeaders(status, answer.length == 0 ? -1 : answer.length);
        if (answer.length > 0) {
            exchange.getResponseBody().write(answer);
        }
        exchange.close();
    }

    /** Why a receiver following the spec refuses the call, or null. */
    private String refusal(String path, String id, String timestamp, String signature, byte[] body) {
        if (id == null || timestamp == null || signature == null) {
            return "missing webhook headers";
        }
        long at;
        try {
            at = Long.parseLong(timestamp);
        } catch (NumberFormatException e) {
            return "unreadable timestamp";
        }
        if (Math.abs(Instant.now().getEpochSecond() - at) > TOLERANCE_SECONDS) {
            return "timestamp outside the tolerance";
        }
        byte[] signed = (id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8);
        boolean verified = false;
        for (String secret : secrets.getOrDefault(path, List.of())) {
            byte[] expected = hmac(secret, signed, body);
            for (String part : signature.split(" ")) {
                if (part.startsWith("v1,")
                        && MessageDigest.isEqual(expected, Base64.getDecoder().decode(part.substring(3)))) {
                    verified = true;
                }
            }
        }
        if (!verified) {
            return "no valid signature";
        }
        if (seen.contains(id + "|" + timestamp)) {
            return "replayed";
        }
        return null;
    }

    public static byte[] hmac(String secret, byte[] signedPrefix, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.substring("whsec_".length())), "HmacSHA256"));
            mac.update(signedPrefix);
            return mac.doFinal(body);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends a recorded call again, byte for byte, as an attacker who captured it would; returns the status. */
    public int resend(Call call) throws IOException, InterruptedException {
        java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(url(call.path())))
                .header("webhook-id", call.id()).header("webhook-timestamp", call.timestamp())
                .header("webhook-signature", call.signature()).header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(call.body())).build();
        return java.net.http.HttpClient.newHttpClient().send(request, java.net.http.HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    /** Every signature part of a call that one of the given secrets made. */
    public static List<String> signedBy(Call call, String... candidates) {
        List<String> out = new ArrayList<>();
        byte[] signed = (call.id() + "." + call.timestamp() + ".").getBytes(StandardCharsets.UTF_8);
        for (String secret : candidates) {
            byte[] expected = hmac(secret, signed, call.body());
            for (String part : call.signature().split(" ")) {
                if (MessageDigest.isEqual(expected, Base64.getDecoder().decode(part.substring(3)))) {
                    out.add(secret);
                }
            }
        }
        return out;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
