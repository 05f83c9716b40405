package dev.gecko.bench.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads the load average and this process's memory from /proc (Linux); "n/a" elsewhere. */
final class Uptime {
  private Uptime() {}

  /** Returns {@code "load average: 1m 5m 15m"} from /proc/loadavg. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return "load average: " + f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "load average: n/a";
    }
  }

  /** Returns a field of /proc/self/status in MiB (VmRSS, VmHWM), or -1. */
  static double statusMiB(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(field + ":")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }
}
