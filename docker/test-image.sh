#!/usr/bin/env bash
# Builds docker/Dockerfile and runs the image as an operator would, on a machine without a Docker
# engine or an image registry (these CI machines): podman with runc, on a runtime base made from
# Debian packages with debootstrap.
#
#   docker/test-image.sh            # after `mvn package` (uses relay-server/target/nexus.jar)
#
# Checks: NIP-11 over HTTP, a signed event published and read back over WebSocket (with NIP-42
# AUTH), that the event is still served after the container restarts on the same volume, and that a
# hardened container (read-only root, /tmp a noexec tmpfs) serves with its native libraries.
# Needs root (podman as root; apt-get installs podman, runc and debootstrap if missing).
# The base image is cached between runs in $NEXUS_CI_CACHE (default /var/cache/nexus-ci), outside
# the clone, and in podman's store as $BASE_TAG; delete either to rebuild it.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${NEXUS_CI_CACHE:-/var/cache/nexus-ci}
SUITE=bookworm
BASE_PACKAGES=openjdk-17-jre-headless
# Bump when the base recipe changes, so a reused machine's cache is not taken for the new recipe.
BASE_RECIPE=1
BASE_TAG=localhost/nexus-ci-base:$SUITE-jre17-r$BASE_RECIPE
BASE_TAR=$CACHE/base-$SUITE-jre17-r$BASE_RECIPE.tar
RUN_ID=$$
IMAGE=localhost/nexus-ci-test:$RUN_ID
CONTAINER=nexus-ci-$RUN_ID
VOLUME=nexus-ci-data-$RUN_ID
PORT=${NEXUS_CI_PORT:-17$((RUN_ID % 900 + 100))}
JAR=relay-server/target/nexus.jar
PODMAN=(podman --runtime runc --cgroup-manager=cgroupfs)
started=$(date +%s)

step() { echo "test-image [$(( $(date +%s) - started ))s]: $*"; }
fail() {
  echo "test-image: FAILED: $*" >&2
  if "${PODMAN[@]}" container exists "$CONTAINER" 2>/dev/null; then
    echo "--- container log (last 40 lines) ---" >&2
    "${PODMAN[@]}" logs --tail 40 "$CONTAINER" >&2 || true
  fi
  exit 1
}
cleanup() {
  "${PODMAN[@]}" rm -f -t 5 "$CONTAINER" >/dev/null 2>&1 || true
  "${PODMAN[@]}" volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  "${PODMAN[@]}" rmi -f "$IMAGE" >/dev/null 2>&1 || true
  [ -n "${ROOTFS:-}" ] && rm -rf "$ROOTFS"
  [ -n "${CONF_DIR:-}" ] && rm -rf "$CONF_DIR"
  true
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || fail "run as root (podman here runs containers as root)"
[ -f "$JAR" ] || fail "$JAR is missing: run 'mvn -B -DskipTests package' first"

missing=()
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]} from apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null || fail "apt-get update failed"
  apt-get install -y -q -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null || fail "apt-get install ${missing[*]} failed"
fi

# ---------------------------------------------------------------- the runtime base image
if "${PODMAN[@]}" image exists "$BASE_TAG"; then
  step "base image $BASE_TAG already in podman's store"
else
  mkdir -p "$CACHE"
  if [ ! -s "$BASE_TAR" ]; then
    # The mirror apt already uses (no other host is reachable here).
    mirror=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1 || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    ROOTFS=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    step "debootstrap $SUITE + $BASE_PACKAGES from $mirror (first run on this machine; cached afterwards)"
    debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$ROOTFS" "$mirror" > "$CACHE/debootstrap.log" 2>&1 \
      || { tail -20 "$CACHE/debootstrap.log" >&2; fail "debootstrap failed (log: $CACHE/debootstrap.log)"; }
    # Smaller image: package lists and docs are not needed at run time.
    rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/*
    tar -C "$ROOTFS" -cf "$BASE_TAR.tmp" . || fail "cannot write $BASE_TAR"
    mv "$BASE_TAR.tmp" "$BASE_TAR"
    rm -rf "$ROOTFS"; ROOTFS=
  fi
  step "podman import $BASE_TAR as $BASE_TAG"
  "${PODMAN[@]}" import --change 'ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64' "$BASE_TAR" "$BASE_TAG" >/dev/null \
    || fail "podman import of $BASE_TAR failed"
fi

# ---------------------------------------------------------------- the image from docker/Dockerfile
step "podman build -f docker/Dockerfile --target prebuilt --build-arg BASE_IMAGE=$BASE_TAG"
"${PODMAN[@]}" build -q -f docker/Dockerfile --target prebuilt --build-arg BASE_IMAGE="$BASE_TAG" -t "$IMAGE" . >/dev/null \
  || fail "podman build failed"

nofile=$(ulimit -Hn); [ "$nofile" -gt 65536 ] && nofile=65536
nproc=$(ulimit -Hu); { [ "$nproc" = unlimited ] || [ "$nproc" -gt 4096 ]; } && nproc=4096
# The operator's step the image cannot guess: the public URL that NIP-42 AUTH events name. The rest
# of the mounted config is docker/nexus.toml as shipped.
CONF_DIR=$(mktemp -d); chmod 755 "$CONF_DIR"
{ cat docker/nexus.toml; } | sed "s|^url = .*|url = \"ws://127.0.0.1:$PORT\"|" > "$CONF_DIR/nexus.toml"
chmod 644 "$CONF_DIR/nexus.toml"
grep -q "^url = \"ws://127.0.0.1:$PORT\"" "$CONF_DIR/nexus.toml" || fail "could not set url in the container's config"
start_container() { # extra podman run options, if any
  "${PODMAN[@]}" run -d --name "$CONTAINER" "$@" -p "127.0.0.1:$PORT:7777" -v "$VOLUME:/data" \
    -v "${CONF_FILE:-$CONF_DIR/nexus.toml}:/etc/nexus/nexus.toml:ro" \
    --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc" "$IMAGE" >/dev/null \
    || fail "podman run failed"
}
wait_for_nip11() {
  for _ in $(seq 1 150); do
    if curl -sf -H 'Accept: application/nostr+json' "http://127.0.0.1:$PORT/" > "$1" 2>/dev/null; then return 0; fi
    [ "$("${PODMAN[@]}" inspect -f '{{.State.Running}}' "$CONTAINER" 2>/dev/null)" = true ] || fail "the container exited"
    sleep 0.2
  done
  fail "no NIP-11 document on http://127.0.0.1:$PORT/ within 30 s"
}
probe() { java -cp "$JAR" docker/ImageProbe.java "$@"; }

step "run the container (volume $VOLUME, port 127.0.0.1:$PORT, nofile $nofile)"
start_container
info=$(mktemp)
wait_for_nip11 "$info"
grep -q '"supported_nips"' "$info" || fail "NIP-11 document lacks supported_nips: $(head -c 300 "$info")"
[ "$("${PODMAN[@]}" exec "$CONTAINER" id -un)" = nexus ] || fail "the relay does not run as the nexus user"
step "NIP-11 served: $(head -c 100 "$info")..."

id=$(probe publish "ws://127.0.0.1:$PORT") || fail "publish/read round trip over WebSocket failed"
step "event $id published (OK true after AUTH) and read back"

step "restart the container"
"${PODMAN[@]}" restart -t 20 "$CONTAINER" >/dev/null || fail "podman restart failed"
wait_for_nip11 "$info"
probe read "ws://127.0.0.1:$PORT" "$id" || fail "event $id did not survive the container restart"
step "event $id still served after the restart"

"${PODMAN[@]}" stop -t 20 "$CONTAINER" >/dev/null || fail "podman stop failed"
# (the log is read whole first: with pipefail, grep -q closing the pipe early could fail the check)
log=$("${PODMAN[@]}" logs "$CONTAINER" 2>&1) || fail "podman logs failed"
grep -q 'SQLite store closed' <<< "$log" || fail "the relay did not close its store cleanly on stop"

# Hardened containers: the root file system read-only, with /tmp read-only too or a noexec tmpfs (as
# CIS-hardened hosts mount /tmp). No loader can map a library it unpacks there, and the JIT warm-up
# cannot write its throwaway store: the relay does both beside the store, in the volume.
hardened_run() { # label, podman run options
  local label=$1; shift
  "${PODMAN[@]}" rm "$CONTAINER" >/dev/null || fail "podman rm failed"
  step "run it hardened ($label): $*"
  start_container "$@"
  wait_for_nip11 "$info"
  "${PODMAN[@]}" exec "$CONTAINER" sh -c '! touch /tmp/.probe 2>/dev/null || grep -Eq "^[^ ]+ /tmp [^ ]+ [^ ]*noexec" /proc/mounts' \
    || fail "the container's /tmp is writable and allows executables: the run proves nothing ($label)"
  if [ -z "${CONF_FILE:-}" ]; then probe read "ws://127.0.0.1:$PORT" "$id" || fail "event $id not served by the hardened container ($label)"; fi
  local more
  more=$(probe publish "ws://127.0.0.1:$PORT") || fail "publish/read round trip in the hardened container failed ($label)"
  log=$("${PODMAN[@]}" logs "$CONTAINER" 2>&1) || fail "podman logs failed"
  grep -q 'native libraries load from /data/nexus-native-' <<< "$log" || fail "the native libraries were not unpacked beside the store ($label)"
  grep -q 'listening on .*epoll transport.*verifier: libsecp256k1 (JNI)' <<< "$log" \
    || fail "the hardened relay fell back to NIO or to the Java verifier ($label): $(grep 'listening on' <<< "$log")"
  grep -q 'JIT warm-up: .* queries answered' <<< "$log" || fail "the hardened relay started without its JIT warm-up ($label)"
  grep -q 'launcher re-executed this process' <<< "$log" || fail "the launcher did not run the relay in its own place ($label)"
  if grep -q ' WARN ' <<< "$log"; then fail "the hardened relay logged a warning ($label): $(grep ' WARN ' <<< "$log" | head -3)"; fi
  # No loader's copy left where it could not load (jffi's stub, the launcher's, used to stay in a noexec /tmp).
  local listing left
  listing=$("${PODMAN[@]}" exec "$CONTAINER" sh -c 'ls -A /tmp /data /data/nexus-native-* /tmp/nexus-native-* 2>/dev/null; true') \
    || fail "cannot list the container's /tmp and /data ($label)"
  grep -q '^nexus.db$\|^lmdb$' <<< "$listing" || fail "the listing of /data is not what it should be ($label): $listing"
  left=$(grep -E '^(jffi|libnetty_|sqlite-|secp256k1|lmdbjava-native)' <<< "$listing" || true)
  [ -z "$left" ] || fail "loader copies left behind ($label): $left"
  "${PODMAN[@]}" stop -t 20 "$CONTAINER" >/dev/null || fail "podman stop failed"
  step "served $more${CONF_FILE:+ from LMDB}, warmed up, with epoll and libsecp256k1 loaded from /data ($label)"
}
hardened_run "read-only /tmp" --read-only --read-only-tmpfs=false
hardened_run "noexec /tmp" --read-only --tmpfs /tmp:rw,noexec,nosuid,nodev
# LMDB reaches its library through jnr-ffi, whose own stub (jffi) must load from /data too.
sed 's|^path = .*|backend = "lmdb"\npath = "/data/lmdb"|' "$CONF_DIR/nexus.toml" > "$CONF_DIR/nexus-lmdb.toml"
chmod 644 "$CONF_DIR/nexus-lmdb.toml"
grep -q '^backend = "lmdb"' "$CONF_DIR/nexus-lmdb.toml" || fail "could not make the LMDB config"
CONF_FILE="$CONF_DIR/nexus-lmdb.toml" hardened_run "LMDB, noexec /tmp" --read-only --tmpfs /tmp:rw,noexec,nosuid,nodev
rm -f "$info"
step "passed"
