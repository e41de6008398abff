package erphub.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTestProfile;

/** The suite's order names test profiles by name: a renamed or removed profile would silently lose its place. */
class SuiteOrderTest {

    @Test
    void everyProfileTheOrderNamesExistsOnce() throws Exception {
        for (String name : SuiteOrder.PROFILES_WAITING_MOST_FIRST) {
            Class<?> profile = Class.forName(name, false, getClass().getClassLoader());
            assertTrue(QuarkusTestProfile.class.isAssignableFrom(profile), name + " is not a test profile");
        }
        assertEquals(SuiteOrder.PROFILES_WAITING_MOST_FIRST.size(), new HashSet<>(SuiteOrder.PROFILES_WAITING_MOST_FIRST).size());
    }

    @Test
    void theProfileOfATestClassIsReadFromItsAnnotation() throws Exception {
        Class<?> tenantsTest = Class.forName("erphub.tenant.TenantsTest", false, getClass().getClassLoader());
        assertEquals("erphub.tenant.TenantsTest$Registry", SuiteOrder.profileOf(tenantsTest));
        assertEquals(null, SuiteOrder.profileOf(SuiteOrderTest.class));
    }
}
