package dev.gecko.train.fret;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Counts a run's rejects by reason, keeping one answer per reason. At most {@link #MAX_REASONS}
 * distinct reasons are kept apart; later new ones count under {@link RejectReason#OTHER}, so that
 * memory stays bounded whatever the LLM answers. Thread-safe.
 */
final class RejectTally {
  static final int MAX_REASONS = 50;
  private final Map<String, int[]> counts = new LinkedHashMap<>();
  private final Map<String, String> examples = new LinkedHashMap<>();

  synchronized void add(RejectedAnswerException e) {
    String key = e.stage() + ": " + e.reason();
    if (!counts.containsKey(key) && counts.size() >= MAX_REASONS) {
      key = RejectReason.OTHER;
    }
    counts.computeIfAbsent(key, k -> new int[1])[0]++;
    examples.putIfAbsent(key, e.lastAnswer());
  }

  /** The reasons, most common first (ties: the first seen first). */
  synchronized List<RejectReason> reasons() {
    List<RejectReason> out = new ArrayList<>();
    counts.forEach((k, n) -> out.add(new RejectReason(k, n[0], examples.get(k))));
    out.sort(Comparator.comparingInt(RejectReason::count).reversed()); // stable: ties keep first-seen order
    return List.copyOf(out);
  }
}
