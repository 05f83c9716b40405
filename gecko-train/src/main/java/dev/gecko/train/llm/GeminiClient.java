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

  GeminiClient(String baseUrl, String model, Set<Capability> capabilities, HttpTransport transport) {
    super("gemini", baseUrl, model, capabilities, transport);
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
    gc.put("maxOutputTokens", o.maxTokens());
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
