package seed.chat.controller;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.messaging.handler.annotation.DestinationVariable;
import org.springframework.messaging.handler.annotation.MessageMapping;
import org.springframework.messaging.handler.annotation.Payload;
import org.springframework.messaging.handler.annotation.SendTo;
import org.springframework.messaging.simp.SimpMessageHeaderAccessor;
import org.springframework.messaging.simp.SimpMessagingTemplate;
import org.springframework.security.core.Authentication;
import org.springframework.stereotype.Controller;

import seed.chat.auth.CustomOAuth2User;
import seed.chat.dto.ChatMessageDto;
import seed.chat.dto.NotificationDto;
import seed.chat.service.ChatService;

/**
 * The seed's ChatController: a SEND to /pub/chat/send/{roomId} is stored and broadcast to
 * /sub/chat/{roomId}. The user comes from the session (SimpMessageHeaderAccessor), not from
 * @AuthenticationPrincipal, which made Jackson read the payload as the user class (the seed's
 * second bug). Added for the tests: /pub/chat/notify/{username} sends to that user's
 * /user/queue/notifications through convertAndSendToUser, so user destinations are exercised.
 */
@Controller
public class ChatController {

    private static final Logger log = LoggerFactory.getLogger(ChatController.class);

    private final ChatService chatService;
    private final SimpMessagingTemplate messagingTemplate;

    public ChatController(ChatService chatService, SimpMessagingTemplate messagingTemplate) {
        this.chatService = chatService;
        this.messagingTemplate = messagingTemplate;
    }

    @MessageMapping("/chat/send/{roomId}") // clients send here
    @SendTo("/sub/chat/{roomId}") // the broker broadcasts the result to the room's subscribers
    public ChatMessageDto sendMessage(@DestinationVariable Long roomId, @Payload ChatMessageDto message,
                                      SimpMessageHeaderAccessor headerAccessor) {
        log.debug("message={}", message);

        CustomOAuth2User user = currentUser(headerAccessor);

        Long senderId = user.getUserId();
        String senderRole = user.getRole();
        return chatService.createAndSaveMessage(message, roomId, senderId, senderRole, user.getName());
    }

    @MessageMapping("/chat/notify/{username}")
    public void notifyUser(@DestinationVariable String username, @Payload NotificationDto request,
                           SimpMessageHeaderAccessor headerAccessor) {
        CustomOAuth2User user = currentUser(headerAccessor);
        messagingTemplate.convertAndSendToUser(username, "/queue/notifications",
                new NotificationDto(user.getName(), username, request.text()));
    }

    private static CustomOAuth2User currentUser(SimpMessageHeaderAccessor headerAccessor) {
        Authentication auth = (Authentication) headerAccessor.getUser();
        return (CustomOAuth2User) auth.getPrincipal();
    }
}
