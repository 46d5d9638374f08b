// Adds (or updates) a SCRAM user of the local broker through its Admin API, for a data folder that was
// formatted without it (services.sh formats new ones with the user). Run by java's source launcher
// with the broker's jars on the class path; everything comes from the environment, so the password is
// never on a command line:
//   KAFKA_BOOTSTRAP=127.0.0.1:9092 SCRAM_USER=invoice SCRAM_PASSWORD=... java -cp 'libs/*' ScramUsers.java
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

public class ScramUsers {
    public static void main(String[] args) throws Exception {
        String user = System.getenv("SCRAM_USER");
        byte[] password = System.getenv("SCRAM_PASSWORD").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Map<String, Object> config = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, System.getenv("KAFKA_BOOTSTRAP"));
        try (Admin admin = Admin.create(config)) {
            // One request per mechanism: the broker refuses two changes of one user in the same request.
            // 4096 iterations: Kafka's own default.
            for (ScramMechanism mechanism : List.of(ScramMechanism.SCRAM_SHA_512, ScramMechanism.SCRAM_SHA_256)) {
                ScramCredentialInfo info = new ScramCredentialInfo(mechanism, 4096);
                admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(user, info, password))).all().get();
            }
        }
        System.out.println("ScramUsers: SCRAM-SHA-512 and SCRAM-SHA-256 credentials of " + user + " stored");
    }
}
