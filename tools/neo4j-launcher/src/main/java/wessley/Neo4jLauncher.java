package wessley;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;

/**
 * Usage: Neo4jLauncher HOME_DIR BOLT_PORT [PLUGINS_DIR]. Prints "READY <port>" once Bolt accepts
 * connections. With PLUGINS_DIR, the procedures of the jars there (APOC) are loaded and allowed.
 */
public final class Neo4jLauncher {
    public static void main(String[] args) throws InterruptedException {
        Path home = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(home);
        if (args.length > 2) {
            builder.setConfig(GraphDatabaseSettings.plugin_dir, Path.of(args[2]).toAbsolutePath())
                    .setConfig(GraphDatabaseSettings.procedure_unrestricted, List.of("apoc.*"));
        }
        DatabaseManagementService dbms = builder
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(HttpConnector.enabled, false)
                // A throwaway loopback server for tests: no auth, so no initial password change.
                .setConfig(GraphDatabaseSettings.auth_enabled, false)
                .setConfig(GraphDatabaseSettings.shutdown_transaction_end_timeout, Duration.ofSeconds(5))
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(dbms::shutdown));
        dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME); // fails fast if it cannot start
        System.out.println("READY " + port);
        System.out.flush();
        Thread.currentThread().join();
    }
}
