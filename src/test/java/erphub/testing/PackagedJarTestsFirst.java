package erphub.testing;

import java.util.Comparator;

import org.junit.jupiter.api.ClassDescriptor;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.ClassOrdererContext;

/**
 * The order among classes Quarkus's own orderer ({@code QuarkusTestProfileAwareClassOrderer}) leaves tied, set as its
 * {@code junit.quarkus.orderer.secondary-orderer} in pom.xml: the packaged-jar tests ({@code *IT}) before the plain
 * unit tests, each by name. Both are {@link BesideTheApplication} and take the two side threads in this order, so the
 * packaged-jar tests, minutes of work, start first, and the unit tests, seconds each, fill the side threads after them
 * while the {@code @QuarkusTest} classes still run, instead of running one after another once those are done. The
 * {@code @QuarkusTest} classes keep Quarkus's order (by profile, then by name).
 */
public class PackagedJarTestsFirst implements ClassOrderer {

    @Override
    public void orderClasses(ClassOrdererContext context) {
        context.getClassDescriptors().sort(Comparator
                .comparing((ClassDescriptor d) -> !d.getTestClass().getSimpleName().endsWith("IT"))
                .thenComparing(d -> d.getTestClass().getName()));
    }
}
