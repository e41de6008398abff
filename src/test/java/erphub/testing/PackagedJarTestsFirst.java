package erphub.testing;

import java.lang.annotation.Annotation;
import java.util.Comparator;

import org.junit.jupiter.api.ClassDescriptor;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.ClassOrdererContext;

/**
 * The order among classes Quarkus's own orderer ({@code QuarkusTestProfileAwareClassOrderer}) leaves tied, set as its
 * {@code junit.quarkus.orderer.secondary-orderer} in pom.xml: the packaged-jar tests ({@code *IT}) before the plain
 * unit tests, the longest first ({@link BesideTheApplication#seconds()}, so that the two side threads end together),
 * then by name. Both are {@link BesideTheApplication} and take the side threads in this order, so the packaged-jar
 * tests, minutes of work, start first, and the unit tests, seconds each, fill the side threads after them
 * while the {@code @QuarkusTest} classes still run, instead of running one after another once those are done. The
 * {@code @QuarkusTest} classes keep Quarkus's order (by profile, then by name).
 */
public class PackagedJarTestsFirst implements ClassOrderer {

    @Override
    public void orderClasses(ClassOrdererContext context) {
        context.getClassDescriptors().sort(Comparator
                .comparing((ClassDescriptor d) -> !d.getTestClass().getSimpleName().endsWith("IT"))
                .thenComparing(PackagedJarTestsFirst::seconds, Comparator.reverseOrder())
                .thenComparing(d -> d.getTestClass().getName()));
    }

    /**
     * The class's {@link BesideTheApplication#seconds()}, 0 for any other. Found by the annotation's name: the test
     * class may come from another class loader than this orderer.
     */
    static int seconds(ClassDescriptor d) {
        for (Annotation a : d.getTestClass().getAnnotations()) {
            if (a.annotationType().getName().equals(BesideTheApplication.class.getName())) {
                try {
                    return (int) a.annotationType().getMethod("seconds").invoke(a);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return 0;
    }
}
