package seed.chat.auth;

import java.util.Arrays;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.messaging.Message;
import org.springframework.messaging.MessageChannel;
import org.springframework.messaging.simp.stomp.StompCommand;
import org.springframework.messaging.simp.stomp.StompHeaderAccessor;
import org.springframework.messaging.support.ChannelInterceptor;
import org.springframework.messaging.support.MessageHeaderAccessor;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.stereotype.Component;

/**
 * The seed's CONNECT interceptor: the JWT from the Authorization cookie (kept by
 * WebSocketHandshakeInterceptor) becomes the session's user; a missing, expired or forged token
 * is an ERROR frame. One addition: without the cookie, a STOMP {@code Authorization: Bearer}
 * header of the CONNECT is read instead, which is how bark's own clients and bark-bench send
 * their token.
 */
@Component
public class JwtAuthInterceptor implements ChannelInterceptor {

    private static final Logger log = LoggerFactory.getLogger(JwtAuthInterceptor.class);

    private final JwtUtil jwtUtil;

    public JwtAuthInterceptor(JwtUtil jwtUtil) {
        this.jwtUtil = jwtUtil;
    }

    @Override
    public Message<?> preSend(Message<?> message, MessageChannel channel) {
        // The message's own accessor: the blog printed StompHeaderAccessor.wrap(message), a copy, on
        // which setUser below would be lost (no user on the session, no user destinations).
        StompHeaderAccessor accessor = MessageHeaderAccessor.getAccessor(message, StompHeaderAccessor.class);
        if (accessor != null && StompCommand.CONNECT.equals(accessor.getCommand())) {
            Map<String, Object> attributes = accessor.getSessionAttributes();
            String cookieHeader = attributes == null ? null : (String) attributes.get("cookie");
            String token = extractTokenFromCookie(cookieHeader);
            if (token == null) {
                token = extractTokenFromHeader(accessor.getFirstNativeHeader("Authorization"));
            }

            if (token != null && !jwtUtil.isExpired(token)) {
                Long userId = jwtUtil.getUserId(token);
                String username = jwtUtil.getUsername(token);
                String role = jwtUtil.getRole(token);

                log.debug("userId: {}, username: {}, role: {}", userId, username, role);

                UserDto userDto = new UserDto(userId, username, role);

                CustomOAuth2User customOAuth2User = new CustomOAuth2User(userDto);

                Authentication auth = new UsernamePasswordAuthenticationToken(customOAuth2User, null,
                        customOAuth2User.getAuthorities());

                SecurityContextHolder.getContext().setAuthentication(auth);
                accessor.setUser(auth);
            } else {
                throw new TokenExpiredException();
            }
        }

        return message;
    }

    private String extractTokenFromCookie(String cookieHeader) {
        if (cookieHeader == null) {
            return null;
        }
        return Arrays.stream(cookieHeader.split(";"))
                .map(String::trim)
                .filter(cookie -> cookie.startsWith("Authorization="))
                .map(cookie -> cookie.substring("Authorization=".length()))
                .findFirst()
                .orElse(null);
    }

    private String extractTokenFromHeader(String header) {
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        return header.substring(7).trim();
    }
}
