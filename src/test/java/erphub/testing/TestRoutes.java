package erphub.testing;

import java.util.HashMap;
import java.util.Map;

/** Config overrides that add test routes from {@code src/test/resources/test-routes/} to the built-in ones. */
public final class TestRoutes {

    private TestRoutes() {
    }

    public static Map<String, String> include(String... names) {
        StringBuilder pattern = new StringBuilder("classpath:kamelets/*.kamelet.yaml,classpath:routes/*.yaml");
        for (String name : names) {
            pattern.append(",classpath:test-routes/").append(name).append(".yaml");
        }
        Map<String, String> config = new HashMap<>();
        config.put("camel.main.routes-include-pattern", pattern.toString());
        return config;
    }
}
