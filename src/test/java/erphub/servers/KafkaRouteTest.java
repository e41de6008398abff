package erphub.servers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import jakarta.inject.Inject;

import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

import erphub.testing.InjectTestServer;
import erphub.testing.KafkaBrokerResource;
import erphub.testing.KafkaBrokerResource.KafkaBroker;
import erphub.testing.TestRoutes;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

@QuarkusTest
@TestProfile(KafkaRouteTest.Profile.class)
class KafkaRouteTest {

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return TestRoutes.include("kafka");
        }

        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(KafkaBrokerResource.class));
        }
    }

    @InjectTestServer
    KafkaBroker kafka;

    @Inject
    ProducerTemplate producer;

    @Test
    void routePublishesKeyedRecordsToTheBroker() {
        for (int i = 0; i < 3; i++) {
            producer.sendBodyAndHeader("direct:test-kafka-send", "{\"event\":\"file.discovered\",\"n\":" + i + "}",
                    KafkaConstants.KEY, "acme");
        }

        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "kafka-route-test");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.subscribe(List.of("erphub-test-events"));
            Instant deadline = Instant.now().plusSeconds(30);
            while (records.size() < 3 && Instant.now().isBefore(deadline)) {
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
            }
        }
        assertEquals(3, records.size());
        for (int i = 0; i < 3; i++) {
            assertEquals("acme", records.get(i).key());
            assertEquals("{\"event\":\"file.discovered\",\"n\":" + i + "}", records.get(i).value());
        }
    }
}
