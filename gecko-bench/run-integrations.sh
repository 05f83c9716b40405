#!/usr/bin/env bash
# The measured ratios of docs/integrations.md: the ArguAna corpus (8,674 passages)
#   1. through LangChain4j's EmbeddingStoreIngestor, bge-small-en-v1.5 int8: Gecko's
#      GeckoEmbeddingModel vs LangChain4j's BgeSmallEnV15QuantizedEmbeddingModel;
#   2. through Spring AI's EmbeddingModel.embed(List<Document>, options, batching), all-MiniLM-L6-v2:
#      Gecko's GeckoEmbeddingModel vs Spring AI's TransformersEmbeddingModel on the same ONNX file.
# Each in one JVM, the two peers' runs interleaved, after a warm-up. Run on a quiet machine; each
# section prints the load averages before and after every run.
#
# usage: gecko-bench/run-integrations.sh               both, full corpus, 3 repeats (~20-30 min on 2 quiet cores)
#        LIMIT=1000 REPEATS=1 gecko-bench/run-integrations.sh   a smoke run
# env:   SHARED (default ../shared beside the repo), LIMIT (passages, 0 = all), REPEATS, ONLY=langchain4j|spring-ai,
#        BATCH_INDEPENDENT=true (LangChain4j section: also Gecko with batchIndependent(true), each passage alone)
# output: stdout, and a copy in gecko-bench/target/integrations/report.md
set -euo pipefail
export ORT_DISABLE_TELEMETRY=1   # ONNX Runtime's telemetry client would resolve its collector (DNS)
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
shared=$(cd "${SHARED:-$root/../shared}" && pwd)
out=$root/gecko-bench/target/integrations
mkdir -p "$out"
exec > >(tee "$out/report.md") 2>&1

echo "# run-integrations $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD), $(nproc) cpus; $(uptime)"
# No install: the reactor builds gecko-bench and everything it needs, and writes its class path
# (every module writes the same file in reactor order; gecko-bench, the last, wins).
./mvnw -q -B -pl gecko-bench -am -DskipTests package dependency:build-classpath \
  -Dmdep.outputFile="$root/gecko-bench/target/cp.txt" >/dev/null
cp="$root/gecko-bench/target/classes:$(cat "$root/gecko-bench/target/cp.txt")"
jvm=(java --add-modules jdk.incubator.vector -DOPT_OUT_TRACKING=true -Dai.djl.offline=true
  -Dgecko.shared.dir="$shared" -Dlimit="${LIMIT:-0}" -Drepeats="${REPEATS:-3}"
  -DbatchIndependent="${BATCH_INDEPENDENT:-false}" -cp "$cp")

if [[ ${ONLY:-langchain4j} == langchain4j || -z ${ONLY:-} ]]; then
  echo; echo "## LangChain4j: EmbeddingStoreIngestor, bge-small-en-v1.5 int8   $(uptime)"
  "${jvm[@]}" dev.gecko.bench.integrations.LangChain4jIngestBenchmark
fi
if [[ ${ONLY:-spring-ai} == spring-ai || -z ${ONLY:-} ]]; then
  echo; echo "## Spring AI: EmbeddingModel.embed(documents, options, batching), all-MiniLM-L6-v2   $(uptime)"
  "${jvm[@]}" dev.gecko.bench.integrations.SpringAiEmbedBenchmark
fi
