#!/usr/bin/env bash
# Runs the gecko-spark example (dev.gecko.spark.example.GeckoSparkExample) as a plain main: Spark in
# this JVM, local[*] unless --master is given first. Builds the module (package, never install) on
# first use and when sources changed. Needs only a JDK 17+. See docs/spark.md.
#
#   gecko-spark/example.sh [--master local[2]] embed --corpus corpus.jsonl.gz --out vectors/
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
jar="$here/target/gecko-spark-0.1.0-SNAPSHOT.jar"
cp_file="$here/target/classpath.txt"

# Stale when a pom or a main source of gecko-spark or a module it uses is newer than the stamp the
# last successful build left (Maven keeps an unchanged jar, so the jar's own time is not enough).
stamp="$here/target/.gecko-built"
stale() {
  [ -f "$jar" ] && [ -f "$cp_file" ] && [ -f "$stamp" ] || return 0
  [ -n "$(find "$root/pom.xml" "$here" "$root/gecko-train" "$root/gecko-eval" "$root/gecko-core" "$root/gecko-tokenizer" \
    "$root/gecko-models" -type f \( -name pom.xml -o -path '*/src/main/*' \) -not -path '*/target/*' -newer "$stamp" \
    -print -quit 2>/dev/null)" ]
}

if [ "${GECKO_SKIP_BUILD:-}" != "1" ] && stale; then
  echo "gecko-spark: building (first use or sources changed)..." >&2
  # compile scope: gecko's modules, Spark (provided) and the extra built-in models (provided)
  (cd "$root" && ./mvnw -q -B -DskipTests -pl gecko-spark -am package dependency:build-classpath \
    -DincludeScope=compile -Dmdep.outputFile=target/classpath.txt >&2)
  touch "$stamp"
fi

java_bin="java"
[ -n "${JAVA_HOME:-}" ] && java_bin="$JAVA_HOME/bin/java"
# What spark-submit adds on Java 17 (org.apache.spark.launcher.JavaModuleOptions), the Vector API for
# gecko's SIMD kernels, and no telemetry (DJL, ONNX Runtime).
export ORT_DISABLE_TELEMETRY="${ORT_DISABLE_TELEMETRY:-1}"
# local mode: Spark binds to loopback (set it to this host's address to reach a cluster from here)
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
exec "$java_bin" -XX:+IgnoreUnrecognizedVMOptions \
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED \
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED \
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED \
  --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED \
  -Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true \
  --add-modules jdk.incubator.vector -DOPT_OUT_TRACKING=true -Dai.djl.offline=true \
  -Dspark.ui.enabled=false -Dspark.driver.host=127.0.0.1 -Dspark.driver.bindAddress=127.0.0.1 \
  ${GECKO_JAVA_OPTS:-} -cp "$jar:$(cat "$cp_file")" dev.gecko.spark.example.GeckoSparkExample "$@"
