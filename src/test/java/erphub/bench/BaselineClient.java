package erphub.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.entity.UrlEncodedFormEntity;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.entity.FileEntity;
import org.apache.hc.core5.http.message.BasicNameValuePair;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.SftpException;

import erphub.testing.ProcessMemory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * The two systems erphub is measured against, each in a JVM of its own so that its CPU and memory are its own.
 * Both move the same bytes as erphub with the same client libraries (Apache HttpClient 5, the AWS SDK, JSch, the
 * Kafka producer): list each tenant's files, download each, put it in the S3 archive, post it to the ERP API,
 * upload it to the SFTP drop folder and send a Kafka record.
 * <ul>
 * <li>{@code legacy}: what the replaced FTP/Win32 client did, one file at a time, a new OAuth2 token for every
 * request, a new SFTP connection per file, no ledger.</li>
 * <li>{@code raw}: the floor. Every file at once on a pool of workers, one token per client, one SFTP session per
 * worker, no state, metrics or retries.</li>
 * </ul>
 * Arguments: {@code <mode> <settings.properties>}; prints one line {@code BASELINE-RESULT <json>}.
 */
public final class BaselineClient {

    static final String RESULT = "BASELINE-RESULT ";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final boolean legacy;
    private final Properties settings;
    private final CloseableHttpClient http;
    private final S3Client s3;
    private final KafkaProducer<String, String> kafka;
    private final JSch jsch = new JSch();
    private final Map<String, String> tokens = new ConcurrentHashMap<>();
    private final List<Long> latenciesNanos = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong files = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final Path scratch;
    /** Where the time of a file goes, per step (summed over all workers). */
    private final Map<String, AtomicLong> stepNanos = new ConcurrentHashMap<>();

    private BaselineClient(boolean legacy, Properties settings) throws IOException, JSchException {
        this.legacy = legacy;
        this.settings = settings;
        int workers = Integer.parseInt(settings.getProperty("workers", "16"));
        this.http = HttpClients.custom().setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                .setMaxConnTotal(workers * 2).setMaxConnPerRoute(workers * 2).build()).build();
        this.s3 = S3Client.builder().endpointOverride(URI.create(get("s3.endpoint"))).forcePathStyle(true)
                .region(Region.of(get("s3.region")))
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(get("s3.access-key"), get("s3.secret-key"))))
                .build();
        Properties producer = new Properties();
        producer.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, get("kafka.bootstrap-servers"));
        producer.put(ProducerConfig.ACKS_CONFIG, "all");
        if (legacy) {
            // one record at a time, each awaited: no batching delay (Kafka 4's default linger is 5 ms)
            producer.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        }
        producer.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        producer.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        this.kafka = new KafkaProducer<>(producer);
        jsch.setKnownHosts(get("sftp.known-hosts"));
        this.scratch = Files.createTempDirectory("baseline-");
    }

    public static void main(String[] args) throws Exception {
        Properties settings = new Properties();
        try (InputStream in = Files.newInputStream(Path.of(args[1]))) {
            settings.load(in);
        }
        BaselineClient client = new BaselineClient("legacy".equals(args[0]), settings);
        HeapSampler heap = HeapSampler.start();
        long cpuBefore = cpuNanos();
        long started = System.nanoTime();
        if (settings.getProperty("upstreams") != null) {
            client.pollEverything();
        } else {
            client.moveEverything();
        }
        long wall = System.nanoTime() - started;
        long cpu = cpuNanos() - cpuBefore;
        client.close();
        Map<String, Object> result = Map.of(
                "files", client.files.get(),
                "bytes", client.bytes.get(),
                "wallSeconds", wall / 1e9,
                "latenciesMillis", client.latenciesNanos.stream().map(n -> n / 1e6).toList(),
                "cpuSeconds", cpu / 1e9,
                "peakHeapBytes", heap.stop(),
                "peakRssKiB", ProcessMemory.peakResidentKiB("self"),
                "stepSeconds", new java.util.TreeMap<>(client.stepNanos.entrySet().stream()
                        .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> e.getValue().get() / 1e9))));
        System.out.println(RESULT + JSON.writeValueAsString(result));
        System.exit(0);
    }

    /** Workloads (a) and (b): every listed file to all four destinations. */
    private void moveEverything() throws Exception {
        List<String> tenants = List.of(get("tenants").split(","));
        if (legacy) {
            for (String tenant : tenants) {
                for (Listed file : list(tenant, token(tenant + "-payroll"))) {
                    move(file, token(tenant + "-payroll"), token(tenant + "-erp"), null);
                }
            }
            return;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Integer.parseInt(get("workers")));
        ThreadLocal<Session> sessions = new ThreadLocal<>();
        List<Session> opened = Collections.synchronizedList(new ArrayList<>());
        List<Future<?>> work = new ArrayList<>();
        for (String tenant : tenants) {
            work.add(pool.submit(() -> {
                for (Listed file : list(tenant, token(tenant + "-payroll"))) {
                    synchronized (work) {
                        work.add(pool.submit(() -> {
                            Session session = sessions.get();
                            if (session == null) {
                                session = sftpSession();
                                sessions.set(session);
                                opened.add(session);
                            }
                            move(file, token(tenant + "-payroll"), token(tenant + "-erp"), session);
                            return null;
                        }));
                    }
                }
                return null;
            }));
        }
        for (int i = 0; ; i++) {
            Future<?> next;
            synchronized (work) {
                if (i == work.size()) {
                    break;
                }
                next = work.get(i);
            }
            next.get();
        }
        pool.shutdown();
        pool.awaitTermination(1, TimeUnit.MINUTES);
        opened.forEach(Session::disconnect);
    }

    /** Workload (c): every (tenant, upstream) pair listed once; nothing new anywhere. */
    private void pollEverything() throws Exception {
        List<String> tenants = List.of(get("tenants").split(","));
        int upstreams = Integer.parseInt(get("upstreams"));
        if (legacy) {
            for (String tenant : tenants) {
                for (int u = 0; u < upstreams; u++) {
                    poll(tenant);
                }
            }
            return;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Integer.parseInt(get("workers")));
        List<Future<?>> work = new ArrayList<>();
        for (String tenant : tenants) {
            for (int u = 0; u < upstreams; u++) {
                work.add(pool.submit(() -> {
                    poll(tenant);
                    return null;
                }));
            }
        }
        for (Future<?> f : work) {
            f.get();
        }
        pool.shutdown();
    }

    private void poll(String tenant) throws IOException {
        long started = System.nanoTime();
        List<Listed> found = list(tenant, token(tenant + "-payroll"));
        if (!found.isEmpty()) {
            throw new IllegalStateException("the steady-state poll found files for " + tenant);
        }
        latenciesNanos.add(System.nanoTime() - started);
        files.incrementAndGet();
    }

    private long step(String name, long since) {
        long now = System.nanoTime();
        stepNanos.computeIfAbsent(name, k -> new AtomicLong()).addAndGet(now - since);
        return now;
    }

    private record Listed(String tenant, String id, String name, long size, String sha256, String link, long listedAt) {
    }

    private List<Listed> list(String tenant, String token) throws IOException {
        HttpGet get = new HttpGet(get("upstream.base-url") + "/v2/tenants/" + tenant + "/exports?status=ready");
        get.setHeader("Authorization", "Bearer " + token);
        JsonNode body = http.execute(get, response -> {
            if (response.getCode() != 200) {
                throw new IOException("list of " + tenant + ": HTTP " + response.getCode());
            }
            return JSON.readTree(EntityUtils.toString(response.getEntity()));
        });
        long now = System.nanoTime();
        List<Listed> out = new ArrayList<>();
        for (JsonNode item : body.path("exports")) {
            out.add(new Listed(tenant, item.path("exportId").asText(), item.path("fileName").asText(),
                    item.path("byteSize").asLong(), item.path("sha256").asText(),
                    item.path("links").path("content").asText(), now));
        }
        return out;
    }

    /** One file: download (checked against its listed checksum), archive, ERP API, SFTP, Kafka. */
    private void move(Listed file, String upstreamToken, String erpToken, Session pooled) throws Exception {
        long t = System.nanoTime();
        Path local = scratch.resolve(file.id());
        HttpGet download = new HttpGet(URI.create(get("upstream.base-url")).resolve(file.link()));
        download.setHeader("Authorization", "Bearer " + upstreamToken);
        String sha256 = http.execute(download, response -> {
            if (response.getCode() != 200) {
                throw new IOException("download of " + file.id() + ": HTTP " + response.getCode());
            }
            MessageDigest digest = sha256();
            try (InputStream in = new DigestInputStream(response.getEntity().getContent(), digest);
                    OutputStream out = Files.newOutputStream(local)) {
                in.transferTo(out);
            }
            return HexFormat.of().formatHex(digest.digest());
        });
        if (!sha256.equals(file.sha256())) {
            throw new IllegalStateException(file.id() + " arrived with another checksum");
        }
        t = step("download", t);
        String key = file.tenant() + "/payroll-exports/" + file.id() + "/" + file.name();
        s3.putObject(PutObjectRequest.builder().bucket(get("s3.bucket")).key(key).build(), RequestBody.fromFile(local));
        t = step("s3", t);

        HttpPost erp = new HttpPost(get("erp.base-url") + "/imports/payroll/" + file.tenant());
        erp.setHeader("Authorization", "Bearer " + erpToken);
        erp.setHeader("Idempotency-Key", file.tenant() + ":payroll-exports:" + file.id() + ":1:erp-api");
        erp.setHeader("X-Erphub-Tenant", file.tenant());
        erp.setHeader("X-Erphub-File-Name", URLEncoder.encode(file.name(), StandardCharsets.UTF_8));
        erp.setEntity(new FileEntity(local.toFile(), ContentType.APPLICATION_OCTET_STREAM));
        http.execute(erp, response -> {
            if (response.getCode() / 100 != 2) {
                throw new IOException("ERP import of " + file.id() + ": HTTP " + response.getCode());
            }
            EntityUtils.consume(response.getEntity());
            return null;
        });
        t = step("erp", t);

        Session session = pooled != null ? pooled : sftpSession();
        t = step("sftp-connect", t);
        try {
            upload(session, file.tenant() + "/payroll-exports", file.name(), local);
        } finally {
            if (pooled == null) {
                session.disconnect();
            }
        }
        t = step("sftp-upload", t);
        kafka.send(new ProducerRecord<>(get("kafka.topic"), file.tenant(), "{\"tenant\":\"" + file.tenant()
                + "\",\"remoteId\":\"" + file.id() + "\",\"archiveKey\":\"" + key + "\",\"sha256\":\"" + sha256 + "\"}"))
                .get();
        step("kafka", t);
        Files.delete(local);
        latenciesNanos.add(System.nanoTime() - file.listedAt());
        files.incrementAndGet();
        bytes.addAndGet(file.size());
    }

    private Session sftpSession() throws JSchException {
        Session session = jsch.getSession(get("sftp.username"), get("sftp.host"), Integer.parseInt(get("sftp.port")));
        session.setPassword(get("sftp.password"));
        session.setConfig("StrictHostKeyChecking", "yes");
        session.setConfig("PreferredAuthentications", "password");
        // The key exchange the replaced clients had (OpenSSH's default before 9.0), and none of JSch's start-up probe
        // of every key exchange it knows: with Bouncy Castle on the class path that probe generates an sntrup761
        // key pair in pure Java, about 80 ms of CPU per connection (JFR), which no other SFTP client pays.
        session.setConfig("kex", "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256");
        session.setConfig("CheckKexes", "");
        session.connect(10_000);
        return session;
    }

    private static void upload(Session session, String folder, String name, Path local) throws JSchException, SftpException {
        ChannelSftp sftp = (ChannelSftp) session.openChannel("sftp");
        sftp.connect(10_000);
        try {
            String path = "";
            for (String part : folder.split("/")) {
                path = path.isEmpty() ? part : path + "/" + part;
                try {
                    sftp.stat(path);
                } catch (SftpException missing) {
                    try {
                        sftp.mkdir(path);
                    } catch (SftpException raced) {
                        sftp.stat(path);
                    }
                }
            }
            String part = folder + "/.part-" + name;
            sftp.put(local.toString(), part);
            sftp.rename(part, folder + "/" + name);
        } finally {
            sftp.disconnect();
        }
    }

    /** legacy: a new token for every request; raw: one per client for the whole run. */
    private String token(String client) throws IOException {
        if (legacy) {
            return requestToken(client);
        }
        try {
            return tokens.computeIfAbsent(client, c -> {
                try {
                    return requestToken(c);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private String requestToken(String client) throws IOException {
        long t = System.nanoTime();
        try {
            return requestTokenNow(client);
        } finally {
            step("token", t);
        }
    }

    private String requestTokenNow(String client) throws IOException {
        HttpPost post = new HttpPost(get("token-url"));
        post.setEntity(new UrlEncodedFormEntity(List.of(new BasicNameValuePair("grant_type", "client_credentials"),
                new BasicNameValuePair("client_id", client), new BasicNameValuePair("client_secret", "bench-" + client))));
        return http.execute(post, response -> {
            if (response.getCode() != 200) {
                throw new IOException("token for " + client + ": HTTP " + response.getCode());
            }
            return JSON.readTree(EntityUtils.toString(response.getEntity())).path("access_token").asText();
        });
    }

    private String get(String key) {
        String value = settings.getProperty(key);
        if (value == null) {
            throw new IllegalArgumentException("missing setting " + key);
        }
        return value;
    }

    private void close() throws IOException {
        kafka.close();
        s3.close();
        http.close();
        Files.deleteIfExists(scratch);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** Heap in use, sampled every 100 ms: the same measure the harness takes of erphub through Jolokia. */
    static final class HeapSampler {
        private final AtomicLong peak = new AtomicLong();
        private final java.util.concurrent.ScheduledExecutorService timer =
                Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "heap-sampler");
                    t.setDaemon(true);
                    return t;
                });

        static HeapSampler start() {
            HeapSampler s = new HeapSampler();
            s.timer.scheduleAtFixedRate(() -> s.peak.accumulateAndGet(
                    ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max), 0, 100,
                    TimeUnit.MILLISECONDS);
            return s;
        }

        long stop() {
            timer.shutdownNow();
            return peak.get();
        }
    }
}
