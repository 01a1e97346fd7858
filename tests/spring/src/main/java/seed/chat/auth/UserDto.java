package seed.chat.auth;

/** Who a token names: bark's claims userId, username and role. */
public record UserDto(Long userId, String username, String role) {
}
