/**
 * HuggingFace {@code tokenizer.json} tokenisation for embedding models, producing padded
 * {@code int64} batches ready for ONNX Runtime.
 *
 * <p>The entry point is {@link dev.gecko.tokenizer.GeckoTokenizer}. The native work is done by
 * the HuggingFace {@code tokenizers} Rust library as packaged by DJL; no DJL type appears in this
 * package's API, and DJL's usage telemetry is never triggered (see {@link
 * dev.gecko.tokenizer.GeckoTokenizer}).
 */
package dev.gecko.tokenizer;
