#!/usr/bin/env bash
# Reproduces the peer table of docs/performance.md: Gecko vs LangChain4j (same JVM, interleaved)
# vs transformers.js (separate Node process), bge-small-en-v1.5 int8 and fp32, on the short,
# passages and mixed sets, plus the GEMM peak, load-to-first-vector, peak RSS and the
# native-memory check. Run on a quiet machine; every section prints `uptime` load averages.
#
# usage: gecko-bench/run-peers.sh            full run (5 repeats; ~15-25 min on 2 quiet cores)
#        REPEATS=1 QUICK=1 gecko-bench/run-peers.sh   smoke run (short set only, 1 repeat)
# env:   SHARED (default ../shared relative to the repo), REPEATS, SKIP_TJS=1, MVN (default ./mvnw),
#        SKIP_PROBES=1 (stop after the footprint check: no RSS or session-option probes)
# output: stdout, and a copy in gecko-bench/target/peers/report.md
set -euo pipefail
export ORT_DISABLE_TELEMETRY=1   # ONNX Runtime's telemetry client would resolve its collector (DNS)
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
shared=$(cd "${SHARED:-$root/../shared}" && pwd)
repeats=${REPEATS:-5}
mvn=${MVN:-./mvnw}
out=$root/gecko-bench/target/peers
mkdir -p "$out"
exec > >(tee "$out/report.md") 2>&1

if [[ ${QUICK:-0} == 1 ]]; then sets=short; else sets=short,passages,mixed; fi
jvm=(java -DOPT_OUT_TRACKING=true -Dai.djl.offline=true -Dgecko.shared.dir="$shared")

echo "# run-peers $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD), $(nproc) cpus"
echo "# $(uptime)"
# one reactor build: package, never install (nothing of the project goes into ~/.m2)
build=(-q -pl gecko-bench -am -DskipTests package dependency:build-classpath -Dmdep.outputFile=target/cp.txt)
"$mvn" -o "${build[@]}" >/dev/null 2>&1 || "$mvn" "${build[@]}" >/dev/null
cp="$root/gecko-bench/target/classes:$(cat "$root/gecko-bench/target/cp.txt")"
"${jvm[@]}" -cp "$cp" dev.gecko.bench.peers.TextSets "$out/sets"

tjs_json=
if [[ ${SKIP_TJS:-0} != 1 ]] && command -v node >/dev/null; then
  echo; echo "## transformers.js (batch 32, 2 intra-op threads)   $(uptime)"
  tjs=$root/gecko-bench/transformers-js
  if [[ ! -d $tjs/node_modules/@huggingface/transformers ]]; then
    (cd "$tjs" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund)
  fi
  "$tjs/prepare-model.sh" >/dev/null
  node "$tjs/run.mjs" "$out/sets" --repeats "$repeats" --sets "$sets" --out "$out/tjs.json"
  tjs_json=$out/tjs.json
fi

echo; echo "## Gecko vs LangChain4j (same JVM), GEMM peak   $(uptime)"
"${jvm[@]}" -Drepeats="$repeats" -Dsets="$sets" -Dtjs="$tjs_json" -Dout="$out/peers.json" \
  -cp "$cp" dev.gecko.bench.peers.PeerBenchmark 2>&1 | grep -vE '^SLF4J|VectorizationProvider|^WARNING: Java vector'

echo; echo "## Default model: load to first vector, peak RSS embedding the short set (fresh JVMs)   $(uptime)"
# First with an empty cache directory (a first start on a new machine: the graph is rewritten and
# kept, ONNX Runtime's libraries copied), then three times with the user's cache, which the
# throughput runs above filled (every later start).
cold=$(mktemp -d)
echo "# empty cache directory"
"${jvm[@]}" -Dgecko.cache.dir="$cold" -cp "$cp" dev.gecko.bench.peers.FootprintCheck 3 2>&1 | grep -vE '^SLF4J|VectorizationProvider|^WARNING: Java vector|CudaUtils|Failed to detect GPU|Platform detectPlatform|Found matching platform'
rm -rf "$cold"
for i in 1 2 3; do
  echo "# cache filled, run $i"
  "${jvm[@]}" -cp "$cp" dev.gecko.bench.peers.FootprintCheck 3 2>&1 | grep -vE '^SLF4J|VectorizationProvider|^WARNING: Java vector|CudaUtils|Failed to detect GPU|Platform detectPlatform|Found matching platform'
done

if [[ ${SKIP_PROBES:-0} == 1 ]]; then echo; echo "# done (SKIP_PROBES=1: RSS and session-option probes skipped) $(uptime)"; exit 0; fi

echo; echo "## Native memory over varying shapes: int8, random 1-64-row mixed-length calls (fresh JVM each)   $(uptime)"
calls=${RSS_CALLS:-200}
[[ ${QUICK:-0} == 1 ]] && calls=20
for cfg in arena=1 arena=0; do
  "${jvm[@]}" -cp "$cp" dev.gecko.bench.peers.OrtOptionsProbe rss int8 "$cfg" "$calls" 2>/dev/null
done
"${jvm[@]}" -cp "$cp" dev.gecko.bench.peers.OrtOptionsProbe rss-gecko bge-small-en-v1.5-int8 "$calls" 2>/dev/null

echo; echo "## ONNX Runtime session options, straight ORT, interleaved (default = Gecko's choice)   $(uptime)"
for set in ${sets//,/ }; do
  for model in int8 fp32; do
    "${jvm[@]}" -Drepeats="$repeats" -cp "$cp" dev.gecko.bench.peers.OrtOptionsProbe throughput "$model" "$set" \
      default spin=1 opt=extended arena=0 tokens=1024 tokens=8192 2>/dev/null
  done
done
echo; echo "# done $(uptime)"
