package dev.gecko.train.fret;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import dev.gecko.train.llm.UsageMeter;

/**
 * A FRet run folder's {@code manifest.json} (format {@value OutputStore#FORMAT}): the run's
 * configuration and its digest (what a resumed run must match), its status and counts. Read
 * leniently (unknown keys are ignored, so a newer writer's additions do not break a resume check);
 * written by {@link OutputStore} only. Immutable.
 *
 * @param llmEndpoints where the run's LLM answers came from ({@code LlmClient.endpoint()}), each
 *     server once, in the order the runs used them: provenance, outside the digest (a server
 *     restarted on another port, or another replica of the same model, may carry a run on);
 *     null in manifests written before it was recorded
 * @param usageLastRun the LLM usage of the last run, null when no meter was given
 * @param error why the last run stopped, null unless {@code status} is {@code stopped}
 */
@JsonPropertyOrder({"format", "digest", "created", "config", "llmEndpoints", "status", "updated", "counts", "usageLastRun",
    "error"})
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
record RunManifest(String format, String digest, String created, Config config, List<String> llmEndpoints, String status,
    String updated, Counts counts, UsageMeter.Snapshot usageLastRun, String error) {

  /** Counts after the last run: lines in the two files and the seeds the last run was given. */
  @JsonPropertyOrder({"examples", "rejects", "seedsInLastRun"})
  record Counts(int examples, int rejects, int seedsInLastRun) {
  }

  /**
   * What makes two runs' examples the same dataset; its compact JSON's SHA-256 is the run's digest,
   * so the order and names of its keys are part of the format.
   */
  @JsonPropertyOrder({"llm", "scorers", "embedder", "parameters", "prompts", "corpus"})
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Config(Llm llm, Scorers scorers, Embedder embedder, Parameters parameters, JsonNode prompts, Corpus corpus) {
  }

  record Llm(String model) {
  }

  @JsonPropertyOrder({"ql", "rc"})
  record Scorers(String ql, String rc) {
  }

  /**
   * The embedder that retrieved the candidates: its model's name and width, and its {@link
   * dev.gecko.core.ModelPackage#fingerprint() fingerprint} (the content of its graph, tokenizer
   * and adapter, and its settings), so that a model folder retrained in place under the same name
   * and width is a different configuration. Null in manifests written before it was recorded (such
   * a run does not resume: the difference is named).
   */
  @JsonPropertyOrder({"model", "dimensions", "fingerprint"})
  record Embedder(String model, int dimensions, String fingerprint) {
  }

  @JsonPropertyOrder({"candidates", "negatives", "randomSeed", "generationTemperature", "attempts"})
  record Parameters(int candidates, String negatives, long randomSeed, double generationTemperature, int attempts) {
  }

  @JsonPropertyOrder({"passages", "digest"})
  record Corpus(int passages, String digest) {
  }
}
