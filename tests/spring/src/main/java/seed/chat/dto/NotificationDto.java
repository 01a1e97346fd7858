package seed.chat.dto;

/** A message to one user (convertAndSendToUser), from the user who asked for it. */
public record NotificationDto(String from, String to, String text) {
}
