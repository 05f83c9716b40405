package dev.gecko.finetune.internal;

import java.security.Permission;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Run by {@link NoCallHomeTest} in a JVM of its own (with {@code -Djava.security.manager=allow}):
 * installs a security manager that records every connection or name lookup to a host that is not
 * loopback and refuses it (so that not a packet leaves even where the opt-out is broken), starts
 * the engine through {@link Torch#engine()}, and prints what happened: lines {@code ENGINE},
 * {@code OPT_OUT_TRACKING} and {@code ATTEMPTS}.
 */
public final class CallHomeProbe {
  private CallHomeProbe() {}

  public static void main(String[] args) {
    List<String> attempts = Collections.synchronizedList(new ArrayList<>());
    System.setSecurityManager(new SecurityManager() {
      @Override
      public void checkPermission(Permission perm) {}

      @Override
      public void checkPermission(Permission perm, Object context) {}

      @Override
      public void checkConnect(String host, int port) {
        if (!loopback(host)) {
          attempts.add(host + ":" + port);
          throw new SecurityException("no network in this probe: " + host + ":" + port);
        }
      }

      @Override
      public void checkConnect(String host, int port, Object context) {
        checkConnect(host, port);
      }
    });
    String engine;
    try {
      engine = Torch.engine().getEngineName();
    } catch (RuntimeException | Error e) {
      engine = "failed: " + e;
    }
    System.out.println("ENGINE " + engine);
    System.out.println("OPT_OUT_TRACKING " + System.getProperty("OPT_OUT_TRACKING"));
    System.out.println("ATTEMPTS " + attempts);
  }

  static boolean loopback(String host) {
    String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    return h.equalsIgnoreCase("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1");
  }
}
