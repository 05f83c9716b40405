/**
 * Peer benchmarks: Gecko against LangChain4j's in-process models (and, from a script,
 * transformers.js) on the same ONNX files and texts, with a measured peak-FLOP/s probe.
 *
 * <p>Entry points (all {@code main} classes, run with {@code gecko-bench/run-peers.sh}):
 * {@link dev.gecko.bench.peers.PeerBenchmark} (throughput table),
 * {@link dev.gecko.bench.peers.PeakProbe} (GEMM roofline),
 * {@link dev.gecko.bench.peers.FootprintCheck} (load-to-first-vector, peak RSS),
 * {@link dev.gecko.bench.peers.OrtOptionsProbe} (session options: speed, native memory under varying shapes) and
 * {@link dev.gecko.bench.peers.TextSets} (writes the text sets for the transformers.js script).
 * Results go to stdout; these classes are tools, not library API.
 */
package dev.gecko.bench.peers;
