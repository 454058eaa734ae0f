#!/usr/bin/env bash
# One command per comparison: builds nexus.jar, then for each relay (Nexus, and strfry when STRFRY
# names its binary) starts it on a fresh database, runs the workloads against it, stops it, and
# prints one table, ratios first (bench/summary.mjs). Nexus is started exactly as operators start it:
#   java -jar relay-server/target/nexus.jar --config <bench toml>        (no JVM flags)
#
#   bench/run.sh                              # W1-W4 (shared generator), W3LONG, JOBS, STORE (100k events)
#   bench/run.sh --quick                      # short everything: proves the harness, measures nothing
#   bench/run.sh --only W1,W3                 # any subset of W1,W2,W3,W4,W3LONG,JOBS,STORE
#                                             # (W3LONG: the shared W3 with 20,000 queries, on a relay of its own:
#                                             #  the default W3 lasts half a second, its steady state is this one)
#   bench/run.sh --only STORE --large         # the issue's 1,000,000-event store (--store-events N for any N)
#   STRFRY=/work/ext/strfry/strfry bench/run.sh
#   STRFRY=... bench/run.sh --rounds 3        # three interleaved rounds (Nexus first, then strfry first, ...);
#                                             # the table shows medians and the range of the ratios
#   bench/run.sh -- --w1-events 60000         # anything after -- goes to the shared run.mjs
#
# Environment: STRFRY (strfry binary; or STRFRY_START, a script called as `script PORT DBDIR` that
# execs a relay listening on 127.0.0.1:PORT), NEXUS_JAVA_OPTS (JVM flags for A/B experiments only;
# default none), NEXUS_BACKEND (lmdb: Nexus on its LMDB store; default sqlite), NEXUS_BENCH_PORT (7799),
# NEXUS_LOAD_DIR (../shared/bench/load), NEXUS_SKIP_BUILD=1.
# Relay CPU = utime+stime of the relay's processes from /proc (for Nexus one JVM: the launcher re-executes
# itself in place; with NEXUS_LAUNCHER_CHILD=1 the launcher JVM and the relay JVM it starts), RSS = VmRSS
# summed over the same processes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
load=${NEXUS_LOAD_DIR:-$root/../shared/bench/load}
[ -n "${NEXUS_LOAD_DIR:-}" ] || [ -f "$load/run.mjs" ] || load=$root/../../shared/bench/load # a git worktree one level deeper
port=${NEXUS_BENCH_PORT:-7799}
only="W1,W2,W3,W4,W3LONG,JOBS,STORE"; store_events=100000; quick=0; rounds=1; pass=(); w3long_queries=20000
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only=$2; shift 2 ;;
    --store-events) store_events=$2; shift 2 ;;
    --large) store_events=1000000; shift ;;
    --quick) quick=1; shift ;;
    --rounds) rounds=$2; shift 2 ;;
    --) shift; pass+=("$@"); break ;;
    *) pass+=("$1"); shift ;;
  esac
done
only=$(echo "$only" | tr a-z A-Z)
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "--rounds takes a positive number" >&2; exit 2; }
has() { [[ ",$only," == *",$1,"* ]]; }
load_only=$(echo "$only" | tr ',' '\n' | grep -E '^W[1-4]$' | paste -sd, || true)
jobs_args=(); store_args=(--events "$store_events")
if [ "$quick" = 1 ]; then
  pass=(--w1-events 4000 --w2-events 500 --w2-subs 100 --w3-queries 400 --w4-conns 1000 "${pass[@]}")
  w3long_queries=1000; jobs_args=(--seconds 4 --baseline-seconds 2 --social 20000); store_args=(--events "$([ "$store_events" = 100000 ] && echo 10000 || echo "$store_events")" --chunks 5 --queries 50 --counts 3 --early-at 4000)
fi
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$root/bench/results/$stamp
mkdir -p "$out"

if [ -n "$load_only" ] || has W3LONG; then [ -f "$load/run.mjs" ] || { echo "load generator not found at $load (set NEXUS_LOAD_DIR)" >&2; exit 2; }; fi
if [ "${NEXUS_SKIP_BUILD:-0}" != 1 ]; then echo "== building nexus.jar"; (cd "$root" && mvn -B -q -DskipTests package); fi
[ -d "$root/bench/node_modules" ] || { echo "== npm ci in bench/"; (cd "$root/bench" && npm ci --no-audit --no-fund >/dev/null); }
# The shared generator is read-only and has no node_modules: run a copy of it beside ours.
gen=$(mktemp -d); trap 'rm -rf "$gen"' EXIT
if [ -n "$load_only" ] || has W3LONG; then cp "$load/run.mjs" "$gen/run.mjs"; ln -s "$root/bench/node_modules" "$gen/node_modules"; echo '{"type":"module"}' > "$gen/package.json"; fi

relays=(nexus)
if [ -n "${STRFRY:-}${STRFRY_START:-}" ]; then relays+=(strfry); else echo "== STRFRY not set: Nexus only (the table has no ratios)"; fi

pid=""; pids=""; dbdir=""; work=""; round_dir=$out
start_relay() { # $1 = nexus|strfry, $2 = session name
  work=$(mktemp -d)
  local log="$round_dir/$1-$2-relay.log"
  if [ "$1" = nexus ]; then
    dbdir=$work/nexus; mkdir -p "$dbdir"
    # NEXUS_BACKEND=lmdb runs Nexus on its LMDB store (default: the SQLite default operators get).
    sed -e "s|@PORT@|$port|" -e "s|@DB@|$dbdir/nexus.db|" -e "s|@BACKEND@|${NEXUS_BACKEND:-sqlite}|" "$root/bench/nexus-bench.toml" > "$work/nexus.toml"
    # shellcheck disable=SC2086
    java ${NEXUS_JAVA_OPTS:-} -jar "$root/relay-server/target/nexus.jar" --config "$work/nexus.toml" > "$log" 2>&1 &
  else
    dbdir=$work/strfry-db; mkdir -p "$dbdir"
    if [ -n "${STRFRY_START:-}" ]; then "$STRFRY_START" "$port" "$dbdir" > "$log" 2>&1 &
    else
      printf 'db = "%s/"\nrelay {\n  bind = "127.0.0.1"\n  port = %s\n  nofiles = 0\n}\n' "$dbdir" "$port" > "$work/strfry.conf"
      "$STRFRY" --config="$work/strfry.conf" relay > "$log" 2>&1 &
    fi
  fi
  pid=$!
  wait_until_serving "$1" "$port" "$pid" "$log"
  pids=$pid
  for c in $(relay_jvms "$pid"); do pids="$pids,$c"; done
  echo "== $1 ($2): pids $pids, database in $dbdir"
}
stop_relay() {
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}

# One round: every selected session on each relay in the given order, results into $1.
run_round() {
  local dir=$1; shift
  round_dir=$dir
  mkdir -p "$dir"
  for r in "$@"; do
    if [ -n "$load_only" ]; then
      start_relay "$r" load
      memory_json "$pids" > "$dir/$r-idle-memory.json" # a fresh relay that serves nobody yet
      node "$gen/run.mjs" "ws://127.0.0.1:$port" "$pids" --only "$load_only" --out "$dir/$r-load.json" "${pass[@]}" | grep -E '^(W[1-4]|--) ' | tee "$dir/$r-load.log"
      # Nexus's own metrics after the session: nexus_fanout_delay_seconds is W2's (no other workload publishes to live subscribers).
      if [ "$r" = nexus ]; then curl -s "http://127.0.0.1:$port/metrics" > "$dir/nexus-load-metrics.txt" || true; fi
      stop_relay
    fi
    if has W3LONG; then
      # The shared generator's W3 (after its W1) with many more queries: a steady rate, not the first half second.
      start_relay "$r" w3long
      node "$gen/run.mjs" "ws://127.0.0.1:$port" "$pids" --only W3 --out "$dir/$r-w3long.json" "${pass[@]}" --w3-queries "$w3long_queries" | grep -E '^(W[13]|--) ' | tee "$dir/$r-w3long.log"
      stop_relay
    fi
    if has JOBS; then
      start_relay "$r" jobs
      node "$root/bench/jobs.mjs" "ws://127.0.0.1:$port" "$pids" --out "$dir/$r-jobs.json" "${jobs_args[@]}" | tee "$dir/$r-jobs.log"
      stop_relay
    fi
    if has STORE; then
      start_relay "$r" store
      node "$root/bench/store.mjs" "ws://127.0.0.1:$port" "$pids" --db-dir "$dbdir" --out "$dir/$r-store.json" "${store_args[@]}" | tee "$dir/$r-store.log"
      stop_relay
    fi
  done
}
if [ "$rounds" = 1 ]; then run_round "$out" "${relays[@]}"
else
  # Interleaved, the first relay alternating, so that a machine drifting during the sitting favours neither.
  for i in $(seq 1 "$rounds"); do
    order=("${relays[@]}")
    if [ $((i % 2)) = 0 ] && [ "${#relays[@]}" = 2 ]; then order=("${relays[1]}" "${relays[0]}"); fi
    echo "== round $i of $rounds: ${order[*]}"
    run_round "$out/round-$i" "${order[@]}"
  done
fi
node "$root/bench/summary.mjs" "$out" "${NEXUS_JAVA_OPTS:-}" | tee "$out/summary.txt"
echo "results: $out"
