/**
 * Residual adapters applied to a model's pooled vector before Matryoshka truncation: {@link
 * dev.gecko.core.adapter.Adapter}, its safetensors file format, and how {@link
 * dev.gecko.core.GeckoEmbedder} uses it.
 */
package dev.gecko.core.adapter;
