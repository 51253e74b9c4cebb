#!/usr/bin/env bash
# `make compose-test`: the compose stack end to end on a local Docker engine.
#
# Installs Debian's docker.io, docker-compose and debootstrap when missing (root), starts dockerd
# in the background when no engine answers (and stops it again at the end), builds the local
# base image (cached: deploy/base-image.sh) and the wheelhouse, then runs the test driver
# (tests/compose_stack.py: build, up, README commands, failovers, down -v).
# Skips, exit 0 with a SKIP line, only where no Docker engine can be installed or started.
set -euo pipefail
cd "$(dirname "$0")/.."

ARTIFACTS="${COMPOSE_TEST_ARTIFACTS:-tests/artifacts/compose}"
export BASE_IMAGE="${BASE_IMAGE:-local/debian-python:bookworm}"
mkdir -p "$ARTIFACTS"
T0=$(date +%s)
DOCKERD_PID=""

step() { printf '[compose-test %4ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
as_root() {
  if [[ "$(id -u)" == 0 ]]; then "$@"
  elif sudo -n true 2>/dev/null; then sudo "$@"
  else return 1; fi
}
skip() {
  echo "SKIP compose-test: $*"
  exit 0
}
cleanup() {
  local rc=$?
  if [[ -n "$DOCKERD_PID" ]]; then
    step "stopping the dockerd this run started (pid $DOCKERD_PID)"
    as_root kill "$DOCKERD_PID" 2>/dev/null || true
    wait "$DOCKERD_PID" 2>/dev/null || true
  fi
  step "done (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if ((${#missing[@]})); then
  step "installing ${missing[*]} (log: $ARTIFACTS/apt.log)"
  export DEBIAN_FRONTEND=noninteractive
  { as_root apt-get update -qq && as_root apt-get install -y -qq "${missing[@]}"; } \
    >"$ARTIFACTS/apt.log" 2>&1 || skip "cannot install ${missing[*]} (needs root and apt)"
fi

if ! docker info >/dev/null 2>&1; then
  step "starting dockerd (log: $ARTIFACTS/dockerd.log)"
  # Not through as_root: $! must be dockerd itself (or sudo, which relays signals to it).
  if [[ "$(id -u)" == 0 ]]; then
    dockerd >"$ARTIFACTS/dockerd.log" 2>&1 &
  elif sudo -n true 2>/dev/null; then
    sudo -n dockerd >"$ARTIFACTS/dockerd.log" 2>&1 &
  else
    skip "no Docker engine answers and starting dockerd needs root"
  fi
  DOCKERD_PID=$!
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    tail -5 "$ARTIFACTS/dockerd.log" >&2 || true
    skip "no Docker engine can start on this machine (see $ARTIFACTS/dockerd.log)"
  fi
fi

step "base image $BASE_IMAGE"
deploy/base-image.sh "$BASE_IMAGE"
step "wheelhouse (requirements/serve.txt)"
make --no-print-directory -s wheelhouse >"$ARTIFACTS/wheelhouse.log" 2>&1 \
  || { tail -20 "$ARTIFACTS/wheelhouse.log" >&2; exit 1; }
step "test driver"
.venv/bin/python -m tests.compose_stack --artifacts "$ARTIFACTS"
# Layers of earlier builds that no tag uses any more (the base image stays cached).
docker image prune -f >/dev/null
