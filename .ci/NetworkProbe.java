import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;

/**
 * A positive control of .ci/run: a Java process that sends one UDP datagram to a documentation
 * address (192.0.2.1, TEST-NET-1: never routed) without connecting first, the way a DNS client or a
 * telemetry agent sends. The test JVM wrapper must record it. Run as a single-file source program.
 */
public final class NetworkProbe {
  public static void main(String[] args) {
    try (DatagramSocket s = new DatagramSocket()) {
      s.send(new DatagramPacket(new byte[] {1}, 1, new InetSocketAddress("192.0.2.1", 9)));
    } catch (Exception e) {
      // in an empty network namespace the send fails (no route); the attempt is what counts
    }
  }
}
