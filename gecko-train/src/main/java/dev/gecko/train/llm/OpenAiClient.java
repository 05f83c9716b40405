package dev.gecko.train.llm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** OpenAI-compatible chat completions and legacy completions (echo + logprobs). Thread-safe, as {@link HttpLlmClient}. */
final class OpenAiClient extends HttpLlmClient {

  OpenAiClient(String baseUrl, String model, Set<Capability> capabilities, HttpTransport transport) {
    super("openai-compatible", baseUrl, model, capabilities, transport);
  }

  @Override
  LlmResponse send(LlmRequest request) {
    GenerationOptions o = request.options();
    ObjectNode body = HttpTransport.JSON.createObjectNode();
    body.put("model", model());
    ArrayNode msgs = body.putArray("messages");
    for (Message m : request.messages()) {
      msgs.addObject().put("role", m.role().name().toLowerCase(Locale.ROOT)).put("content", m.content());
    }
    body.put("temperature", o.temperature());
    body.put("max_tokens", o.maxTokens());
    if (o.jsonOutput() && supports(Capability.JSON_OUTPUT)) {
      body.putObject("response_format").put("type", "json_object");
    }
    if (o.topLogprobs() > 0) {
      body.put("logprobs", true);
      body.put("top_logprobs", o.topLogprobs());
    }
    HttpTransport.Reply reply = post("/chat/completions", body);
    JsonNode json = reply.json();
    JsonNode choice = json.path("choices").path(0);
    if (choice.isMissingNode()) {
      // billed all the same: the usage goes with the failure, for the meter
      throw new MalformedResponseException("chat completion has no choices", 200, shownBody(json), reply.requestId(), usage(json));
    }
    String text = choice.path("message").path("content").asText("");
    List<TokenLogprob> lps = new ArrayList<>();
    for (JsonNode t : choice.path("logprobs").path("content")) {
      List<TokenLogprob.Alternative> top = new ArrayList<>();
      for (JsonNode a : t.path("top_logprobs")) {
        top.add(new TokenLogprob.Alternative(a.path("token").asText(""), HttpTransport.num(a.path("logprob"))));
      }
      lps.add(new TokenLogprob(t.path("token").asText(""), HttpTransport.num(t.path("logprob")), top));
    }
    return new LlmResponse(text, lps, usage(json), choice.path("finish_reason").asText(""), reply.requestIdOr("id"));
  }

  @Override
  public PromptLogprobs promptLogprobs(String prompt) {
    require(Capability.PROMPT_LOGPROBS);
    ObjectNode body = HttpTransport.JSON.createObjectNode();
    body.put("model", model());
    body.put("prompt", prompt);
    body.put("max_tokens", 1); // max_tokens=0 is rejected or buggy on some vLLM versions
    body.put("echo", true);
    body.put("logprobs", 1);
    body.put("temperature", 0.0);
    HttpTransport.Reply reply = post("/completions", body);
    JsonNode lp = reply.json().path("choices").path(0).path("logprobs");
    JsonNode tokens = lp.path("tokens");
    JsonNode values = lp.path("token_logprobs");
    JsonNode offsets = lp.path("text_offset");
    if (!tokens.isArray() || tokens.size() == 0 || !values.isArray() || values.size() != tokens.size()
        || !offsets.isArray() || offsets.size() != tokens.size()) {
      throw new MalformedResponseException("completion has no usable echo logprobs (tokens/token_logprobs/text_offset);"
          + " the server may not support echo with logprobs", 200, shownBody(reply.json()), reply.requestId(), usage(reply.json()));
    }
    List<String> ts = new ArrayList<>();
    List<Double> vs = new ArrayList<>();
    List<Integer> os = new ArrayList<>();
    for (int i = 0; i < tokens.size(); i++) {
      ts.add(tokens.get(i).asText(""));
      vs.add(HttpTransport.echoValue(values.get(i))); // null (the first token) or a broken value: no value
      os.add(offsets.get(i).asInt());
    }
    return new PromptLogprobs(prompt, ts, vs, os, usage(reply.json()));
  }

  private static Usage usage(JsonNode json) {
    JsonNode u = json.path("usage");
    return new Usage(HttpTransport.tokens(u.path("prompt_tokens")), HttpTransport.tokens(u.path("completion_tokens")));
  }
}
