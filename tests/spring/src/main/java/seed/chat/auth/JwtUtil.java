package seed.chat.auth;

import java.nio.charset.StandardCharsets;
import java.util.Date;

import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

import io.jsonwebtoken.Claims;
import io.jsonwebtoken.Jwts;
import org.springframework.stereotype.Component;

import seed.chat.config.ChatProperties;

/**
 * HS256 tokens as bark issues them: claims userId (a number), username and role, the key being the
 * UTF-8 bytes of chat.jwt-secret. A bad signature or an expired token throws (an ERROR frame at
 * CONNECT), as the seed's JwtUtil did.
 */
@Component
public class JwtUtil {

    private final SecretKey secretKey;

    public JwtUtil(ChatProperties props) {
        if (props.jwtSecret() == null || props.jwtSecret().isEmpty()) {
            throw new IllegalStateException("chat.jwt-secret is not set");
        }
        this.secretKey = new SecretKeySpec(props.jwtSecret().getBytes(StandardCharsets.UTF_8), "HmacSHA256");
    }

    private Claims claims(String token) {
        return Jwts.parser().verifyWith(secretKey).build().parseSignedClaims(token).getPayload();
    }

    public Long getUserId(String token) {
        return claims(token).get("userId", Long.class);
    }

    public String getUsername(String token) {
        return claims(token).get("username", String.class);
    }

    public String getRole(String token) {
        return claims(token).get("role", String.class);
    }

    public Boolean isExpired(String token) {
        return claims(token).getExpiration().before(new Date());
    }
}
