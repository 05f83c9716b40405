/**
 * ONNX graph rewrites applied before a model is handed to ONNX Runtime: {@link
 * dev.gecko.core.internal.onnx.SkipLayerNormFusion} fuses residual blocks that the runtime's own optimiser
 * leaves apart. Works on the serialised protobuf directly (no ONNX library); untouched parts of
 * the model are copied byte for byte.
 */
package dev.gecko.core.internal.onnx;
