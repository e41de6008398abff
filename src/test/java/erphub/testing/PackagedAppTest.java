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
 * A test class that runs the packaged application ({@link PackagedApp}) in processes of its own. Such a class runs
 * beside the other tests (JUnit's parallel execution, enabled in pom.xml): the {@code @QuarkusTest} classes, one
 * after another in one thread, leave about 40 % of two cores idle while they wait for their applications, and the
 * packaged-jar tests fill it (docs/testing.md, "How long the suite takes"). Its own methods still run one after
 * another, in order: the class holds a lock no other class takes, and JUnit runs the children of a locked class in
 * its thread.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Execution(ExecutionMode.CONCURRENT)
@ResourceLock(providers = PackagedAppTest.OwnLock.class)
public @interface PackagedAppTest {

    /** A read-write lock named after the class: uncontended, it only keeps the class's methods sequential. */
    final class OwnLock implements ResourceLocksProvider {
        @Override
        public Set<Lock> provideForClass(Class<?> testClass) {
            return Set.of(new Lock("erphub.packaged-app." + testClass.getName()));
        }
    }
}
