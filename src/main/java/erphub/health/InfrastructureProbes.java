package erphub.health;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.apache.camel.CamelContext;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.aws2.s3.AWS2S3Constants;
import org.apache.camel.component.kafka.KafkaEndpoint;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.jboss.logging.Logger;

import erphub.config.ErphubConfig;
import io.quarkus.runtime.StartupEvent;

/**
 * The distributed parts the prod profile runs on, probed in the background: the S3 archive bucket (a HEAD of the
 * bucket through the archive's own Camel endpoint, so with its endpoint, region and credentials) and each Kafka
 * cluster erphub's endpoints name (a describe-cluster with the endpoint's own client settings). Readiness reads the
 * last answer, so a probe never holds up the load balancer's poll. In the embedded default there is nothing to
 * probe (local archive, in-process queues) and both checks are UP.
 */
@ApplicationScoped
public class InfrastructureProbes {

    private static final Logger LOG = Logger.getLogger(InfrastructureProbes.class);
    public static final String ARCHIVE = "erphub-archive";
    public static final String KAFKA = "erphub-kafka";

    /** The last answer of one probe. */
    public record Result(boolean up, Instant at, String detail) {
    }

    private interface Probe {
        String describe();

        void run() throws Exception;
    }

    private final ErphubConfig config;
    private final CamelContext camel;
    private final ProducerTemplate producer;
    private final Map<String, List<Probe>> probes = new LinkedHashMap<>();
    private final Map<Probe, Result> results = new ConcurrentHashMap<>();
    private final Map<Probe, AtomicBoolean> running = new ConcurrentHashMap<>();
    private final List<Admin> admins = new ArrayList<>();
    private ScheduledExecutorService timer;
    private ExecutorService workers;

    public InfrastructureProbes(ErphubConfig config, CamelContext camel, ProducerTemplate producer) {
        this.config = config;
        this.camel = camel;
        this.producer = producer;
    }

    void start(@Observes StartupEvent event) {
        probes.put(ARCHIVE, archiveProbes());
        probes.put(KAFKA, kafkaProbes());
        if (probes.values().stream().allMatch(List::isEmpty)) {
            return;
        }
        workers = Executors.newCachedThreadPool(r -> new Thread(r, "erphub-readiness-probe"));
        timer = Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "erphub-readiness"));
        timer.scheduleWithFixedDelay(this::probeAll, 0, config.readiness().probeInterval().toMillis(), TimeUnit.MILLISECONDS);
    }

    @PreDestroy
    void stop() {
        if (timer != null) {
            timer.shutdownNow();
            workers.shutdownNow();
        }
        admins.forEach(a -> a.close(Duration.ofSeconds(1)));
    }

    /** UP when every probe of the check answered its last time; the details say which failed and why. */
    public Result result(String check) {
        List<Probe> of = probes.getOrDefault(check, List.of());
        if (of.isEmpty()) {
            return new Result(true, Instant.now(), "not used by this profile");
        }
        boolean up = true;
        List<String> details = new ArrayList<>();
        for (Probe p : of) {
            Result r = results.get(p);
            if (r == null) {
                up = false;
                details.add(p.describe() + ": not probed yet");
            } else {
                up &= r.up();
                details.add(p.describe() + ": " + (r.up() ? "UP" : "DOWN") + " at " + r.at() + (r.detail() == null ? "" : ", " + r.detail()));
            }
        }
        return new Result(up, Instant.now(), String.join("; ", details));
    }

    private void probeAll() {
        probes.values().forEach(list -> list.forEach(this::probe));
    }

    private void probe(Probe p) {
        AtomicBoolean busy = running.computeIfAbsent(p, k -> new AtomicBoolean());
        if (!busy.compareAndSet(false, true)) {
            results.put(p, new Result(false, Instant.now(), "the previous probe has not answered yet"));
            return;
        }
        CompletableFuture<Void> answer = CompletableFuture.runAsync(() -> {
            try {
                p.run();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, workers).whenComplete((v, e) -> busy.set(false));
        Result previous = results.get(p);
        Result now;
        try {
            answer.get(config.readiness().probeTimeout().toMillis(), TimeUnit.MILLISECONDS);
            now = new Result(true, Instant.now(), null);
        } catch (TimeoutException e) {
            now = new Result(false, Instant.now(), "no answer within " + config.readiness().probeTimeout());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (Exception e) {
            now = new Result(false, Instant.now(), rootMessage(e));
        }
        results.put(p, now);
        if (previous == null || previous.up() != now.up()) {
            if (now.up()) {
                LOG.infof("Readiness: %s answers", p.describe());
            } else {
                LOG.warnf("Readiness: %s is DOWN (%s)", p.describe(), now.detail());
            }
        }
    }

    private List<Probe> archiveProbes() {
        String uri = config.archive().uri();
        if (!uri.startsWith("aws2-s3:")) {
            return List.of();
        }
        String bucket = uri.substring("aws2-s3:".length()).replaceFirst("^//", "").replaceFirst("\\?.*", "");
        Endpoint head = camel.getEndpoint(uri + (uri.contains("?") ? "&" : "?") + "operation=headBucket");
        return List.of(new Probe() {
            @Override
            public String describe() {
                return "S3 archive bucket " + bucket;
            }

            @Override
            public void run() throws Exception {
                Exchange answer = producer.send(head, e -> e.getIn().setHeader(AWS2S3Constants.OVERRIDE_BUCKET_NAME, bucket));
                if (answer.getException() != null) {
                    throw answer.getException();
                }
            }
        });
    }

    /** One probe per Kafka cluster that erphub's endpoints use. */
    private List<Probe> kafkaProbes() {
        List<String> uris = new ArrayList<>(List.of(config.intake().handoffUri(), config.intake().relayUri(),
                config.destinations().kafka().uri(), config.events().uri()));
        config.delivery().deadLetterUri().ifPresent(uris::add);
        Map<String, Properties> clusters = new LinkedHashMap<>();
        for (String uri : uris) {
            if (uri == null || !uri.startsWith("kafka:")) {
                continue;
            }
            KafkaEndpoint endpoint = camel.getEndpoint(uri, KafkaEndpoint.class);
            String brokers = Optional.ofNullable(endpoint.getKafkaClientFactory())
                    .map(f -> f.getBrokers(endpoint.getConfiguration())).orElse(endpoint.getConfiguration().getBrokers());
            Properties client = new Properties();
            endpoint.getConfiguration().createProducerProperties().forEach((k, v) -> {
                if (AdminClientConfig.configNames().contains(String.valueOf(k))) {
                    client.put(k, v);
                }
            });
            client.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
            client.put(AdminClientConfig.CLIENT_ID_CONFIG, "erphub-readiness");
            client.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) config.readiness().probeTimeout().toMillis());
            client.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) config.readiness().probeTimeout().toMillis());
            clusters.putIfAbsent(brokers, client);
        }
        List<Probe> out = new ArrayList<>();
        clusters.forEach((brokers, client) -> out.add(new Probe() {
            private Admin admin;

            @Override
            public String describe() {
                return "Kafka cluster " + brokers;
            }

            @Override
            public void run() throws Exception {
                synchronized (this) {
                    if (admin == null) {
                        admin = Admin.create(client);
                        synchronized (admins) {
                            admins.add(admin);
                        }
                    }
                }
                int nodes = admin.describeCluster().nodes().get(config.readiness().probeTimeout().toMillis(),
                        TimeUnit.MILLISECONDS).size();
                if (nodes == 0) {
                    throw new IllegalStateException("the cluster reports no broker");
                }
            }
        }));
        return out;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
