package seed.chat.auth;

import java.util.Collection;
import java.util.List;

import org.springframework.security.core.AuthenticatedPrincipal;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;

/**
 * The seed's principal (an OAuth2 user there; the OAuth2 login is not part of the chat). getName()
 * returns the username: the seed's first bug was a null name, which broke Spring's user registry
 * (it keys sessions by principal name) and, here, user destinations.
 */
public class CustomOAuth2User implements AuthenticatedPrincipal {

    private final UserDto userDto;

    public CustomOAuth2User(UserDto userDto) {
        this.userDto = userDto;
    }

    @Override
    public String getName() {
        return userDto.username();
    }

    public Long getUserId() {
        return userDto.userId();
    }

    public String getRole() {
        return userDto.role();
    }

    public Collection<? extends GrantedAuthority> getAuthorities() {
        return List.of(new SimpleGrantedAuthority("ROLE_" + userDto.role()));
    }
}
