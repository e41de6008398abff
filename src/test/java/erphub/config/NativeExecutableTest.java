package erphub.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import jakarta.inject.Named;

import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import erphub.console.HawtioConsole;
import erphub.sandbox.Sandbox;
import erphub.testing.BesideTheApplication;
import io.quarkus.arc.properties.IfBuildProperty;
import io.quarkus.arc.properties.UnlessBuildProperty;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * What the native executable needs and cannot discover, checked without GraalVM (none runs here): every class the
 * YAML routes and kamelets reach by name is registered for reflection (Camel's bean binding finds a bean's methods
 * reflectively, the YAML DSL loads exception and unmarshal classes by name), and the JVM-only pieces (the embedded
 * Hawtio WAR, the sandbox with its SFTP server) are not beans of a native build at all.
 */
@BesideTheApplication
class NativeExecutableTest {

    @Test
    void everyClassTheRoutesReachByNameIsRegisteredForReflection() throws Exception {
        Map<String, Class<?>> named = namedBeans();
        Set<String> beanRefs = new TreeSet<>();
        Set<String> classNames = new TreeSet<>();
        for (Path yaml : routeFiles()) {
            for (Object doc : new Load(LoadSettings.builder().build()).loadAllFromString(Files.readString(yaml))) {
                collect(doc, beanRefs, classNames);
            }
        }
        assertTrue(beanRefs.contains("fileIntake") && classNames.contains("erphub.pipeline.ClaimedFile"),
                "the routes were read: " + beanRefs + " " + classNames);
        List<String> missing = new ArrayList<>();
        for (String ref : beanRefs) {
            Class<?> bean = named.get(ref);
            if (bean == null) {
                missing.add(ref + ": no class annotated @Named(\"" + ref + "\")");
            } else if (!bean.isAnnotationPresent(RegisterForReflection.class)) {
                missing.add(ref + " (" + bean.getName() + ")");
            }
        }
        for (String name : classNames) {
            Class<?> type = Class.forName(name);
            if (!type.isAnnotationPresent(RegisterForReflection.class)) {
                missing.add(name);
            }
        }
        assertEquals(List.of(), missing, "called from a route (bean, method, exception, unmarshalType) without "
                + "@RegisterForReflection: the native executable could not find them");
    }

    @Test
    void theJvmOnlyPiecesAreNotBeansOfANativeBuild() {
        for (Class<?> jvmOnly : List.of(HawtioConsole.class, Sandbox.class)) {
            UnlessBuildProperty unless = jvmOnly.getAnnotation(UnlessBuildProperty.class);
            assertTrue(unless != null && unless.name().equals("quarkus.native.enabled")
                    && unless.stringValue().equals("true"), jvmOnly + " must be left out of a native build");
        }
    }

    @Test
    void aNativeExecutableAskedForTheSandboxOrTheConsoleRefusesToStartAndSaysWhy() {
        IllegalStateException refused = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> NativeLimits.check(true, true));
        assertTrue(refused.getMessage().contains("ERPHUB_SANDBOX_ENABLED")
                && refused.getMessage().contains("ERPHUB_CONSOLE_ENABLED"), refused.getMessage());
        NativeLimits.check(false, false);
        IfBuildProperty onlyNative = NativeLimits.class.getAnnotation(IfBuildProperty.class);
        assertTrue(onlyNative != null && onlyNative.name().equals("quarkus.native.enabled"));
    }

    /** bean/method refs, and the classes named by exception lists and unmarshalType, anywhere in one YAML document. */
    @SuppressWarnings("unchecked")
    private static void collect(Object node, Set<String> beanRefs, Set<String> classNames) {
        if (node instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                String key = String.valueOf(e.getKey());
                Object value = e.getValue();
                if ((key.equals("bean") || key.equals("method")) && value instanceof Map<?, ?> step
                        && step.get("ref") instanceof String ref) {
                    beanRefs.add(ref);
                } else if (key.equals("exception") && value instanceof List<?> list) {
                    list.forEach(c -> classNames.add(String.valueOf(c)));
                } else if (key.equals("unmarshalType") && value instanceof String type) {
                    classNames.add(type);
                }
                collect(value, beanRefs, classNames);
            }
        } else if (node instanceof List<?> list) {
            list.forEach(item -> collect(item, beanRefs, classNames));
        }
        classNames.removeIf(n -> n.startsWith("java."));
    }

    private static List<Path> routeFiles() throws IOException {
        List<Path> files = new ArrayList<>();
        for (String dir : List.of("src/main/resources/routes", "src/main/resources/kamelets")) {
            try (Stream<Path> s = Files.list(Path.of(dir))) {
                s.filter(p -> p.toString().endsWith(".yaml")).sorted().forEach(files::add);
            }
        }
        return files;
    }

    private static Map<String, Class<?>> namedBeans() throws IOException, URISyntaxException, ClassNotFoundException {
        Path classes = Path.of(Sandbox.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Map<String, Class<?>> named = new TreeMap<>();
        try (Stream<Path> s = Files.walk(classes)) {
            for (Path p : s.filter(f -> f.toString().endsWith(".class") && !f.toString().contains("$")).toList()) {
                String name = classes.relativize(p).toString().replace('/', '.').replaceAll("\\.class$", "");
                Class<?> c = Class.forName(name, false, NativeExecutableTest.class.getClassLoader());
                Named n = c.getAnnotation(Named.class);
                if (n != null) {
                    named.put(n.value(), c);
                }
            }
        }
        return named;
    }
}
