package seed.chat;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * The seed's Spring chat server, reduced to its STOMP part: config/StompConfig picks the broker
 * (Spring's simple broker as in the seed, or the STOMP broker relay to bark or RabbitMQ), auth/
 * holds the cookie-JWT handshake and CONNECT interceptors, controller/ the seed's ChatController.
 * Every setting is a property (application.properties, overridden on the command line).
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class SeedChatApplication {

    public static void main(String[] args) {
        SpringApplication.run(SeedChatApplication.class, args);
    }
}
