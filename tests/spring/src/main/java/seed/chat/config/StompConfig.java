package seed.chat.config;

import org.springframework.context.annotation.Configuration;
import org.springframework.messaging.simp.config.ChannelRegistration;
import org.springframework.messaging.simp.config.MessageBrokerRegistry;
import org.springframework.messaging.simp.config.StompBrokerRelayRegistration;
import org.springframework.web.socket.config.annotation.EnableWebSocketMessageBroker;
import org.springframework.web.socket.config.annotation.StompEndpointRegistry;
import org.springframework.web.socket.config.annotation.WebSocketMessageBrokerConfigurer;

import seed.chat.auth.JwtAuthInterceptor;
import seed.chat.auth.WebSocketHandshakeInterceptor;

/**
 * The seed's StompConfig. Its one change of substance is the broker: chat.broker=simple keeps the
 * seed's in-memory broker, chat.broker=relay swaps it for enableStompBrokerRelay, which is the
 * line a Spring application changes to put bark (or RabbitMQ) behind its controllers.
 */
@Configuration
@EnableWebSocketMessageBroker
public class StompConfig implements WebSocketMessageBrokerConfigurer {

    private final JwtAuthInterceptor jwtAuthenticationInterceptor;
    private final ChatProperties props;

    public StompConfig(JwtAuthInterceptor jwtAuthenticationInterceptor, ChatProperties props) {
        this.jwtAuthenticationInterceptor = jwtAuthenticationInterceptor;
        this.props = props;
    }

    @Override
    public void configureMessageBroker(MessageBrokerRegistry registry) {
        if (props.relayEnabled()) {
            ChatProperties.Relay r = props.relay();
            // bark takes the seed's /sub as it is; RabbitMQ only takes /topic and /queue (the
            // interceptor below renames the room destinations for it).
            String[] prefixes = props.rabbitNames()
                    ? new String[] {"/topic", "/queue"}
                    : new String[] {"/sub", "/queue", "/topic"};
            StompBrokerRelayRegistration relay = registry.enableStompBrokerRelay(prefixes)
                    .setRelayHost(r.host())
                    .setRelayPort(r.port())
                    .setSystemLogin(r.systemLogin())
                    .setSystemPasscode(r.systemPasscode())
                    .setClientLogin(r.clientLogin())
                    .setClientPasscode(r.clientPasscode())
                    .setSystemHeartbeatSendInterval(r.heartbeatMs())
                    .setSystemHeartbeatReceiveInterval(r.heartbeatMs());
            if (r.userBroadcast()) {
                // Several instances on one broker: a user's messages reach them on whichever
                // instance holds their session.
                relay.setUserDestinationBroadcast("/topic/unresolved-user")
                        .setUserRegistryBroadcast("/topic/simp-user-registry");
            }
        } else {
            // The seed's "/sub", and "/queue" for the user destinations convertAndSendToUser
            // resolves to (/queue/notifications-user{session}).
            registry.enableSimpleBroker("/sub", "/queue");
        }
        registry.setApplicationDestinationPrefixes("/pub");
        if (props.rabbitNames()) {
            registry.configureBrokerChannel().interceptors(new RabbitDestinationInterceptor());
        }
    }

    @Override
    public void registerStompEndpoints(StompEndpointRegistry registry) {
        registry.addEndpoint("/ws/chat")
                .setAllowedOrigins(props.allowedOrigins().toArray(String[]::new))
                .addInterceptors(new WebSocketHandshakeInterceptor())
                .withSockJS();
    }

    @Override
    public void configureClientInboundChannel(ChannelRegistration registration) {
        registration.interceptors(jwtAuthenticationInterceptor);
        if (props.rabbitNames()) {
            registration.interceptors(new RabbitDestinationInterceptor());
        }
    }
}
