/**
 * Internals of gecko-finetune (not API): the graph layout reader, the encoder forward, the
 * losses, gradient caching, the optimizer, checkpoints, the ONNX writer and the int8 quantiser.
 */
package dev.gecko.finetune.internal;
