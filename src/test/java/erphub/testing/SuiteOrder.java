package erphub.testing;

import java.lang.annotation.Annotation;
import java.util.Comparator;
import java.util.List;

import org.junit.jupiter.api.ClassDescriptor;
import org.junit.jupiter.api.ClassOrdererContext;

import io.quarkus.test.junit.util.QuarkusTestProfileAwareClassOrderer;

/**
 * The order of the {@code @QuarkusTest} classes (set as {@code quarkus.test.class-orderer} in pom.xml): grouped by
 * test profile as Quarkus groups them (one application per profile), the profiles whose tests mostly wait first.
 * They run while the {@link BesideTheApplication} classes, which use the CPU, run beside them; the profiles whose tests
 * keep the CPU busy come last, when the others are done. A profile not named here keeps Quarkus's order, after these.
 * Ranked by the share of idle CPU of each profile's classes in a fresh-clone run (vmstat, docs/testing.md).
 */
public class SuiteOrder extends QuarkusTestProfileAwareClassOrderer {

    static final List<String> PROFILES_WAITING_MOST_FIRST = List.of(
            "erphub.tenant.TenantsTest$Registry",
            "erphub.pipeline.UpstreamResilienceTest$FailingOnPurpose",
            "erphub.routing.PipelineRoutesTest$RoutesOnly",
            "erphub.delivery.FanOutOnPostgresTest$AllDestinationsOnPostgres",
            "erphub.pipeline.ProdTopologyIntakeTest$KafkaS3Postgres",
            "erphub.api.ManagementApiTest$Api",
            "erphub.delivery.FanOutTest$AllDestinations",
            "erphub.pipeline.FileIntakeTest$ThreeTenants",
            "erphub.api.ManagementApiOnPostgresTest$ApiOnPostgres");

    @Override
    public void orderClasses(ClassOrdererContext context) {
        super.orderClasses(context);
        // A stable sort: the classes of one profile stay together and in Quarkus's order.
        context.getClassDescriptors().sort(Comparator.comparingInt(SuiteOrder::rank));
    }

    private static int rank(ClassDescriptor descriptor) {
        String profile = profileOf(descriptor.getTestClass());
        if (profile == null) {
            return PROFILES_WAITING_MOST_FIRST.size() + 1;
        }
        int rank = PROFILES_WAITING_MOST_FIRST.indexOf(profile);
        return rank < 0 ? PROFILES_WAITING_MOST_FIRST.size() : rank;
    }

    /**
     * The test profile's class name, read by name: since Quarkus 3.22 a test class is loaded by its application's
     * class loader, so its annotations need not be the classes this orderer sees.
     */
    static String profileOf(Class<?> testClass) {
        for (Annotation a : testClass.getAnnotations()) {
            if (a.annotationType().getName().equals("io.quarkus.test.junit.TestProfile")) {
                try {
                    return ((Class<?>) a.annotationType().getMethod("value").invoke(a)).getName();
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException("cannot read the test profile of " + testClass, e);
                }
            }
        }
        return null;
    }
}
