# Sourced by the bench scripts (bench/run.sh, bench/profile.sh, bench/cluster.sh).

# wait_until_serving NAME PORT PID LOG: returns once the relay answers NIP-11 on 127.0.0.1:PORT
# (30 s at most); exits the script, naming LOG, if process PID ends first.
wait_until_serving() {
  local name=$1 port=$2 pid=$3 log=$4
  for _ in $(seq 1 150); do
    curl -sf -H 'Accept: application/nostr+json' "http://127.0.0.1:$port/" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { echo "$name exited; see $log" >&2; exit 1; }
    sleep 0.2
  done
}

# memory_json PIDS (comma-separated): the processes' resident memory as JSON, {"rssMiB":…,"pssMiB":…}.
# RSS counts a page shared by two processes (with NEXUS_LAUNCHER_CHILD=1, the launcher JVM and the relay
# JVM map the same libjvm and class-data archive) in each; PSS divides it among them, so the sum is what
# the relay costs the machine.
memory_json() {
  local rss=0 pss=0 p v
  for p in ${1//,/ }; do
    v=$(awk '/^Rss:/ {r=$2} /^Pss:/ {s=$2} END {print r+0, s+0}' "/proc/$p/smaps_rollup" 2>/dev/null) || continue
    rss=$((rss + ${v% *})); pss=$((pss + ${v#* }))
  done
  awk -v r="$rss" -v s="$pss" 'BEGIN {printf "{\"rssMiB\":%.1f,\"pssMiB\":%.1f}\n", r / 1024, s / 1024}'
}

# relay_jvms PID: the relay JVMs started under Nexus's PID, one per line: none by default (the launcher
# re-executes itself as the relay), one with NEXUS_LAUNCHER_CHILD=1. Matching the main class leaves out
# the short-lived helpers the relay runs itself (renice).
relay_jvms() { pgrep -P "$1" -f dev.nexus.server.Main || true; }
