package seed.chat.auth;

/** A CONNECT without a valid token; Spring answers it with an ERROR frame. */
public class TokenExpiredException extends RuntimeException {

    public TokenExpiredException() {
        super("the token is missing or expired");
    }
}
