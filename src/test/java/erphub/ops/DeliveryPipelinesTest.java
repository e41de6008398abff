package erphub.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import erphub.testing.BesideTheApplication;

/**
 * The delivery pipelines (azure-pipelines.yml, .github/workflows/ci.yml) against the README and docs/operations.md
 * they automate: each runs
 * the README's test command, the native sources-only check, builds the JVM image (the native one only where a builder
 * is configured), renders both kustomize overlays, and deploys dev, then prod after a manual approval, through the
 * blue-green script. The script's decisions are checked with a recording kubectl, so no cluster (and no kubectl) is
 * needed here.
 */
@BesideTheApplication
class DeliveryPipelinesTest {

    static final Path AZURE = Path.of("azure-pipelines.yml");
    static final Path GITHUB = Path.of(".github/workflows/ci.yml");
    static final Path DEPLOY = Path.of("kubernetes/blue-green/deploy.sh");

    /** The README's commands and the native check of docs/operations.md, as a reader copies them. */
    record Readme(String test, String pack, String nativeSources) {
        static Readme read() throws IOException {
            String readme = Files.readString(Path.of("README.md"));
            Matcher test = Pattern.compile("# run the tests[^\\n]*\\n(\\./mvnw [^\\n]+)\\n").matcher(readme);
            assertTrue(test.find(), "the README's test command");
            Matcher pack = Pattern.compile("\\n(\\./mvnw package -DskipTests) && java ").matcher(readme);
            assertTrue(pack.find(), "the README's package command");
            Matcher nativeSources = Pattern.compile("`(\\./mvnw package -Dnative -Dquarkus\\.native\\.sources-only=true -DskipTests)`")
                    .matcher(Files.readString(Path.of("docs/operations.md")));
            assertTrue(nativeSources.find(), "the native sources-only check of docs/operations.md");
            return new Readme(test.group(1), pack.group(1), nativeSources.group(1));
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> yaml(Path file) throws IOException {
        return (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(Files.readString(file));
    }

    @SuppressWarnings("unchecked")
    static <T> T get(Object node, String... path) {
        Object current = node;
        for (String step : path) {
            assertTrue(current instanceof Map, "missing " + String.join(".", path));
            current = ((Map<String, Object>) current).get(step);
            assertNotNull(current, "missing " + String.join(".", path));
        }
        return (T) current;
    }

    /** Every shell command of a job (run: / script: steps), split into single commands. */
    @SuppressWarnings("unchecked")
    static List<String> commands(Object steps) {
        List<String> out = new ArrayList<>();
        for (Map<String, Object> step : (List<Map<String, Object>>) steps) {
            Object script = step.containsKey("run") ? step.get("run") : step.get("script");
            if (script instanceof String text) {
                for (String command : text.split("\\n|&&|;")) {
                    String c = command.strip().replaceAll("^['\"]|['\"]$", "").strip();
                    if (!c.isEmpty()) {
                        out.add(c);
                    }
                }
            }
        }
        return out;
    }

    /** One job of either pipeline: its commands, what it waits for, its condition and its approval. */
    record Job(String name, List<String> commands, Set<String> needs, String condition, String environment,
            boolean manualValidation) {
        boolean runs(String command) {
            return commands.stream().anyMatch(c -> c.equals(command) || c.startsWith(command + " "));
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Job> githubJobs() throws IOException {
        Map<String, Job> jobs = new LinkedHashMap<>();
        Map<String, Object> defined = get(yaml(GITHUB), "jobs");
        defined.forEach((name, value) -> {
            Map<String, Object> job = (Map<String, Object>) value;
            Object needs = job.get("needs");
            Set<String> after = needs == null ? Set.of() : needs instanceof String one ? Set.of(one) : Set.copyOf((List<String>) needs);
            Object environment = job.get("environment");
            String env = environment instanceof Map<?, ?> m ? (String) m.get("name") : (String) environment;
            jobs.put(name, new Job(name, commands(job.get("steps")), after, (String) job.get("if"), env, false));
        });
        return jobs;
    }

    /** Azure's jobs, each waiting for every job of the stages its stage depends on (the previous one by default). */
    @SuppressWarnings("unchecked")
    static Map<String, Job> azureJobs() throws IOException {
        Map<String, Job> jobs = new LinkedHashMap<>();
        Map<String, List<String>> jobsOfStage = new LinkedHashMap<>();
        String previous = null;
        for (Map<String, Object> stage : (List<Map<String, Object>>) get(yaml(AZURE), "stages")) {
            String stageName = (String) stage.get("stage");
            Object dependsOn = stage.containsKey("dependsOn") ? stage.get("dependsOn") : previous;
            List<String> stages = dependsOn == null ? List.of() : dependsOn instanceof String one ? List.of(one)
                    : (List<String>) dependsOn;
            Set<String> after = new HashSet<>();
            stages.forEach(st -> after.addAll(jobsOfStage.get(st)));
            for (Map<String, Object> job : (List<Map<String, Object>>) stage.get("jobs")) {
                String name = stageName + "." + (job.containsKey("job") ? job.get("job") : job.get("deployment"));
                Object steps = job.containsKey("steps") ? job.get("steps") : get(job, "strategy", "runOnce", "deploy", "steps");
                boolean validation = ((List<Map<String, Object>>) steps).stream()
                        .anyMatch(step -> String.valueOf(step.get("task")).startsWith("ManualValidation@"));
                List<String> conditions = new ArrayList<>();
                for (Object condition : new Object[] {stage.get("condition"), job.get("condition")}) {
                    if (condition != null) {
                        conditions.add((String) condition);
                    }
                }
                jobs.put(name, new Job(name, commands(steps), after, conditions.isEmpty() ? null : String.join("; ", conditions),
                        (String) job.get("environment"), validation));
                jobsOfStage.computeIfAbsent(stageName, k -> new ArrayList<>()).add(name);
            }
            previous = stageName;
        }
        return jobs;
    }

    static Job runningOne(Map<String, Job> jobs, String command) {
        List<Job> found = jobs.values().stream().filter(j -> j.runs(command)).toList();
        assertEquals(1, found.size(), "one job runs '" + command + "': " + found.stream().map(Job::name).toList());
        return found.get(0);
    }

    /** Does {@code job} come after {@code earlier}, through its needs? */
    static boolean after(Map<String, Job> jobs, Job job, Job earlier) {
        Set<String> seen = new HashSet<>();
        List<String> todo = new ArrayList<>(job.needs());
        while (!todo.isEmpty()) {
            String name = todo.remove(0);
            if (name.equals(earlier.name())) {
                return true;
            }
            if (seen.add(name)) {
                todo.addAll(jobs.get(name).needs());
            }
        }
        return false;
    }

    void checkPipeline(String which, Map<String, Job> jobs) throws IOException {
        Readme readme = Readme.read();
        Job test = runningOne(jobs, readme.test());
        Job nativeSources = runningOne(jobs, readme.nativeSources());
        assertTrue(nativeSources.condition() == null || nativeSources.condition().isBlank(),
                which + ": the sources-only native check needs no builder and always runs: " + nativeSources.condition());
        List<String> nativeSteps = nativeSources.commands();
        int built = nativeSteps.indexOf(readme.nativeSources());
        assertTrue(built >= 0 && nativeSteps.subList(built, nativeSteps.size()).contains(".ci/native-sources-check"),
                which + ": what the native-image inputs hold is checked after they are generated: " + nativeSteps);
        assertTrue(Files.isExecutable(Path.of(".ci/native-sources-check")));

        Job jvm = runningOne(jobs, "docker build -f src/main/docker/Dockerfile.jvm");
        assertTrue(jvm.runs(readme.pack()), which + ": the image is built from the README's package command");
        assertTrue(Files.isRegularFile(Path.of("src/main/docker/Dockerfile.jvm")));
        assertTrue(jvm == test || after(jobs, jvm, test), which + ": the image only after the tests");

        Job nativeImage = runningOne(jobs, "docker build -f src/main/docker/Dockerfile.native");
        assertTrue(nativeImage.runs("./mvnw package -Dnative -DskipTests"), which);
        assertTrue(nativeImage.condition() != null && nativeImage.condition().toLowerCase().contains("native"),
                which + ": the native image is built only where a builder is configured: " + nativeImage.condition());
        assertNotEquals(jvm.condition(), nativeImage.condition());

        for (String overlay : List.of("kubernetes/overlays/dev", "kubernetes/overlays/prod")) {
            runningOne(jobs, "kubectl kustomize " + overlay);
            assertTrue(Files.isRegularFile(Path.of(overlay, "kustomization.yaml")), overlay);
        }
        Job render = runningOne(jobs, "kubectl kustomize kubernetes/overlays/prod");

        Job dev = runningOne(jobs, DEPLOY + " kubernetes/overlays/dev");
        Job prod = runningOne(jobs, DEPLOY + " kubernetes/overlays/prod");
        assertTrue(after(jobs, dev, jvm) && after(jobs, dev, render) && after(jobs, dev, test), which + ": dev after image and render");
        assertTrue(after(jobs, prod, dev), which + ": prod after dev");
        assertNotNull(dev.environment(), which + ": dev deploys through an environment");
        assertNotNull(prod.environment(), which + ": prod deploys through an environment");
        assertNotEquals(dev.environment(), prod.environment());
        // The manual approval before prod: a ManualValidation stage between dev and prod (Azure), or the prod
        // environment's required reviewers (GitHub; set on the environment, see docs/operations.md).
        boolean approval = jobs.values().stream().anyMatch(j -> j.manualValidation() && after(jobs, j, dev) && after(jobs, prod, j))
                || which.equals("github") && prod.environment().equals("prod");
        assertTrue(approval, which + ": a manual approval between dev and prod");
        assertTrue(dev.condition() != null && dev.condition().toLowerCase().contains("main"), which + ": only main is deployed");
    }

    @Test
    void theAzurePipelineRunsTheReadmesCommandsAndDeploysDevThenProdAfterApproval() throws IOException {
        checkPipeline("azure", azureJobs());
    }

    @Test
    void theGithubWorkflowRunsTheReadmesCommandsAndDeploysDevThenProdAfterApproval() throws IOException {
        checkPipeline("github", githubJobs());
    }

    @Test
    void ciRunsTheSameTestCommandAsTheReadmeAndThePipelines() throws IOException {
        assertTrue(Files.readAllLines(Path.of(".ci/run")).contains(Readme.read().test()));
    }

    @Test
    @SuppressWarnings("unchecked")
    void eachColourRenamesTheWorkloadAndLabelsItsPodsAndEachLiveComponentPointsTheService() throws IOException {
        for (String colour : List.of("blue", "green")) {
            Map<String, Object> component = yaml(Path.of("kubernetes/blue-green", colour, "kustomization.yaml"));
            assertEquals("Component", component.get("kind"));
            Map<String, String> patched = new LinkedHashMap<>();
            for (Map<String, Object> patch : (List<Map<String, Object>>) component.get("patches")) {
                patched.put(get(patch, "target", "kind"), get(patch, "patch"));
            }
            assertEquals(Set.of("Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget"), patched.keySet());
            assertTrue(patched.get("Deployment").contains("{op: replace, path: /metadata/name, value: erphub-" + colour + "}"));
            assertTrue(patched.get("Deployment").contains("/spec/selector/matchLabels/erphub.io~1colour, value: " + colour));
            assertTrue(patched.get("Deployment").contains("/spec/template/metadata/labels/erphub.io~1colour, value: " + colour));
            assertTrue(patched.get("HorizontalPodAutoscaler").contains("/spec/scaleTargetRef/name, value: erphub-" + colour));
            assertTrue(patched.get("PodDisruptionBudget").contains("/spec/selector/matchLabels/erphub.io~1colour, value: " + colour));

            Map<String, Object> live = yaml(Path.of("kubernetes/blue-green", "live-" + colour, "kustomization.yaml"));
            Map<String, Object> patch = ((List<Map<String, Object>>) live.get("patches")).get(0);
            assertEquals("Service", get(patch, "target", "kind"));
            assertTrue(((String) get(patch, "patch")).contains("/spec/selector/erphub.io~1colour, value: " + colour));
        }
    }

    // ---------------------------------------------------------------- the blue-green switch

    /** deploy.sh run against a kubectl that records every call and answers like a cluster in a given state. */
    record Run(int exit, String output, List<String> calls, List<String> applied) {
    }

    @TempDir
    Path tmp;

    Run deploy(String live, boolean rolloutSucceeds, String previousImage, String... args) throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path kubectl = bin.resolve("kubectl");
        Files.writeString(kubectl, String.join("\n",
                "#!/usr/bin/env bash",
                "echo \"$*\" >> \"$FAKE_LOG\"",
                "case \"$1\" in",
                "  kustomize)",
                "    printf 'kind: Deployment\\nmetadata:\\n  name: erphub\\n  namespace: erphub-test\\n'",
                "    sed 's/^/# /' \"$2/kustomization.yaml\" ;;",
                "  apply) { cat; echo '---'; } >> \"$FAKE_APPLIED\" ;;",
                "  --namespace)",
                "    shift 2",
                "    case \"$1 $2\" in",
                "      'get service') printf '%s' \"$FAKE_LIVE\" ;;",
                "      'get deployment') printf '%s' \"$FAKE_PREVIOUS_IMAGE\" ;;",
                "      'rollout status') exit \"$FAKE_ROLLOUT_EXIT\" ;;",
                "    esac ;;",
                "esac",
                ""), StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(kubectl, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path log = tmp.resolve("calls.log");
        Path applied = tmp.resolve("applied.yaml");
        Files.deleteIfExists(log);
        Files.deleteIfExists(applied);
        List<String> command = new ArrayList<>(List.of("bash", DEPLOY.toString()));
        command.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.environment().put("FAKE_LOG", log.toString());
        pb.environment().put("FAKE_APPLIED", applied.toString());
        pb.environment().put("FAKE_LIVE", live);
        pb.environment().put("FAKE_PREVIOUS_IMAGE", previousImage);
        pb.environment().put("FAKE_ROLLOUT_EXIT", rolloutSucceeds ? "0" : "1");
        Process process = pb.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        List<String> calls = Files.exists(log) ? Files.readAllLines(log) : List.of();
        List<String> docs = Files.exists(applied) ? Arrays.stream(Files.readString(applied).split("(?m)^---$"))
                .filter(d -> !d.isBlank()).toList() : List.of();
        try (var left = Files.list(DEPLOY.getParent())) {
            assertEquals(List.of(), left.filter(p -> p.getFileName().toString().startsWith(".render.")).toList(),
                    "no render folder left behind");
        }
        return new Run(process.exitValue(), output, calls, docs);
    }

    /** The calls other than rendering, in order, without the namespace flag. */
    static List<String> clusterCalls(Run run) {
        return run.calls().stream().filter(c -> !c.startsWith("kustomize")).map(c -> c.replace("--namespace erphub-test ", ""))
                .toList();
    }

    @Test
    void aReleaseGoesToTheIdleColourAndTheServiceSwitchesOnlyOnceItIsReady() throws Exception {
        Run run = deploy("blue", true, "", "kubernetes/overlays/dev", "registry.example.com/erphub:2.0.0");
        assertEquals(0, run.exit(), run.output());
        assertEquals(List.of(
                "get service erphub --ignore-not-found -o jsonpath={.spec.selector.erphub\\.io/colour}",
                "apply -f -",
                "rollout status deployment/erphub-green --timeout=600s",
                "apply -f -",
                "delete horizontalpodautoscaler erphub-blue --ignore-not-found",
                "scale deployment erphub-blue --replicas=0"), clusterCalls(run));
        assertEquals(2, run.applied().size());
        assertTrue(run.applied().get(0).contains("components: [\"../green\", \"../live-blue\"]"), run.applied().get(0));
        assertTrue(run.applied().get(1).contains("components: [\"../green\", \"../live-green\"]"), run.applied().get(1));
        for (String doc : run.applied()) {
            assertTrue(doc.contains("value: \"registry.example.com/erphub:2.0.0\"}"), doc);
            assertTrue(doc.contains("resources: [\"../../overlays/dev\"]"), doc);
        }
    }

    @Test
    void aReleaseThatNeverBecomesReadyIsStoppedAndTheLiveColourKeepsTheService() throws Exception {
        Run run = deploy("green", false, "", "kubernetes/overlays/prod", "registry.example.com/erphub:2.0.1");
        assertNotEquals(0, run.exit());
        assertTrue(run.output().contains("erphub-blue did not become ready"), run.output());
        assertEquals(1, run.applied().size(), "no switch");
        assertTrue(run.applied().get(0).contains("components: [\"../blue\", \"../live-green\"]"));
        List<String> calls = clusterCalls(run);
        assertEquals("scale deployment erphub-blue --replicas=0", calls.get(calls.size() - 1));
        assertFalse(calls.stream().anyMatch(c -> c.contains("erphub-green") && !c.startsWith("get")), calls.toString());
    }

    @Test
    void theFirstReleaseKeepsTheOverlaysServiceUntilBlueIsReadyThenRetiresThePlainDeployment() throws Exception {
        Run run = deploy("", true, "", "kubernetes/overlays/prod", "registry.example.com/erphub:1.0.0");
        assertEquals(0, run.exit(), run.output());
        assertTrue(run.applied().get(0).contains("components: [\"../blue\"]"), run.applied().get(0));
        assertTrue(run.applied().get(1).contains("components: [\"../blue\", \"../live-blue\"]"));
        List<String> calls = clusterCalls(run);
        assertEquals("delete deployment,horizontalpodautoscaler,poddisruptionbudget erphub --ignore-not-found",
                calls.get(calls.size() - 1));
    }

    @Test
    void goingBackRedeploysTheIdleColoursOwnImage() throws Exception {
        Run run = deploy("green", true, "registry.example.com/erphub:1.9.0", "kubernetes/overlays/prod", "--previous");
        assertEquals(0, run.exit(), run.output());
        assertTrue(run.applied().get(1).contains("components: [\"../blue\", \"../live-blue\"]"));
        assertTrue(run.applied().get(1).contains("value: \"registry.example.com/erphub:1.9.0\"}"));
    }

    @Test
    void anImageReferenceThatWouldRewriteTheManifestIsRefusedBeforeAnythingIsApplied() throws Exception {
        for (String image : List.of("erphub:1\"}\n      - {op: remove, path: /spec", "erphub:1 --dry-run", "")) {
            Run run = deploy("blue", true, "", "kubernetes/overlays/dev", image);
            assertNotEquals(0, run.exit(), image);
            assertTrue(run.output().contains("not an image reference"), run.output());
            assertEquals(List.of(), run.applied(), image);
        }
    }
}
