package dev.gecko.train.llm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Gemini {@code generateContent}; log-probabilities of generated tokens only, never of the prompt.
 * Thread-safe, as {@link HttpLlmClient}.
 */
final class GeminiClient extends HttpLlmClient {
  /** The thinking budget sent with each request, or -1 for none (the model's default). */
  private final int thinkingBudget;

  /** The most output tokens of an answer whose thoughts would take them all, every time: a grade's. */
  private static final int SHORT_ANSWER_TOKENS = 16;

  GeminiClient(String baseUrl, String model, Set<Capability> capabilities, HttpTransport transport, int thinkingBudget) {
    // "models/gemini-2.5-flash", as ListModels and Google's samples write it, names the same model
    // (and the same run: the name goes into a run's digest and the cache's keys)
    super("gemini", baseUrl, model.startsWith("models/") ? model.substring("models/".length()) : model, capabilities,
        transport);
    this.thinkingBudget = thinkingBudget;
  }

  @Override
  LlmResponse send(LlmRequest request) {
    GenerationOptions o = request.options();
    ObjectNode body = HttpTransport.JSON.createObjectNode();
    StringBuilder system = new StringBuilder();
    ArrayNode contents = body.putArray("contents");
    for (Message m : request.messages()) {
      if (m.role() == Message.Role.SYSTEM) {
        system.append(system.length() == 0 ? "" : "\n\n").append(m.content());
        continue;
      }
      ObjectNode c = contents.addObject();
      c.put("role", m.role() == Message.Role.ASSISTANT ? "model" : "user");
      c.putArray("parts").addObject().put("text", m.content());
    }
    if (system.length() > 0) {
      body.putObject("systemInstruction").putArray("parts").addObject().put("text", system.toString());
    }
    ObjectNode gc = body.putObject("generationConfig");
    gc.put("temperature", o.temperature());
    // a thinking model's thoughts count against maxOutputTokens: the budget comes on top of the answer's tokens
    gc.put("maxOutputTokens", o.maxTokens() + Math.max(0, thinkingBudget));
    if (thinkingBudget >= 0) {
      gc.putObject("thinkingConfig").put("thinkingBudget", thinkingBudget);
    }
    gc.put("candidateCount", 1);
    if (o.jsonOutput() && supports(Capability.JSON_OUTPUT)) {
      gc.put("responseMimeType", "application/json");
    }
    if (o.topLogprobs() > 0) {
      gc.put("responseLogprobs", true);
      gc.put("logprobs", o.topLogprobs());
    }
    HttpTransport.Reply reply = post("/v1beta/models/" + URLEncoder.encode(model(), StandardCharsets.UTF_8) + ":generateContent", body);
    JsonNode json = reply.json();
    String id = reply.requestIdOr("responseId");
    JsonNode usageNode = json.path("usageMetadata");
    Usage usage = new Usage(HttpTransport.tokens(usageNode.path("promptTokenCount")),
        HttpTransport.tokens(usageNode.path("candidatesTokenCount")) + HttpTransport.tokens(usageNode.path("thoughtsTokenCount")));
    JsonNode cand = json.path("candidates").path(0);
    if (cand.isMissingNode()) {
      String block = json.path("promptFeedback").path("blockReason").asText("");
      if (block.isEmpty()) {
        // billed all the same: the usage goes with the failure, for the meter
        throw new MalformedResponseException("generateContent returned no candidates", 200, shownBody(json), id, usage);
      }
      return new LlmResponse("", List.of(), usage, "BLOCKED:" + block, id); // the caller treats it as a rejected answer
    }
    StringBuilder text = new StringBuilder();
    for (JsonNode part : cand.path("content").path("parts")) {
      if (!part.path("thought").asBoolean(false)) {
        text.append(part.path("text").asText(""));
      }
    }
    long thoughts = HttpTransport.tokens(usageNode.path("thoughtsTokenCount"));
    if (text.length() == 0 && thoughts > 0 && thinkingBudget < 0 && o.maxTokens() <= SHORT_ANSWER_TOKENS
        && "MAX_TOKENS".equals(cand.path("finishReason").asText(""))) {
      // a model that thinks by default spends a grade's few tokens on thoughts: every grade of the
      // run would end so, so one clear stop rather than a rejected answer per seed (a longer answer
      // that one request's thoughts used up, or one past a budget set, is that seed's rejected answer)
      throw new LlmException("gemini model " + model() + " spent all its output tokens thinking (" + thoughts
          + " thought tokens of maxOutputTokens " + o.maxTokens() + ") and gave no answer: set a thinking budget, which"
          + " is added to each request's maxOutputTokens (thinkingBudget(0) turns thinking off where the model allows it,"
          + " as Gemini 2.5 Flash does; gecko generate: --thinking-budget), or use a model that does not think",
          200, shownBody(json), id, null, null, usage);
    }
    List<TokenLogprob> lps = new ArrayList<>();
    JsonNode lr = cand.path("logprobsResult");
    JsonNode chosen = lr.path("chosenCandidates");
    JsonNode tops = lr.path("topCandidates");
    if (!chosen.isMissingNode() && !chosen.isArray() || !tops.isMissingNode() && !tops.isArray()) {
      throw new MalformedResponseException("generateContent's logprobsResult holds no arrays of candidates", 200,
          shownBody(json), id, usage);
    }
    for (int i = 0; i < chosen.size(); i++) {
      List<TokenLogprob.Alternative> top = new ArrayList<>();
      for (JsonNode a : tops.path(i).path("candidates")) {
        top.add(new TokenLogprob.Alternative(a.path("token").asText(""), HttpTransport.num(a.path("logProbability"))));
      }
      JsonNode c = chosen.get(i);
      lps.add(new TokenLogprob(c.path("token").asText(""), HttpTransport.num(c.path("logProbability")), top));
    }
    return new LlmResponse(text.toString(), lps, usage, cand.path("finishReason").asText(""), id);
  }
}
