package erphub.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Set;

import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.ResourceLocksProvider;

/**
 * A test class that needs no {@code @QuarkusTest} application: a packaged-jar test, which runs erphub in processes of
 * its own ({@link PackagedApp}), or a plain unit test. Such a class runs on one of two threads of their own beside the
 * {@code @QuarkusTest} classes (JUnit's parallel execution, enabled in pom.xml), which run one after another in one
 * thread, as Quarkus needs, and left about 40 % of two cores idle while they waited for their applications
 * (docs/testing.md, "How long the suite takes"); the packaged-jar tests take those threads first
 * ({@link PackagedJarTestsFirst}). Its own methods still run one after another, in order: the class holds a lock no
 * other class takes, and JUnit runs the children of a locked class in its thread. A class that changes what the whole
 * JVM shares (system properties, the log manager, a fixed port or folder) must not be one.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Execution(ExecutionMode.CONCURRENT)
@ResourceLock(providers = BesideTheApplication.OwnLock.class)
public @interface BesideTheApplication {

    /**
     * About how long the class takes in a run of the whole suite here, in seconds (0: a few). The side threads start
     * the longest first ({@link PackagedJarTestsFirst}), so that they end together: started by name, the last one
     * left one thread alone for 40 s. Only the order depends on it.
     */
    int seconds() default 0;

    /** A read-write lock named after the class: uncontended, it only keeps the class's methods sequential. */
    final class OwnLock implements ResourceLocksProvider {
        @Override
        public Set<Lock> provideForClass(Class<?> testClass) {
            return Set.of(new Lock("erphub.beside-the-application." + testClass.getName()));
        }
    }
}
