package erphub.testing;

import java.util.Map;

import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * A real Kafka broker: Apache Kafka's own server code (the version of the client Quarkus manages) in
 * KRaft combined mode, one broker and one controller, in-process on loopback.
 */
public class KafkaBrokerResource implements QuarkusTestResourceLifecycleManager {

    private KafkaClusterTestKit cluster;

    /** What a test needs to talk to the broker itself. */
    public record KafkaBroker(String bootstrapServers) {
    }

    @Override
    public Map<String, String> start() {
        try {
            cluster = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                    .setCombined(true)
                    .setNumBrokerNodes(1)
                    .setNumControllerNodes(1)
                    .setBaseDirectory(TestServers.scratchDir("kafka-"))
                    .build())
                    .setConfigProp("offsets.topic.replication.factor", "1")
                    .setConfigProp("transaction.state.log.replication.factor", "1")
                    .setConfigProp("transaction.state.log.min.isr", "1")
                    .setConfigProp("group.initial.rebalance.delay.ms", "0")
                    .build();
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the Kafka test broker", e);
        }
        return Map.of("test.kafka.bootstrap-servers", cluster.bootstrapServers());
    }

    @Override
    public void inject(TestInjector injector) {
        TestServers.inject(injector, new KafkaBroker(cluster.bootstrapServers()));
    }

    /** Stops the broker (a test may, to see erphub without Kafka); stopping twice is fine. */
    @Override
    public synchronized void stop() {
        if (cluster != null) {
            try {
                cluster.close();
            } catch (Exception e) {
                throw new IllegalStateException("cannot stop the Kafka test broker", e);
            } finally {
                cluster = null;
            }
        }
    }
}
