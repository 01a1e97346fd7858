package seed.chat.dto;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * A chat message: what the seed's client sends ({roomId, messageText, sendAt}) and what the room's
 * subscribers get back, with the stored id and the sender (from the session, never the payload).
 * sendAt stays the client's string: browsers send ISO instants ("...Z"), bark-bench its own form.
 * Unknown fields of a client's payload (bark-bench adds clientMessageId) are ignored.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ChatMessageDto(
        Long messageId,
        Long roomId,
        Long senderId,
        String senderRole,
        String senderName,
        String messageText,
        String sendAt) {
}
