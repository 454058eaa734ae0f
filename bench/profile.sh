#!/usr/bin/env bash
# Where the relay's CPU goes during one workload. Starts Nexus exactly as operators start it (the
# launcher, no JVM flags), attaches async-profiler to the relay JVM just before the measured workload
# and stops it just after (jcmd JVMTI.agent_load: nothing about the relay's start changes), then
# writes a flame graph, the collapsed stacks and a summary per thread role (bench/profile-summary.mjs).
#
#   bench/profile.sh W1                       # ingest; also W2, W3 (W1 fills the store first, unprofiled), JOBS
#   bench/profile.sh W1 -- --w1-events 60000  # anything after -- goes to the generator
#   PROFILE_EVENT=alloc bench/profile.sh W1   # allocations instead of CPU (any async-profiler event)
#
# async-profiler comes from Maven Central (tools.profiler:async-profiler:3.0, the linux-x64 or
# linux-arm64 jar, which carries libasyncProfiler.so); nothing is installed. Results go to
# bench/results/profile-<stamp>-<workload>/. Environment: NEXUS_BENCH_PORT (7798), NEXUS_LOAD_DIR,
# NEXUS_SKIP_BUILD=1, NEXUS_BACKEND (lmdb: profile Nexus on its LMDB store), PROFILE_INTERVAL (1ms; the
# sampling period for cpu/itimer).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
load=${NEXUS_LOAD_DIR:-$root/../shared/bench/load}
[ -n "${NEXUS_LOAD_DIR:-}" ] || [ -f "$load/run.mjs" ] || load=$root/../../shared/bench/load
port=${NEXUS_BENCH_PORT:-7798}
event=${PROFILE_EVENT:-cpu}
interval=${PROFILE_INTERVAL:-1ms}
workload=$(echo "${1:-}" | tr a-z A-Z); shift || true
[ "${1:-}" = -- ] && shift
case "$workload" in W1|W2|W3|JOBS) ;; *) sed -n '2,16p' "$0" >&2; exit 2 ;; esac

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$root/bench/results/profile-$stamp-$workload
mkdir -p "$out"
if [ "${NEXUS_SKIP_BUILD:-0}" != 1 ]; then echo "== building nexus.jar"; (cd "$root" && mvn -B -q -DskipTests package); fi
[ -d "$root/bench/node_modules" ] || (cd "$root/bench" && npm ci --no-audit --no-fund >/dev/null)

case "$(uname -m)" in x86_64) arch=linux-x64 ;; aarch64) arch=linux-arm64 ;; *) echo "async-profiler: no build for $(uname -m)" >&2; exit 2 ;; esac
apjar=$HOME/.m2/repository/tools/profiler/async-profiler/3.0/async-profiler-3.0-$arch.jar
[ -f "$apjar" ] || mvn -B -q dependency:get -Dartifact="tools.profiler:async-profiler:3.0:jar:$arch" >/dev/null
work=$(mktemp -d)
relay=""
cleanup() { [ -n "$relay" ] && kill "$relay" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
unzip -q -o "$apjar" "$arch/libasyncProfiler.so" -d "$work"
lib=$work/$arch/libasyncProfiler.so

mkdir -p "$work/db"
sed -e "s|@PORT@|$port|" -e "s|@DB@|$work/db/nexus.db|" -e "s|@BACKEND@|${NEXUS_BACKEND:-sqlite}|" "$root/bench/nexus-bench.toml" > "$work/nexus.toml"
java -jar "$root/relay-server/target/nexus.jar" --config "$work/nexus.toml" > "$out/relay.log" 2>&1 &
relay=$!
wait_until_serving "the relay" "$port" "$relay" "$out/relay.log"
jvm=$(relay_jvms "$relay" | head -1)
[ -n "$jvm" ] || jvm=$relay # by default the launcher re-executes itself as the relay JVM (and with NEXUS_NO_RELAUNCH runs it)
# The quotes are jcmd's: without them it splits the agent's options off at the first comma.
profiler() { jcmd "$jvm" JVMTI.agent_load "$lib" "\"$1\"" >/dev/null; }
start="start,event=$event,threads"
[ "$event" = cpu ] || [ "$event" = itimer ] && start="$start,interval=$interval"

gen=$work/gen; mkdir -p "$gen"
echo "== profiling $workload ($event) on the relay JVM, pid $jvm"
if [ "$workload" = JOBS ]; then
  profiler "$start"
  node "$root/bench/jobs.mjs" "ws://127.0.0.1:$port" "$jvm" "$@" | tee "$out/workload.log" || echo "== the workload failed; the profile so far follows"
else
  [ -f "$load/run.mjs" ] || { echo "load generator not found at $load (set NEXUS_LOAD_DIR)" >&2; exit 2; }
  cp "$load/run.mjs" "$gen/run.mjs"; ln -s "$root/bench/node_modules" "$gen/node_modules"; echo '{"type":"module"}' > "$gen/package.json"
  if [ "$workload" = W3 ]; then
    # The generator runs W1 before W3 in the same process; the profiler starts when W1's line is
    # printed. Attaching takes jcmd ~0.2 s, so W3 runs 20,000 queries here unless told otherwise.
    [[ " $* " == *" --w3-queries "* ]] || set -- --w3-queries 20000 "$@"
    node "$gen/run.mjs" "ws://127.0.0.1:$port" "$jvm" --only W3 "$@" | while IFS= read -r line; do
      case "$line" in "W1 "*) profiler "$start" ;; esac
      echo "$line"
    done | grep -E '^(W[1-4]|--) ' | tee "$out/workload.log" || echo "== the workload failed; the profile so far follows"
  else
    profiler "$start"
    node "$gen/run.mjs" "ws://127.0.0.1:$port" "$jvm" --only "$workload" "$@" | grep -E '^(W[1-4]|--) ' | tee "$out/workload.log" \
      || echo "== the workload failed; the profile so far follows"
  fi
fi
profiler "stop,file=$out/flamegraph.html"
profiler "dump,file=$out/stacks.collapsed,collapsed"
node "$root/bench/profile-summary.mjs" "$out/stacks.collapsed" | tee "$out/summary.txt"
echo "results: $out (flamegraph.html, stacks.collapsed, summary.txt)"
