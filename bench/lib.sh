# Sourced by the bench scripts (bench/run.sh, bench/profile.sh).

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
