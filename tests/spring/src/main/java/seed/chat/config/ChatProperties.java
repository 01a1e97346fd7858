package seed.chat.config;

import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The application's settings (prefix {@code chat}), so that one jar serves every configuration the
 * tests and benchmarks need.
 *
 * @param broker          {@code simple} (the seed's enableSimpleBroker) or {@code relay}
 * @param relay           the STOMP broker relay, when broker=relay
 * @param jwtSecret       the HS256 secret of the cookie JWT (its UTF-8 bytes are the key)
 * @param allowedOrigins  origins allowed on /ws/chat besides the page's own (the seed's two)
 */
@ConfigurationProperties(prefix = "chat")
public record ChatProperties(
        @DefaultValue("simple") String broker,
        @DefaultValue Relay relay,
        String jwtSecret,
        @DefaultValue({"http://localhost:8080", "http://localhost:5173"}) List<String> allowedOrigins) {

    /**
     * @param destinations {@code sub}: the seed's /sub/chat/{id} go to the broker as they are (bark
     *                     accepts them); {@code rabbitmq}: they become /topic/chat.{id}, because
     *                     RabbitMQ refuses destinations outside /topic, /queue, /exchange, /amq/queue
     * @param userBroadcast several application instances on one broker: the relay's user
     *                     destination broadcast (/topic/unresolved-user) and user registry
     *                     broadcast (/topic/simp-user-registry)
     */
    public record Relay(
            @DefaultValue("127.0.0.1") String host,
            @DefaultValue("61613") int port,
            @DefaultValue("guest") String systemLogin,
            @DefaultValue("guest") String systemPasscode,
            @DefaultValue("guest") String clientLogin,
            @DefaultValue("guest") String clientPasscode,
            @DefaultValue("10000") long heartbeatMs,
            @DefaultValue("sub") String destinations,
            @DefaultValue("false") boolean userBroadcast) {
    }

    public boolean relayEnabled() {
        return "relay".equals(broker);
    }

    public boolean rabbitNames() {
        return relayEnabled() && "rabbitmq".equals(relay.destinations());
    }
}
