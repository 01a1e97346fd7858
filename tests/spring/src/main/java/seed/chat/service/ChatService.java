package seed.chat.service;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.springframework.stereotype.Service;

import seed.chat.dto.ChatMessageDto;

/**
 * The seed stores each message (MongoDB there) before broadcasting it; here the store is memory:
 * the newest 100,000 messages, enough for the benchmarks and bounded so a long run cannot exhaust
 * a small heap.
 */
@Service
public class ChatService {

    private static final int MAX_KEPT = 100_000;

    private final AtomicLong nextId = new AtomicLong(1);
    private final ConcurrentLinkedDeque<ChatMessageDto> messages = new ConcurrentLinkedDeque<>();
    private final AtomicInteger kept = new AtomicInteger();

    public ChatMessageDto createAndSaveMessage(ChatMessageDto message, Long roomId, Long senderId,
                                               String senderRole, String senderName) {
        ChatMessageDto saved = new ChatMessageDto(nextId.getAndIncrement(), roomId, senderId, senderRole,
                senderName, message.messageText(), message.sendAt());
        messages.addLast(saved);
        if (kept.incrementAndGet() > MAX_KEPT && messages.pollFirst() != null) {
            kept.decrementAndGet();
        }
        return saved;
    }

    /** The stored messages of a room, oldest first. */
    public List<ChatMessageDto> history(Long roomId) {
        return messages.stream().filter(m -> m.roomId().equals(roomId)).toList();
    }

    /** How many messages were stored since the start. */
    public long storedCount() {
        return nextId.get() - 1;
    }
}
