package erphub.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.annotation.Annotation;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.ClassDescriptor;
import org.junit.jupiter.api.ClassOrdererContext;
import org.junit.jupiter.api.Test;

/** The side threads take the packaged-jar tests first, the longest first, then the unit tests by name. */
@BesideTheApplication
class PackagedJarTestsFirstTest {

    @BesideTheApplication(seconds = 10)
    static class AShortIT {
    }

    @BesideTheApplication(seconds = 90)
    static class ZLongIT {
    }

    @BesideTheApplication
    static class BUnknownIT {
    }

    @BesideTheApplication
    static class AUnitTest {
    }

    @Test
    void packagedJarTestsLongestFirstThenByNameThenTheUnitTests() {
        List<ClassDescriptor> classes = new ArrayList<>(List.of(descriptor(AUnitTest.class), descriptor(BUnknownIT.class),
                descriptor(AShortIT.class), descriptor(ZLongIT.class)));
        new PackagedJarTestsFirst().orderClasses(new ClassOrdererContext() {
            @Override
            @SuppressWarnings("unchecked")
            public List<? extends ClassDescriptor> getClassDescriptors() {
                return classes;
            }

            @Override
            public Optional<String> getConfigurationParameter(String key) {
                return Optional.empty();
            }
        });
        assertEquals(List.of(ZLongIT.class, AShortIT.class, BUnknownIT.class, AUnitTest.class),
                classes.stream().map(ClassDescriptor::getTestClass).toList());
    }

    /** JUnit's view of a class, as its orderer gets it. */
    private static ClassDescriptor descriptor(Class<?> type) {
        return new ClassDescriptor() {
            @Override
            public Class<?> getTestClass() {
                return type;
            }

            @Override
            public String getDisplayName() {
                return type.getSimpleName();
            }

            @Override
            public boolean isAnnotated(Class<? extends Annotation> annotationType) {
                return type.isAnnotationPresent(annotationType);
            }

            @Override
            public <A extends Annotation> Optional<A> findAnnotation(Class<A> annotationType) {
                return Optional.ofNullable(type.getAnnotation(annotationType));
            }

            @Override
            public <A extends Annotation> List<A> findRepeatableAnnotations(Class<A> annotationType) {
                return List.of(type.getAnnotationsByType(annotationType));
            }
        };
    }
}
