package dev.gecko.train.fret;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * One line of a FRet run's {@code rejects.jsonl}: a seed whose answers stayed invalid, or whose
 * request the LLM server refused as invalid. Immutable and thread-safe.
 *
 * @param seedId the seed passage's id
 * @param stage where it was refused: {@code generate}, {@code ql}, {@code rc}, {@code retrieve},
 *     {@code select} or {@code request} (the server answered HTTP 400, 413 or 422)
 * @param reason why
 * @param answer the last refused answer (for {@code request}, the server's error body), cut to 500
 *     characters
 */
@JsonPropertyOrder({"seed_id", "stage", "reason", "answer"})
public record FretReject(@JsonProperty("seed_id") String seedId, String stage, String reason, String answer) {}
