package erphub.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;

import javax.management.ObjectName;

import org.jolokia.server.core.restrictor.policy.PolicyRestrictor;
import org.jolokia.server.core.util.RequestType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import erphub.testing.BesideTheApplication;

/**
 * The rules of the management surfaces, without a running agent: where they may listen, which origins the Jolokia
 * policy admits, and what it lets a caller read, write and execute. (BrowserConsolesIT sends the same requests over
 * HTTP to the packaged jar's two agents; ProfilesIT starts it exposed and sees it refuse.)
 */
@BesideTheApplication
class ManagementAccessTest {

    static final List<String> CONSOLE = List.of("http://localhost:8090", "http://127.0.0.1:8090");
    static final PolicyRestrictor POLICY = new PolicyRestrictor(JolokiaAccess.policyStream(CONSOLE));

    @ParameterizedTest(name = "listening on {0} without authentication is refused")
    @ValueSource(strings = { "0.0.0.0", "::", "192.0.2.2", "10.0.0.1", "fd00::2" })
    void aSurfaceBeyondLoopbackWithoutAuthenticationIsRefused(String host) throws Exception {
        List<String> problems = ManagementSurfaces.problems(List.of(
                new ManagementSurfaces.Exposure("the Jolokia agent", "quarkus.camel.jolokia.server.host",
                        InetAddress.getByName(host), false),
                new ManagementSurfaces.Exposure("the embedded Hawtio console", "erphub.console.host",
                        InetAddress.getByName(host), false)));
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("the Jolokia agent would listen on "), problems.get(0));
        assertTrue(problems.get(1).contains("erphub.console.host"), problems.get(1));
    }

    @ParameterizedTest(name = "listening on {0} is fine")
    @ValueSource(strings = { "127.0.0.1", "127.0.0.2", "::1", "localhost" })
    void loopbackNeedsNoLogin(String host) throws Exception {
        assertEquals(List.of(), ManagementSurfaces.problems(List.of(new ManagementSurfaces.Exposure("the Jolokia agent",
                "quarkus.camel.jolokia.server.host", InetAddress.getByName(host), false))));
    }

    @Test
    void beyondLoopbackWithAuthenticationIsFineAndAnUnknownHostIsBeyondLoopback() throws Exception {
        assertEquals(List.of(), ManagementSurfaces.problems(List.of(new ManagementSurfaces.Exposure("the Jolokia agent",
                "quarkus.camel.jolokia.server.host", InetAddress.getByName("0.0.0.0"), true))));
        assertFalse(ManagementSurfaces.address("no-such-host.invalid").isLoopbackAddress());
    }

    @ParameterizedTest(name = "allowed origin {0} is refused")
    @ValueSource(strings = { "*", "http://*", "*://localhost:8090", "http://*.example.com", "http://localhost:8090/hawtio",
            "http://user@localhost:8090", "javascript:alert(1)", "null", "file:///", "localhost:8090", "",
            "http://localhost:8090</allow-origin><allow-origin>*" })
    void anAllowedOriginMustBeExactlyAnOrigin(String origin) {
        assertEquals(1, JolokiaAccess.problems(List.of(origin)).size(), origin);
        assertThrows(IllegalStateException.class, () -> JolokiaAccess.policy(List.of(origin)));
    }

    @ParameterizedTest(name = "Origin {0} may not call the agent")
    @ValueSource(strings = { "http://evil.example", "null", "http://localhost:8090.evil.example", "https://localhost:8090",
            "http://localhost:8091", "http://127.0.0.1:8090@evil.example", "http://LOCALHOST:8090x" })
    void aForeignOriginIsRefusedBeforeTheRequestRuns(String origin) {
        assertFalse(POLICY.isOriginAllowed(origin, true), origin);
    }

    @Test
    void theConsolesOriginsMayCallAndARequestWithNeitherOriginNorRefererMayNot() {
        CONSOLE.forEach(o -> assertTrue(POLICY.isOriginAllowed(o, true), o));
        assertFalse(POLICY.isOriginAllowed(null, true), "strict checking: a request with no Origin or Referer is refused");
    }

    @ParameterizedTest(name = "{0} {1} {2}: {3}")
    @CsvSource(delimiter = '|', value = {
            "EXEC  | com.sun.management:type=DiagnosticCommand                  | jvmtiAgentLoad        | false",
            "EXEC  | com.sun.management:type=DiagnosticCommand                  | vmSetFlag             | false",
            "EXEC  | com.sun.management:type=DiagnosticCommand                  | vmSystemProperties    | false",
            "READ  | com.sun.management:type=DiagnosticCommand                  | *                     | false",
            "EXEC  | com.sun.management:type=HotSpotDiagnostic                  | dumpHeap              | false",
            "EXEC  | com.sun.management:type=HotSpotDiagnostic                  | setVMOption           | false",
            "EXEC  | jdk.management.jfr:type=FlightRecorder                     | newRecording          | false",
            "EXEC  | java.lang:type=Memory                                      | gc                    | false",
            "WRITE | java.lang:type=Memory                                      | Verbose               | false",
            "WRITE | java.lang:type=Threading                                   | ThreadCpuTimeEnabled  | false",
            "EXEC  | java.util.logging:type=Logging                             | setLoggerLevel        | false",
            "EXEC  | hawtio:type=JVMList                                        | startAgent            | false",
            "EXEC  | JMImplementation:type=MBeanServerDelegate                  | *                     | false",
            "READ  | java.lang:type=Memory                                      | HeapMemoryUsage       | true",
            "READ  | java.lang:type=Runtime                                     | Uptime                | true",
            "EXEC  | java.lang:type=Threading                                   | dumpAllThreads        | true",
            "READ  | org.apache.camel:context=erphub,type=routes,name=\"x\"    | State                 | true",
            "EXEC  | org.apache.camel:context=erphub,type=routes,name=\"x\"    | stop                  | true",
            "WRITE | org.apache.camel:context=erphub,type=routes,name=\"x\"    | TracingPattern        | true",
    })
    void jvmMBeansAreReadOnlyDiagnosticsAreOutAndCamelIsOperable(RequestType type, String mbean, String name, boolean allowed)
            throws Exception {
        ObjectName object = new ObjectName(mbean);
        boolean answer = switch (type) {
            case READ -> POLICY.isAttributeReadAllowed(object, name);
            case WRITE -> POLICY.isAttributeWriteAllowed(object, name);
            case EXEC -> POLICY.isOperationAllowed(object, name);
            default -> throw new IllegalArgumentException(type.toString());
        };
        assertEquals(allowed, answer, type + " " + mbean + " " + name);
    }
}
