package seed.chat.controller;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import org.springframework.context.event.EventListener;
import org.springframework.http.ResponseEntity;
import org.springframework.messaging.simp.broker.BrokerAvailabilityEvent;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

import seed.chat.config.ChatProperties;
import seed.chat.dto.ChatMessageDto;
import seed.chat.service.ChatService;

/**
 * For the tests and scripts, not part of the seed: /ready answers 200 once the broker is available
 * (for the relay, once its system session has its CONNECTED; 503 while it is down, e.g. during a
 * broker restart), and /api/rooms/{roomId}/messages lists what ChatService stored.
 */
@RestController
public class StatusController {

    private final AtomicBoolean brokerAvailable = new AtomicBoolean();
    private final ChatProperties props;
    private final ChatService chatService;

    public StatusController(ChatProperties props, ChatService chatService) {
        this.props = props;
        this.chatService = chatService;
    }

    @EventListener
    public void onBrokerAvailability(BrokerAvailabilityEvent event) {
        brokerAvailable.set(event.isBrokerAvailable());
    }

    @GetMapping("/ready")
    public ResponseEntity<Map<String, Object>> ready() {
        boolean up = brokerAvailable.get();
        Map<String, Object> body = Map.of(
                "broker", props.broker(),
                "brokerAvailable", up,
                "stored", chatService.storedCount());
        return ResponseEntity.status(up ? 200 : 503).body(body);
    }

    @GetMapping("/api/rooms/{roomId}/messages")
    public List<ChatMessageDto> history(@PathVariable Long roomId) {
        return chatService.history(roomId);
    }
}
