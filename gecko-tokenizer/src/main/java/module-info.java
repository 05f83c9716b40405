/**
 * HuggingFace {@code tokenizer.json} tokenizers (DJL's native library) turned into padded int64
 * batches for ONNX Runtime, with no telemetry and no network.
 */
module dev.gecko.tokenizer {
  requires ai.djl.tokenizers;
  requires ai.djl.api;
  // what DJL (automatic modules) loads at run time, so that a module-path application resolves it
  requires org.slf4j;
  requires com.google.gson;
  requires com.fasterxml.jackson.core;

  exports dev.gecko.tokenizer;
}
