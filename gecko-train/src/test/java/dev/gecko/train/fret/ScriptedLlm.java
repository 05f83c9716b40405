package dev.gecko.train.fret;

import dev.gecko.train.llm.Capability;
import dev.gecko.train.llm.LlmClient;
import dev.gecko.train.llm.LlmRequest;
import dev.gecko.train.llm.LlmResponse;
import dev.gecko.train.llm.Usage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

/** Answers from a script, in order (an empty answer once it runs out); records the requests and the refusals. */
final class ScriptedLlm implements LlmClient {
  final ConcurrentLinkedQueue<String> answers;
  final List<LlmRequest> requests = Collections.synchronizedList(new ArrayList<>());
  final List<LlmRequest> refused = Collections.synchronizedList(new ArrayList<>());

  ScriptedLlm(String... answers) {
    this.answers = new ConcurrentLinkedQueue<>(List.of(answers));
  }

  @Override
  public String model() {
    return "scripted";
  }

  @Override
  public Set<Capability> capabilities() {
    return EnumSet.noneOf(Capability.class);
  }

  @Override
  public LlmResponse generate(LlmRequest request) {
    requests.add(request);
    String a = answers.poll();
    return new LlmResponse(a == null ? "" : a, List.of(), Usage.ZERO, "stop", "");
  }

  @Override
  public void refused(LlmRequest request) {
    refused.add(request);
  }
}
