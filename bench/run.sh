#!/usr/bin/env bash
# Builds nexus.jar, starts it on a fresh database with bench/nexus-bench.toml (the defaults, auth
# off), runs the shared load generator against it with the relay's PID, stops the relay, and writes
# the generator's JSON plus a one-screen summary beside the targets into bench/results/.
#
#   bench/run.sh                      # all four workloads
#   bench/run.sh --only W1,W3         # any run.mjs options are passed through
#
# Environment: NEXUS_JAVA_OPTS (JVM flags; default: the ones README starts the relay with),
# NEXUS_BENCH_PORT (default 7799), NEXUS_LOAD_DIR (default ../shared/bench/load).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
load=${NEXUS_LOAD_DIR:-$root/../shared/bench/load}
port=${NEXUS_BENCH_PORT:-7799}
java_opts=${NEXUS_JAVA_OPTS:-$(cat "$root/bench/jvm-flags")}
out=$root/bench/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"

[ -f "$load/run.mjs" ] || { echo "load generator not found at $load (set NEXUS_LOAD_DIR)" >&2; exit 2; }
echo "== building nexus.jar"
(cd "$root" && mvn -B -q -DskipTests package)
[ -d "$load/node_modules" ] || { echo "== npm ci in $load"; (cd "$load" && npm ci --no-audit --no-fund >/dev/null); }

work=$(mktemp -d)
sed -e "s|@PORT@|$port|" -e "s|@DB@|$work/nexus.db|" "$root/bench/nexus-bench.toml" > "$work/nexus.toml"
echo "== starting nexus: java $java_opts -jar nexus.jar --config $work/nexus.toml"
# shellcheck disable=SC2086
java $java_opts -jar "$root/relay-server/target/nexus.jar" --config "$work/nexus.toml" > "$out/relay-$stamp.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -sf -H 'Accept: application/nostr+json' "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "relay exited; see $out/relay-$stamp.log" >&2; exit 1; }
  sleep 0.2
done

echo "== load generator (relay pid $pid)"
node "$load/run.mjs" "ws://127.0.0.1:$port" "$pid" --out "$out/nexus-$stamp.json" "$@" | grep -E '^(W[1-4]|--) ' | tee "$out/nexus-$stamp.log"
cleanup
trap - EXIT
node "$root/bench/summary.mjs" "$out/nexus-$stamp.json" "$java_opts" | tee "$out/nexus-$stamp.summary.txt"
echo "results: $out/nexus-$stamp.json"
