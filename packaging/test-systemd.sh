#!/usr/bin/env bash
# Runs packaging/nexus.service under a real systemd, installed the way docs/OPERATIONS.md tells
# operators to, in a podman container booted with /sbin/init (the CI machines have no systemd of
# their own). Needs root and the base image docker/test-image.sh builds (.ci/run runs that first).
#
#   packaging/test-systemd.sh       # after `mvn package` (uses relay-server/target/nexus.jar)
#
# Checks, all with the unit as shipped (DynamicUser, ProtectSystem=strict, PrivateTmp, the
# system-call filter, no capabilities): the relay starts and serves NIP-11; it runs as the
# transient user, not root; an event is published (OK after AUTH) and read back; after the relay is
# killed with SIGKILL twice, systemd restarts it, the event is still served, and the state
# directory's temporary files hold one copy of each native library; `systemctl stop` is a clean stop.
set -euo pipefail
cd "$(dirname "$0")/.."

SUITE=bookworm
BASE_TAG=localhost/nexus-ci-base:$SUITE-jre17-r1   # docker/test-image.sh's base (openjdk-17-jre-headless)
# Bump when the recipe below changes, so a reused machine's cached image is not taken for the new one.
SYSTEMD_TAG=localhost/nexus-ci-systemd:$SUITE-r1
RUN_ID=$$
CONTAINER=nexus-systemd-$RUN_ID
PORT=${NEXUS_CI_SYSTEMD_PORT:-18$((RUN_ID % 900 + 100))}
JAR=relay-server/target/nexus.jar
PODMAN=(podman --runtime runc --cgroup-manager=cgroupfs)
started=$(date +%s)

step() { echo "test-systemd [$(( $(date +%s) - started ))s]: $*"; }
in_box() { "${PODMAN[@]}" exec "$CONTAINER" "$@"; }
fail() {
  echo "test-systemd: FAILED: $*" >&2
  if "${PODMAN[@]}" container exists "$CONTAINER" 2>/dev/null; then
    echo "--- systemctl status nexus, journal (last 40 lines) ---" >&2
    in_box systemctl status nexus --no-pager >&2 2>&1 || true
    in_box journalctl -u nexus --no-pager -n 40 -o cat >&2 2>&1 || true
  fi
  exit 1
}
WORK=
cleanup() {
  "${PODMAN[@]}" rm -f -t 5 "$CONTAINER" >/dev/null 2>&1 || true
  [ -n "$WORK" ] && rm -rf "$WORK"
  true
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || fail "run as root (podman here runs containers as root)"
[ -f "$JAR" ] || fail "$JAR is missing: run 'mvn -B -DskipTests package' first"
"${PODMAN[@]}" image exists "$BASE_TAG" || fail "base image $BASE_TAG missing: run docker/test-image.sh first"

WORK=$(mktemp -d)
if "${PODMAN[@]}" image exists "$SYSTEMD_TAG"; then
  step "image $SYSTEMD_TAG already in podman's store"
else
  step "building $SYSTEMD_TAG: $BASE_TAG + systemd from apt (first run on this machine; cached afterwards)"
  cat > "$WORK/Containerfile" <<EOF
FROM $BASE_TAG
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends systemd systemd-sysv \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
EOF
  "${PODMAN[@]}" build -q --network host -f "$WORK/Containerfile" -t "$SYSTEMD_TAG" "$WORK" >/dev/null || fail "podman build of $SYSTEMD_TAG failed"
fi

# nexus.toml as shipped, with the three lines an operator of this box edits: where the database
# lives (OPERATIONS.md's install step), where it listens (all addresses inside the container, which
# podman publishes on the host's loopback) and the public URL that NIP-42 AUTH events name.
sed -e 's|^path = "./data/nexus.db"|path = "/var/lib/nexus/nexus.db"|' \
    -e 's|^bind = .*|bind = "0.0.0.0:7777"|' \
    -e "s|^url = .*|url = \"ws://127.0.0.1:$PORT\"|" nexus.toml > "$WORK/nexus.toml"
grep -q '^path = "/var/lib/nexus/nexus.db"' "$WORK/nexus.toml" && grep -q "^url = \"ws://127.0.0.1:$PORT\"" "$WORK/nexus.toml" \
  || fail "could not edit nexus.toml's path and url"

nofile=$(ulimit -Hn); [ "$nofile" -gt 65536 ] && nofile=65536
step "boot systemd in container $CONTAINER (port 127.0.0.1:$PORT)"
"${PODMAN[@]}" run -d --name "$CONTAINER" --privileged --systemd=always -p "127.0.0.1:$PORT:7777" \
  --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=4096:4096" "$SYSTEMD_TAG" /sbin/init >/dev/null || fail "podman run failed"
for _ in $(seq 1 100); do
  state=$(in_box systemctl is-system-running 2>/dev/null || true)
  case "$state" in running|degraded) break ;; esac
  sleep 0.2
done
case "$state" in running|degraded) ;; *) fail "systemd did not finish booting ($state)" ;; esac

step "install as docs/OPERATIONS.md says and 'systemctl enable --now nexus'"
"${PODMAN[@]}" cp "$JAR" "$CONTAINER:/tmp/nexus.jar" >/dev/null
"${PODMAN[@]}" cp "$WORK/nexus.toml" "$CONTAINER:/tmp/nexus.toml" >/dev/null
"${PODMAN[@]}" cp packaging/nexus.service "$CONTAINER:/tmp/nexus.service" >/dev/null
in_box sh -c 'install -D -m 0644 /tmp/nexus.jar /opt/nexus/nexus.jar && install -D -m 0644 /tmp/nexus.toml /etc/nexus/nexus.toml \
  && install -m 0644 /tmp/nexus.service /etc/systemd/system/ && systemctl daemon-reload && systemctl enable --now nexus' >/dev/null 2>&1 \
  || fail "installing and starting the unit failed"

info=$WORK/info.json
wait_for_nip11() {
  for _ in $(seq 1 300); do
    if curl -sf -H 'Accept: application/nostr+json' "http://127.0.0.1:$PORT/" > "$info" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  fail "no NIP-11 document on http://127.0.0.1:$PORT/ within 60 s"
}
main_pid() { in_box systemctl show -p MainPID --value nexus; }
probe() { java -cp "$JAR" docker/ImageProbe.java "$@"; }

wait_for_nip11
grep -q '"supported_nips"' "$info" || fail "NIP-11 document lacks supported_nips: $(head -c 300 "$info")"
pid=$(main_pid) || fail "systemctl show MainPID failed"
[ "$pid" != 0 ] || fail "the unit has no main process"
uid=$(in_box awk '/^Uid:/ {print $2}' "/proc/$pid/status") || fail "cannot read /proc/$pid/status"
[ -n "$uid" ] && [ "$uid" != 0 ] || fail "the relay runs as uid '$uid', not as the unit's transient user"
maps=$(in_box cat "/proc/$pid/maps") || fail "cannot read /proc/$pid/maps"
grep -q '/nexus-native-[0-9]*/libsecp256k1-jni-' <<< "$maps" && grep -q '/nexus-native-[0-9]*/libsqlitejdbc-' <<< "$maps" \
  || fail "the relay did not load its native libraries from the state directory's nexus-native-<uid>"
step "active, NIP-11 served, main pid $pid runs as uid $uid (DynamicUser), native libraries mapped from nexus-native-$uid"

id=$(probe publish "ws://127.0.0.1:$PORT") || fail "publish/read round trip over WebSocket failed"
step "event $id published (OK true after AUTH) and read back"

for kill in 1 2; do
  pid=$(main_pid) || fail "systemctl show MainPID failed"
  in_box systemctl kill -s KILL --kill-whom=main nexus || fail "systemctl kill failed"
  # Restart=on-failure, RestartSec=5: a new main pid, serving again.
  for _ in $(seq 1 150); do
    now=$(main_pid) || fail "systemctl show MainPID failed"
    [ "$now" != 0 ] && [ "$now" != "$pid" ] && break
    sleep 0.2
  done
  [ "$now" != 0 ] && [ "$now" != "$pid" ] || fail "systemd did not restart the relay after SIGKILL $kill"
  wait_for_nip11
  probe read "ws://127.0.0.1:$PORT" "$id" || fail "event $id was lost after SIGKILL $kill"
  step "SIGKILL $kill: restarted as pid $now, event $id still served"
done
restarts=$(in_box systemctl show -p NRestarts --value nexus) || fail "systemctl show NRestarts failed"
[ "$restarts" = 2 ] || fail "expected 2 restarts, systemd counted $restarts"

files=$(in_box find /var/lib/nexus/tmp -type f) || fail "cannot list /var/lib/nexus/tmp"
count=$(printf '%s\n' "$files" | grep -c . || true)
[ "$count" = 3 ] || fail "the state directory's tmp holds $count files after two SIGKILLs (one per native library expected):
$files"
if printf '%s\n' "$files" | grep -qv '/nexus-native-'; then fail "a file outside nexus-native-*: $files"; fi
step "after three starts and two SIGKILLs, /var/lib/nexus/tmp holds one copy of each native library"

in_box systemctl stop nexus || fail "systemctl stop failed"
result=$(in_box systemctl show -p Result --value nexus) || fail "systemctl show Result failed"
[ "$result" = success ] || fail "the stop was not clean: Result=$result"
journal=$(in_box journalctl -u nexus --no-pager -o cat) || fail "journalctl failed"
grep -q 'SQLite store closed' <<< "$journal" || fail "the relay did not close its store on systemctl stop"
grep -q 'verifier: libsecp256k1 (JNI)' <<< "$journal" || fail "the relay verified signatures without libsecp256k1"
if grep -q 'WARN' <<< "$journal"; then fail "the relay warned under the unit: $(grep WARN <<< "$journal" | head -3)"; fi
step "passed"
