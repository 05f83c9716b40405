package dev.gecko.train.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A loopback LLM server for tests: OpenAI {@code /v1/chat/completions}, {@code /v1/completions}
 * (echo + logprobs) and Gemini {@code /v1beta/models/M:generateContent}, answering from a
 * deterministic "brain" (word overlap between query and passage), with scripted faults.
 *
 * <p>The brain is a gullible model on purpose: instructions found OUTSIDE the {@code
 * <passage>...</passage>} block of the last user message that contain {@code OVERRIDE} are obeyed
 * (the query becomes {@link #CANARY}); a passage containing {@code GRADE-HACK} makes the grader
 * answer outside the label set.
 */
public final class FakeLlmServer implements AutoCloseable {
  /** What an obeyed injection makes the model write. */
  public static final String CANARY = "CANARY-7F3A-LEAK";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern WORD = Pattern.compile("[a-z]+");
  private static final Pattern TOKEN = Pattern.compile("\\s*\\S+");
  static final List<String> TASKS = List.of(
      "Given a query, find a passage that has the answer to the query.",
      "Given a web search query, find a passage that might show up as a search result.",
      "Given a claim, find a passage that allows you to check whether the claim is true or not.",
      "Given a sentence, find a passage that expresses the same meaning.");

  /** How the brain words its query generation answers. */
  public enum GenerationStyle {
    /** The JSON object alone, in a {@code ```json} code fence (the default). */
    FENCED,
    /**
     * Like many chat models: prose before and after a fenced object that carries the two asked
     * keys and two more, {@code task_description} (the task, reworded) and {@code question} (a
     * question that differs from the query: see {@link #questionFor}).
     */
    CHATTY,
    /** A refusal with no JSON at all: {@value #REFUSAL} */
    REFUSING
  }

  /** What a {@link GenerationStyle#REFUSING} model answers. */
  public static final String REFUSAL = "I cannot help with that.";

  /**
   * A scripted fault for one request.
   *
   * @param stallMillis when positive: a 200 whose headers (with the full Content-Length) and first
   *     bytes are sent at once, then nothing for this long, then the connection closes
   */
  public record Fault(int status, Map<String, String> headers, String body, long delayMillis, boolean truncate, long stallMillis) {
    /** A fault that does not stall. */
    public Fault(int status, Map<String, String> headers, String body, long delayMillis, boolean truncate) {
      this(status, headers, body, delayMillis, truncate, 0);
    }

    /** A 200 that sends its headers and a few bytes, then stalls the body for {@code millis}. */
    public static Fault stalled(long millis) {
      return new Fault(0, Map.of(), null, 0, false, millis);
    }

    /** An HTTP error. */
    public static Fault status(int status, Map<String, String> headers, String body) {
      return new Fault(status, headers, body, 0, false);
    }

    /** A normal answer after a delay. */
    public static Fault slow(long millis) {
      return new Fault(0, Map.of(), null, millis, false);
    }

    /** A 200 whose body stops half-way (Content-Length says more). */
    public static Fault truncated() {
      return new Fault(0, Map.of(), null, 0, true);
    }

    /** A 200 with a body that is not JSON. */
    public static Fault malformed() {
      return new Fault(200, Map.of(), "{\"choices\": [ {\"message\": ", 0, false);
    }
  }

  /** One request as received. */
  public record Recorded(String path, Map<String, List<String>> headers, String body, String query) {}

  private final HttpServer server;
  private final ExecutorService pool;
  private final ConcurrentLinkedQueue<Fault> faults = new ConcurrentLinkedQueue<>();
  private final List<Recorded> requests = Collections.synchronizedList(new ArrayList<>());
  private final Map<String, String> preferred = new ConcurrentHashMap<>();
  private final AtomicInteger ignoreFormat = new AtomicInteger();
  private final AtomicInteger served = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();
  private volatile int dieAfter = Integer.MAX_VALUE;
  private volatile long delayMillis;
  private volatile GenerationStyle style = GenerationStyle.FENCED;
  private volatile String echoBos;
  private final Object gate = new Object();
  private boolean paused;

  private FakeLlmServer(int port) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
    pool = Executors.newFixedThreadPool(8);
    server.setExecutor(pool);
    server.createContext("/", this::handle);
    server.start();
  }

  /** Starts a server on 127.0.0.1 and a free port. */
  public static FakeLlmServer start() throws IOException {
    return new FakeLlmServer(0);
  }

  /** Base URL for the OpenAI-compatible client. */
  public String openAiBaseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
  }

  /** Base URL for the Gemini client. */
  public String geminiBaseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Applies {@code f} to the next request (faults are consumed in order). */
  public void enqueue(Fault f) {
    faults.add(f);
  }

  /** The next {@code n} query generation answers ignore the requested format. */
  public void ignoreFormatFor(int n) {
    ignoreFormat.set(n);
  }

  /** Delays every answer by {@code millis} (a slow model). */
  public void delayEveryAnswer(long millis) {
    delayMillis = millis;
  }

  /** Sets how query generation answers are worded (default {@link GenerationStyle#FENCED}). */
  public void generationStyle(GenerationStyle s) {
    style = java.util.Objects.requireNonNull(s, "style is null");
  }

  /**
   * Makes echo answers start like vLLM's for a tokenizer that adds a BOS token: {@code bos} (e.g.
   * {@code "<|begin_of_text|>"}) is echoed first with a null log-probability, the prompt's first
   * token gets one, and {@code text_offset} is the running sum of the echoed tokens' lengths from
   * 0 (so every offset is shifted by the BOS token's length). Null: no BOS (the default).
   */
  public void echoBos(String bos) {
    echoBos = bos;
  }

  /**
   * Holds every request received from now on (unanswered, its connection open) until {@link
   * #resume()} or {@link #close()}: a model that is busy for as long as a test needs.
   */
  public void pause() {
    synchronized (gate) {
      paused = true;
    }
  }

  /** Answers the held requests and stops holding new ones. */
  public void resume() {
    synchronized (gate) {
      paused = false;
      gate.notifyAll();
    }
  }

  /** The server stops (connections refused) after answering {@code n} more requests. */
  public void dieAfter(int n) {
    dieAfter = served.get() + n;
  }

  /** Makes both graders prefer passages containing {@code passageSnippet} for {@code query}. */
  public void prefer(String query, String passageSnippet) {
    preferred.put(query, passageSnippet);
  }

  /** Returns the most requests that were in flight at once. */
  public int maxInFlight() {
    return maxInFlight.get();
  }

  /** Returns the requests received so far. */
  public List<Recorded> requests() {
    synchronized (requests) {
      return List.copyOf(requests);
    }
  }

  /**
   * Runs a server until killed, for trying {@code gecko generate} by hand: {@code FakeLlmServer
   * [port [style]]} (port 0 or nothing: a free port; style {@code fenced}, the default, {@code
   * chatty} or {@code refusing}: see {@link GenerationStyle}). Prints the base URLs.
   */
  public static void main(String[] args) throws Exception {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    FakeLlmServer s = new FakeLlmServer(port);
    if (args.length > 1) {
      s.generationStyle(GenerationStyle.valueOf(args[1].toUpperCase(Locale.ROOT)));
    }
    System.out.println("openai base URL: " + s.openAiBaseUrl());
    System.out.println("gemini base URL: " + s.geminiBaseUrl());
    Thread.currentThread().join();
  }

  @Override
  public void close() {
    server.stop(0);
    pool.shutdownNow();
  }

  // ---------------------------------------------------------------- the brain (public for tests)

  /** The words of a text: lowercase letter runs. */
  public static List<String> words(String text) {
    List<String> out = new ArrayList<>();
    Matcher m = WORD.matcher(text.toLowerCase(Locale.ROOT));
    while (m.find()) {
      out.add(m.group());
    }
    return out;
  }

  /** The query the brain writes for a passage: its first six distinct words of 5+ letters. */
  public static String queryFor(String passage) {
    Set<String> picked = new LinkedHashSet<>();
    for (String w : words(passage)) {
      if (w.length() >= 5) {
        picked.add(w);
      }
      if (picked.size() == 6) {
        break;
      }
    }
    return picked.isEmpty() ? "something about nothing" : String.join(" ", picked);
  }

  /** The task the brain picks for a passage. */
  public static String taskFor(String passage) {
    return TASKS.get(Math.floorMod(passage.hashCode(), TASKS.size()));
  }

  /** The extra {@code question} a {@link GenerationStyle#CHATTY} answer carries: never the query. */
  public static String questionFor(String passage) {
    return "Which passage talks about " + queryFor(passage) + "?";
  }

  /** The fraction of query words found in the passage, or 1.0 when the passage is preferred. */
  public double fraction(String query, String passage) {
    String snippet = preferred.get(query);
    if (snippet != null && passage.contains(snippet)) {
      return 1.0;
    }
    Set<String> pw = new java.util.HashSet<>(words(passage));
    List<String> qw = words(query);
    if (qw.isEmpty()) {
      return 0;
    }
    long hit = qw.stream().filter(pw::contains).count();
    return (double) hit / qw.size() * 0.9; // only a preferred passage reaches 1.0
  }

  /** Logits of grades 0-3 for a fraction (the RC and judged-QL token distribution). */
  public static double[] gradeLogprobs(double f, boolean ql) {
    double target = 3 * (ql ? f * f : f);
    double[] logits = new double[4];
    double max = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < 4; k++) {
      logits[k] = -2.0 * (k - target) * (k - target);
      max = Math.max(max, logits[k]);
    }
    double z = 0;
    for (double l : logits) {
      z += Math.exp(l - max);
    }
    for (int k = 0; k < 4; k++) {
      logits[k] = logits[k] - max - Math.log(z);
    }
    return logits;
  }

  /** The expected grade the client should compute from {@link #gradeLogprobs}. */
  public static double expectedGrade(double f, boolean ql) {
    double[] lp = gradeLogprobs(f, ql);
    double e = 0;
    double z = 0;
    for (int k = 0; k < 4; k++) {
      e += k * Math.exp(lp[k]);
      z += Math.exp(lp[k]);
    }
    return e / z;
  }

  /** The log-probability the brain gives one query word after a passage. */
  public double queryTokenLogprob(String query, String word, String passage) {
    String snippet = preferred.get(query);
    if (snippet != null && passage.contains(snippet)) {
      return -0.01;
    }
    return words(passage).contains(word) ? -0.5 : -4.0;
  }

  /** Splits the last user message into its passage and the rest. */
  record Parts(String passage, String outside, String query) {}

  static Parts parts(String userText) {
    int a = userText.indexOf("<passage>");
    int b = a < 0 ? -1 : userText.indexOf("</passage>", a);
    String passage = a < 0 || b < 0 ? "" : userText.substring(a + "<passage>".length(), b);
    String outside = a < 0 || b < 0 ? userText : userText.substring(0, a) + userText.substring(b + "</passage>".length());
    int qa = outside.indexOf("<query>");
    int qb = qa < 0 ? -1 : outside.indexOf("</query>", qa);
    String query = qa < 0 || qb < 0 ? "" : outside.substring(qa + "<query>".length(), qb);
    if (passage.startsWith("\nTitle: ")) {
      passage = passage.substring(passage.indexOf('\n', 1) + 1);
    }
    return new Parts(passage.strip(), outside, query);
  }

  /** An answer: text, and per generated token (token, logprob, top alternatives). */
  record Answer(String text, List<Object[]> tokens) {}

  Answer chat(String system, String lastUser, int topLogprobs) {
    Parts p = parts(lastUser);
    if (system.contains("You create training data")) {
      if (ignoreFormat.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        return new Answer("Sure! A good query for this would be about " + queryFor(p.passage()) + ". Hope that helps!", List.of());
      }
      if (p.outside().contains("OVERRIDE")) {
        return new Answer("{\"task\": \"" + TASKS.get(0) + "\", \"query\": \"" + CANARY + "\"}", List.of());
      }
      GenerationStyle st = style;
      if (st == GenerationStyle.REFUSING) {
        return new Answer(REFUSAL, List.of());
      }
      ObjectNode o = JSON.createObjectNode().put("task", taskFor(p.passage())).put("query", queryFor(p.passage()));
      if (st == GenerationStyle.CHATTY) {
        o.put("task_description", "The task: " + taskFor(p.passage())).put("question", questionFor(p.passage()));
        return new Answer("Sure! Here is a task {and a query} for this passage:\n\n```json\n" + o.toPrettyString()
            + "\n```\n\nThe query is short, as asked. Let me know if you need another one!", List.of());
      }
      return new Answer("```json\n" + o + "\n```", List.of());
    }
    boolean ql = system.contains("You judge query likelihood");
    if (ql || system.contains("You judge search results")) {
      if (p.passage().contains("UNGRADABLE")) { // an answer with no grade among its top tokens
        List<Object[]> alts = List.of(new Object[] {"I", -0.1}, new Object[] {"The", -2.5});
        return new Answer("I cannot grade this.", List.<Object[]>of(new Object[] {"I", -0.1, alts}));
      }
      if (p.passage().contains("GRADE-HACK")) {
        List<Object[]> alts = List.of(new Object[] {"9", -0.01}, new Object[] {"!", -5.0});
        return new Answer("9", List.<Object[]>of(new Object[] {"9", -0.01, alts}));
      }
      double[] lp = gradeLogprobs(fraction(p.query(), p.passage()), ql);
      int best = 0;
      for (int k = 1; k < 4; k++) {
        if (lp[k] > lp[best]) {
          best = k;
        }
      }
      List<Object[]> top = new ArrayList<>();
      Integer[] order = {0, 1, 2, 3};
      java.util.Arrays.sort(order, (x, y) -> Double.compare(lp[y], lp[x]));
      for (int i = 0; i < Math.min(topLogprobs, 4); i++) {
        top.add(new Object[] {Integer.toString(order[i]), lp[order[i]]});
      }
      return new Answer(Integer.toString(best), List.<Object[]>of(new Object[] {Integer.toString(best), lp[best], top}));
    }
    return new Answer("I do not know this prompt.", List.of());
  }

  // ---------------------------------------------------------------- HTTP

  private void handle(HttpExchange ex) throws IOException {
    maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
    try {
      handleCounted(ex);
    } finally {
      inFlight.decrementAndGet();
    }
  }

  private void handleCounted(HttpExchange ex) throws IOException {
    try (ex) {
      String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      requests.add(new Recorded(ex.getRequestURI().getPath(), Map.copyOf(ex.getRequestHeaders()), body,
          ex.getRequestURI().getRawQuery()));
      synchronized (gate) {
        while (paused) {
          gate.wait(); // close() interrupts
        }
      }
      int n = served.incrementAndGet();
      if (n > dieAfter) {
        server.stop(0);
        return; // connection closed without a response
      }
      if (delayMillis > 0) {
        try {
          Thread.sleep(delayMillis);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
      Fault f = faults.poll();
      if (f != null && f.delayMillis() > 0) {
        try {
          Thread.sleep(f.delayMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
      if (f != null && f.status() > 0) {
        send(ex, f.status(), f.headers(), f.body());
        return;
      }
      String path = ex.getRequestURI().getPath();
      if (body.contains("CONTEXT-OVERFLOW") && body.contains("You judge")) { // a grading prompt too long for the model
        send(ex, 400, Map.of(), "{\"error\":{\"message\":\"This model's maximum context length is 512 tokens.\","
            + "\"type\":\"invalid_request_error\",\"code\":\"context_length_exceeded\"}}");
        return;
      }
      JsonNode req = JSON.readTree(body);
      String out;
      if (path.endsWith("/chat/completions")) {
        out = openAiChat(req).toString();
      } else if (path.endsWith("/completions")) {
        out = openAiEcho(req).toString();
      } else if (path.endsWith(":generateContent")) {
        out = gemini(req).toString();
      } else {
        send(ex, 404, Map.of(), "{\"error\":{\"message\":\"no route " + path + "\"}}");
        return;
      }
      if (f != null && f.stallMillis() > 0) {
        byte[] bytes = out.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, bytes.length);
        OutputStream os = ex.getResponseBody();
        os.write(bytes, 0, Math.min(8, bytes.length));
        os.flush();
        try {
          Thread.sleep(f.stallMillis()); // close() interrupts
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        throw new IOException("stalled on purpose");
      }
      if (f != null && f.truncate()) {
        byte[] bytes = out.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, bytes.length);
        OutputStream os = ex.getResponseBody();
        os.write(bytes, 0, bytes.length / 2);
        os.flush();
        ex.getHttpContext().getServer(); // keep the exchange open; closing it short ends the connection
        throw new IOException("truncated on purpose");
      }
      send(ex, 200, Map.of("x-request-id", "req-" + n), out);
    } catch (IOException | RuntimeException e) {
      // the exchange is closed; the client sees a short or missing response
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // closing while held: no answer
    }
  }

  private static void send(HttpExchange ex, int status, Map<String, String> headers, String body) throws IOException {
    byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
    ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      ex.getResponseBody().write(bytes);
    }
  }

  private ObjectNode openAiChat(JsonNode req) {
    String system = "";
    String lastUser = "";
    for (JsonNode m : req.path("messages")) {
      if (m.path("role").asText().equals("system")) {
        system = m.path("content").asText();
      } else if (m.path("role").asText().equals("user") && m.path("content").asText().contains("<passage>")) {
        lastUser = m.path("content").asText(); // the last turn with a passage (repair turns carry none)
      }
    }
    int top = req.path("logprobs").asBoolean(false) ? req.path("top_logprobs").asInt(0) : 0;
    Answer a = chat(system, lastUser, top);
    ObjectNode r = JSON.createObjectNode();
    r.put("id", "chatcmpl-fake").put("object", "chat.completion").put("model", req.path("model").asText());
    ObjectNode choice = r.putArray("choices").addObject();
    choice.put("index", 0).put("finish_reason", "stop");
    choice.putObject("message").put("role", "assistant").put("content", a.text());
    if (top > 0) {
      ArrayNode content = choice.putObject("logprobs").putArray("content");
      for (Object[] t : a.tokens()) {
        ObjectNode tn = content.addObject().put("token", (String) t[0]).put("logprob", (Double) t[1]);
        ArrayNode tl = tn.putArray("top_logprobs");
        @SuppressWarnings("unchecked")
        List<Object[]> alts = (List<Object[]>) t[2];
        for (Object[] alt : alts) {
          tl.addObject().put("token", (String) alt[0]).put("logprob", (Double) alt[1]);
        }
      }
    }
    r.putObject("usage").put("prompt_tokens", 100).put("completion_tokens", 10).put("total_tokens", 110);
    return r;
  }

  private ObjectNode openAiEcho(JsonNode req) {
    String prompt = req.path("prompt").asText();
    if (!req.path("echo").asBoolean(false)) {
      throw new IllegalArgumentException("only echo is supported");
    }
    int qStart = prompt.lastIndexOf("\nQuery:") + "\nQuery:".length();
    String before = prompt.substring(0, prompt.lastIndexOf("\nQuery:"));
    int pa = before.lastIndexOf("<passage>");
    int pb = before.lastIndexOf("</passage>");
    String passage = parts(before.substring(pa, pb + "</passage>".length())).passage();
    String query = prompt.substring(qStart).strip();
    ObjectNode r = JSON.createObjectNode();
    ObjectNode lp = r.putArray("choices").addObject().put("text", prompt + " .").put("index", 0).put("finish_reason", "length")
        .putObject("logprobs");
    ArrayNode tokens = lp.putArray("tokens");
    ArrayNode values = lp.putArray("token_logprobs");
    ArrayNode offsets = lp.putArray("text_offset");
    String bos = echoBos;
    int count = 0;
    int shift = 0;
    if (bos != null) {
      tokens.add(bos);
      offsets.add(0);
      values.addNull();
      count++;
      shift = bos.length(); // vLLM: text_offset sums the echoed tokens' lengths, the BOS token's included
    }
    Matcher m = TOKEN.matcher(prompt);
    boolean first = bos == null;
    while (m.find()) {
      tokens.add(m.group());
      offsets.add(m.start() + shift);
      if (first) {
        values.addNull();
        first = false;
      } else if (m.start() >= qStart) {
        values.add(queryTokenLogprob(query, m.group().strip().toLowerCase(Locale.ROOT), passage));
      } else {
        values.add(-1.0);
      }
      count++;
    }
    tokens.add(" .");
    offsets.add(prompt.length() + shift);
    values.add(-0.3);
    r.putObject("usage").put("prompt_tokens", count).put("completion_tokens", 1).put("total_tokens", count + 1);
    return r;
  }

  private ObjectNode gemini(JsonNode req) {
    String system = req.path("systemInstruction").path("parts").path(0).path("text").asText("");
    String lastUser = "";
    for (JsonNode c : req.path("contents")) {
      if (c.path("role").asText().equals("user") && c.path("parts").path(0).path("text").asText().contains("<passage>")) {
        lastUser = c.path("parts").path(0).path("text").asText();
      }
    }
    JsonNode gc = req.path("generationConfig");
    int top = gc.path("responseLogprobs").asBoolean(false) ? gc.path("logprobs").asInt(0) : 0;
    Answer a = chat(system, lastUser, top);
    ObjectNode r = JSON.createObjectNode();
    ObjectNode cand = r.putArray("candidates").addObject();
    cand.putObject("content").put("role", "model").putArray("parts").addObject().put("text", a.text());
    cand.put("finishReason", "STOP").put("index", 0);
    if (top > 0) {
      ObjectNode lr = cand.putObject("logprobsResult");
      ArrayNode tops = lr.putArray("topCandidates");
      ArrayNode chosen = lr.putArray("chosenCandidates");
      for (Object[] t : a.tokens()) {
        chosen.addObject().put("token", (String) t[0]).put("logProbability", (Double) t[1]);
        ArrayNode cs = tops.addObject().putArray("candidates");
        @SuppressWarnings("unchecked")
        List<Object[]> alts = (List<Object[]>) t[2];
        for (Object[] alt : alts) {
          cs.addObject().put("token", (String) alt[0]).put("logProbability", (Double) alt[1]);
        }
      }
    }
    r.putObject("usageMetadata").put("promptTokenCount", 120).put("candidatesTokenCount", 5).put("totalTokenCount", 125);
    r.put("modelVersion", "fake-gemini");
    return r;
  }
}
