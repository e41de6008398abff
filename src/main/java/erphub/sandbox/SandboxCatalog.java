package erphub.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The sample files the simulated upstreams serve, kept under {@code <data>/sandbox/upstream/<upstream>/<tenant>/}
 * so that a restart serves the same files (and erphub's ledger recognises them). Payroll exports are CSV,
 * supplier invoices JSON; numbering goes on from the files already there.
 */
final class SandboxCatalog {

    static final String PAYROLL = "payroll-exports";
    static final String INVOICES = "supplier-invoices";
    /**
     * The one file whose listed checksum is wrong: erphub rejects it. The upstream corrects its list once the file
     * has been downloaded, so an operator can have it processed again (see the README's quick start).
     */
    static final String MALFORMED = "inv-000003";

    record SampleFile(String tenant, String upstream, String id, String name, Path path) {
        long size() {
            try {
                return Files.size(path);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        byte[] bytes() {
            try {
                return Files.readAllBytes(path);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        String digest(String algorithm) {
            try {
                return java.util.HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(bytes()));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        /** The MD5 as the upstream lists it: wrong for {@link #MALFORMED} until the upstream has corrected it. */
        String md5Base64(boolean corrected) {
            try {
                byte[] md5 = MessageDigest.getInstance("MD5").digest(bytes());
                if (id.equals(MALFORMED) && !corrected) {
                    md5[0] ^= 1;
                }
                return java.util.Base64.getEncoder().encodeToString(md5);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private final Path root;
    private final AtomicLong sequence = new AtomicLong();

    SandboxCatalog(Path root) throws IOException {
        this.root = Files.createDirectories(root);
        try (Stream<Path> all = Files.walk(root)) {
            sequence.set(all.filter(Files::isRegularFile).count());
        }
    }

    /** Adds one sample file of the upstream for the tenant. */
    synchronized SampleFile add(String tenant, String upstream) throws IOException {
        long n = sequence.incrementAndGet();
        Path folder = Files.createDirectories(root.resolve(upstream).resolve(tenant));
        Random random = new Random(n * 31 + tenant.hashCode());
        String id;
        String name;
        String content;
        if (upstream.equals(PAYROLL)) {
            id = String.format("exp-%06d", n);
            name = String.format("payroll-%s-%06d.csv", tenant, n);
            StringBuilder csv = new StringBuilder("employee_id;period;gross;net\n");
            for (int i = 0, rows = 5 + random.nextInt(20); i < rows; i++) {
                int gross = 2500 + random.nextInt(5000);
                csv.append(String.format("E%05d;2026-11;%d.00;%d.00%n", random.nextInt(99999), gross, gross * 62 / 100));
            }
            content = csv.toString();
        } else {
            id = String.format("inv-%06d", n);
            name = String.format("invoice-%s-%06d.json", tenant, n);
            content = String.format("{\"invoice\":\"%s\",\"supplier\":\"SUP-%04d\",\"currency\":\"EUR\",\"total\":%d.%02d,"
                    + "\"lines\":%d}%n", id, random.nextInt(9999), 100 + random.nextInt(90000), random.nextInt(100),
                    1 + random.nextInt(12));
        }
        Path file = folder.resolve(id + "__" + name);
        Files.writeString(file, content, StandardCharsets.UTF_8);
        return new SampleFile(tenant, upstream, id, name, file);
    }

    /** The files of one tenant and upstream, oldest first. */
    List<SampleFile> list(String tenant, String upstream) {
        Path folder = root.resolve(upstream).resolve(tenant);
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(p -> p.getFileName().toString().contains("__")).sorted().map(p -> {
                String[] parts = p.getFileName().toString().split("__", 2);
                return new SampleFile(tenant, upstream, parts[0], parts[1], p);
            }).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    SampleFile find(String tenant, String upstream, String id) {
        return list(tenant, upstream).stream().filter(f -> f.id().equals(id)).findFirst().orElse(null);
    }
}
