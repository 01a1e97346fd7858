package seed.chat.config;

import org.springframework.messaging.Message;
import org.springframework.messaging.MessageChannel;
import org.springframework.messaging.simp.SimpMessageHeaderAccessor;
import org.springframework.messaging.simp.stomp.StompHeaderAccessor;
import org.springframework.messaging.support.ChannelInterceptor;
import org.springframework.messaging.support.MessageBuilder;
import org.springframework.messaging.support.MessageHeaderAccessor;

/**
 * What RabbitMQ as the relay costs the seed: its STOMP plugin refuses destinations outside
 * /topic, /queue, /exchange and /amq/queue, so the room destination /sub/chat/{id} that clients
 * subscribe to and that @SendTo names becomes /topic/chat.{id} on the way to the broker. The
 * clients keep subscribing to /sub/chat/{id}; only this application's side changes. Used with
 * chat.relay.destinations=rabbitmq, on the inbound channel (SUBSCRIBE, SEND) and the broker
 * channel (@SendTo, SimpMessagingTemplate).
 */
final class RabbitDestinationInterceptor implements ChannelInterceptor {

    private static final String FROM = "/sub/chat/";
    private static final String TO = "/topic/chat.";

    @Override
    public Message<?> preSend(Message<?> message, MessageChannel channel) {
        String destination = SimpMessageHeaderAccessor.getDestination(message.getHeaders());
        if (destination == null || !destination.startsWith(FROM)) {
            return message;
        }
        String renamed = TO + destination.substring(FROM.length());
        // A client's frame keeps its STOMP accessor (whose setDestination sets the STOMP header
        // too); a message of the application's (@SendTo) keeps its plain one, which the relay
        // turns into a SEND itself.
        SimpMessageHeaderAccessor accessor =
                MessageHeaderAccessor.getAccessor(message, StompHeaderAccessor.class) != null
                        ? StompHeaderAccessor.wrap(message)
                        : SimpMessageHeaderAccessor.wrap(message);
        accessor.setDestination(renamed);
        return MessageBuilder.createMessage(message.getPayload(), accessor.getMessageHeaders());
    }
}
