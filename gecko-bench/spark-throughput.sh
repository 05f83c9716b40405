#!/usr/bin/env bash
# Embedding throughput of gecko-spark on local[N] against the single-JVM `gecko embed`, on the same
# corpus, the same model and the same machine, in alternating rounds (docs/spark.md). Both embed
# every passage with its title and the model's default prompt; both times are whole processes
# (JVM start, model load, Spark's session for Spark, reading, embedding, writing).
#
#   gecko-bench/spark-throughput.sh [corpus.jsonl(.gz)] [rounds] [master]
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${1:-../shared/data/beir/arguana/corpus.jsonl.gz}"
rounds="${2:-3}"
master="${3:-local[2]}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

./mvnw -q -B -DskipTests -pl gecko-cli,gecko-spark -am package dependency:build-classpath \
  -DincludeScope=compile -Dmdep.outputFile=target/classpath.txt >&2

now() { date +%s.%N; }
for r in $(seq 1 "$rounds"); do
  t0=$(now)
  GECKO_SKIP_BUILD=1 ./gecko embed --input "$corpus" > "$out/cli.jsonl"
  t1=$(now)
  GECKO_SKIP_BUILD=1 gecko-spark/example.sh --master "$master" embed --corpus "$corpus" --out "$out/spark" > "$out/spark.json"
  t2=$(now)
  tokens=$(sed -E 's/.*"tokens":([0-9]+).*/\1/' "$out/spark.json")
  rows=$(wc -l < "$out/cli.jsonl")
  echo "round $r: gecko embed $(echo "$t1 - $t0" | bc) s ($rows rows); gecko-spark $master $(echo "$t2 - $t1" | bc) s; $(cat "$out/spark.json")"
  echo "round $r: tokens/s gecko embed $(echo "$tokens / ($t1 - $t0)" | bc), gecko-spark $(echo "$tokens / ($t2 - $t1)" | bc), ratio $(echo "scale=3; ($t1 - $t0) / ($t2 - $t1)" | bc)"
done
