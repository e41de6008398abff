package erphub.testing;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTestProfile.TestResourceEntry;

/**
 * The test servers of a packaged-jar test ({@link PackagedApp}), started by the same lifecycle managers a
 * {@code @QuarkusTest} profile lists, outside Quarkus: {@link #config()} is what they would have added to the
 * application's configuration (for the app's system properties), {@link #get(Class)} what they would have injected
 * into the test. The entries marked parallel start at the same time, as Quarkus starts them.
 */
public final class ServersBesideTheApp implements AutoCloseable {

    private final List<QuarkusTestResourceLifecycleManager> started = new ArrayList<>();
    private final List<Object> injected = new ArrayList<>();
    private final Map<String, String> config = new HashMap<>();

    private ServersBesideTheApp() {
    }

    /** Starts the servers; if one fails, those already started are stopped and the failure is thrown. */
    public static ServersBesideTheApp start(List<TestResourceEntry> entries) {
        ServersBesideTheApp servers = new ServersBesideTheApp();
        List<CompletableFuture<Void>> parallel = new ArrayList<>();
        try {
            for (TestResourceEntry entry : entries) {
                if (entry.isParallel()) {
                    parallel.add(CompletableFuture.runAsync(() -> servers.start(entry)));
                }
            }
            for (TestResourceEntry entry : entries) {
                if (!entry.isParallel()) {
                    servers.start(entry);
                }
            }
            CompletableFuture.allOf(parallel.toArray(CompletableFuture[]::new)).join();
            return servers;
        } catch (RuntimeException | Error e) {
            // The servers still starting beside the one that failed are stopped too, once they are up.
            for (CompletableFuture<Void> starting : parallel) {
                try {
                    starting.join();
                } catch (RuntimeException other) {
                    e.addSuppressed(other);
                }
            }
            servers.close();
            throw e;
        }
    }

    private void start(TestResourceEntry entry) {
        QuarkusTestResourceLifecycleManager server;
        try {
            server = entry.getClazz().getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot make " + entry.getClazz().getName(), e);
        }
        server.init(entry.getArgs());
        synchronized (this) {
            started.add(server);
        }
        Map<String, String> given = server.start();
        List<Object> objects = new ArrayList<>();
        server.inject(new QuarkusTestResourceLifecycleManager.TestInjector() {
            @Override
            public void injectIntoFields(Object fieldValue, Predicate<Field> predicate) {
                objects.add(fieldValue);
            }
        });
        synchronized (this) {
            config.putAll(given);
            injected.addAll(objects);
        }
    }

    /** The configuration the servers give the application. */
    public synchronized Map<String, String> config() {
        return Map.copyOf(config);
    }

    /** The server object of this type a lifecycle manager would have injected. */
    public synchronized <T> T get(Class<T> type) {
        return injected.stream().filter(type::isInstance).map(type::cast).findFirst()
                .orElseThrow(() -> new IllegalStateException("no " + type.getSimpleName() + " was started"));
    }

    /** Stops every server started, the last first. */
    @Override
    public synchronized void close() {
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).stop();
            } catch (RuntimeException e) {
                System.err.println("[ServersBesideTheApp] stopping " + started.get(i).getClass().getSimpleName() + ": " + e);
            }
        }
        started.clear();
    }
}
