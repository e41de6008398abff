package erphub.testing;

import java.io.StringReader;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.xml.parsers.DocumentBuilderFactory;

import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.InputSource;

/**
 * erphub's routes as Camel's management (JMX) describes them in this JVM: every processor of every route with
 * its EIP name and exchange count, every endpoint, and a route's dump. This is what Jolokia serves and Hawtio
 * draws, read here without the HTTP in between.
 */
public final class RouteInspection {

    /** One processor (EIP node) of a route. */
    public record Processor(String routeId, String name, String processorId, long exchanges, String uri) {
    }

    private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();

    public List<Processor> processors() {
        try {
            return readProcessors();
        } catch (Exception e) {
            throw new IllegalStateException("cannot read Camel's processor MBeans", e);
        }
    }

    private List<Processor> readProcessors() throws Exception {
        List<Processor> out = new ArrayList<>();
        Set<ObjectName> names = server.queryNames(new ObjectName("org.apache.camel:type=processors,*"), null);
        for (ObjectName name : names) {
            AttributeList values = server.getAttributes(name,
                    new String[] { "RouteId", "ProcessorName", "ProcessorId", "ExchangesTotal" });
            String uri = null;
            for (String attribute : List.of("Uri", "Destination")) {
                try {
                    Object v = server.getAttribute(name, attribute);
                    uri = v == null ? null : v.toString();
                    break;
                } catch (javax.management.AttributeNotFoundException e) {
                    // not a sending processor
                }
            }
            out.add(new Processor(text(values, 0), text(values, 1), text(values, 2),
                    ((Number) ((Attribute) values.get(3)).getValue()).longValue(), uri));
        }
        return out;
    }

    /** Exchanges through the route's processors of one EIP ({@code split}, {@code toD}, {@code circuitBreaker}...). */
    public long exchanges(String routeId, String eip) {
        return processors().stream().filter(p -> routeId.equals(p.routeId()) && eip.equals(p.name()))
                .mapToLong(Processor::exchanges).sum();
    }

    /** Whether the route has a processor of this EIP. */
    public boolean has(String routeId, String eip) {
        return processors().stream().anyMatch(p -> routeId.equals(p.routeId()) && eip.equals(p.name()));
    }

    /** The route's processors as "eip:exchanges", for assertion messages. */
    public String describe(String routeId) {
        return processors().stream().filter(p -> routeId.equals(p.routeId()))
                .map(p -> p.name() + ":" + p.exchanges()).toList().toString();
    }

    public List<String> routeIds() throws Exception {
        List<String> out = new ArrayList<>();
        for (ObjectName name : server.queryNames(new ObjectName("org.apache.camel:type=routes,*"), null)) {
            out.add(String.valueOf(server.getAttribute(name, "RouteId")));
        }
        return out;
    }

    /**
     * The routes whose XML dump (what Hawtio draws its diagram from) does not start with {@code from}. Hawtio 4.2
     * links an element before {@code from} (a route's own {@code errorHandler}) to a node that does not exist,
     * and then draws nothing for that route.
     */
    public List<String> routesHawtioCannotDraw() throws Exception {
        List<String> undrawable = new ArrayList<>();
        for (ObjectName name : server.queryNames(new ObjectName("org.apache.camel:type=routes,*"), null)) {
            String xml = (String) server.invoke(name, "dumpRouteAsXml", new Object[0], new String[0]);
            Element route = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                    .parse(new InputSource(new StringReader(xml))).getDocumentElement();
            Node first = route.getFirstChild();
            while (first != null && first.getNodeType() != Node.ELEMENT_NODE) {
                first = first.getNextSibling();
            }
            if (first == null || !"from".equals(first.getNodeName())) {
                undrawable.add(route.getAttribute("id") + " starts with " + (first == null ? "nothing" : first.getNodeName()));
            }
        }
        return undrawable;
    }

    /** The route as Camel's YAML DSL, placeholders resolved. */
    public String dumpYaml(String routeId) throws Exception {
        for (ObjectName name : server.queryNames(new ObjectName("org.apache.camel:type=routes,*"), null)) {
            if (routeId.equals(server.getAttribute(name, "RouteId"))) {
                return (String) server.invoke(name, "dumpRouteAsYaml", new Object[] { true },
                        new String[] { boolean.class.getName() });
            }
        }
        throw new AssertionError("no route " + routeId);
    }

    private static String text(AttributeList values, int i) {
        Object v = ((Attribute) values.get(i)).getValue();
        return v == null ? null : v.toString();
    }
}
