package seed.chat.auth;

import java.util.Map;

import org.springframework.http.server.ServerHttpRequest;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.web.socket.WebSocketHandler;
import org.springframework.web.socket.server.HandshakeInterceptor;

/**
 * The seed's handshake interceptor: STOMP frames carry no HTTP cookies, so the Cookie header of
 * the upgrade (or SockJS) request is kept in the session attributes, where JwtAuthInterceptor
 * finds the JWT at CONNECT.
 */
public class WebSocketHandshakeInterceptor implements HandshakeInterceptor {

    @Override
    public boolean beforeHandshake(ServerHttpRequest request, ServerHttpResponse response, WebSocketHandler wsHandler,
                                   Map<String, Object> attributes) throws Exception {
        String cookieHeader = request.getHeaders().getFirst("Cookie");

        if (cookieHeader != null) {
            attributes.put("cookie", cookieHeader);
        }

        return true;
    }

    @Override
    public void afterHandshake(ServerHttpRequest request, ServerHttpResponse response, WebSocketHandler wsHandler,
                               Exception exception) {

    }
}
