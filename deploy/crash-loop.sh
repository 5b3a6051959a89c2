#!/usr/bin/env bash
# Kills annalsd with SIGKILL under load, again and again, and checks after
# every restart that every acknowledged event is in the log at the position
# it was acknowledged at. At the end: the whole log against every
# acknowledgement, annalsd's own chain and Merkle check (--verify-on-start),
# and an export verified offline against the server's signing key.
#
#   deploy/crash-loop.sh [--cycles N] [--build-dir DIR] [--work-dir DIR]
#                        [--port P]
#
# Each cycle starts annalsd (durability sync) on the same data directory,
# runs three loads at once for 0.5-3 s, each writing what it saw
# acknowledged to its own file (annals-bench --ack-log):
#   unary     annals-bench append, 4 threads, single events
#   session   annals-bench append-session, 8 sessions, single events
#   batched   annals-bench append, 2 threads, batches of 25
# then kills annalsd with SIGKILL while they append, and checks the
# cycle's acknowledgements after the restart. Exits non-zero at the first
# acknowledged event missing or moved. Not part of the test suite (it runs
# for minutes); docs/reliability.md has its figures.
set -euo pipefail

cd "$(dirname "$0")/.."
CYCLES=100
BUILD_DIR=build
WORK_DIR=""
PORT=17465
while [ $# -gt 0 ]; do
  case "$1" in
    --cycles) CYCLES=$2; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --work-dir) WORK_DIR=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    *) echo "usage: deploy/crash-loop.sh [--cycles N] [--build-dir DIR] [--work-dir DIR] [--port P]" >&2; exit 2 ;;
  esac
done
[ -n "$WORK_DIR" ] || WORK_DIR=$(mktemp -d /tmp/annals-crash-loop.XXXXXX)
readonly ANNALSD="$BUILD_DIR/bin/annalsd"
readonly BENCH="$BUILD_DIR/bin/annals-bench"
readonly ANNALS=("$BUILD_DIR/bin/annals" --server "127.0.0.1:$PORT")
readonly DATA="$WORK_DIR/data"
readonly ACKS="$WORK_DIR/acks"
mkdir -p "$ACKS"

SERVER_PID=""
LOAD_PIDS=()

# stop_all: SIGKILL to annalsd first (while the loads still append), then
# to the loads.
stop_all() {
  for pid in $SERVER_PID "${LOAD_PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  LOAD_PIDS=()
  SERVER_PID=""
}
trap stop_all EXIT

# start_server [FLAGS...]: starts annalsd and waits until it serves.
start_server() {
  "$ANNALSD" --listen "127.0.0.1:$PORT" --data-dir "$DATA" --durability sync \
    "$@" >>"$WORK_DIR/annalsd.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    "${ANNALS[@]}" health >/dev/null 2>&1 && return 0
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "crash-loop: annalsd exited; its log:" >&2
      tail -5 "$WORK_DIR/annalsd.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "crash-loop: annalsd did not serve within 30 s" >&2
  exit 1
}

# start_load NAME FLAGS...: one annals-bench load in the background.
start_load() {
  local name=$1; shift
  "$BENCH" --server "127.0.0.1:$PORT" --duration 60s --channels 2 \
    --run-id "$name" --ack-log "$ACKS/$name" "$@" \
    >>"$WORK_DIR/load.log" 2>&1 &
  LOAD_PIDS+=($!)
}

# check_acks FROM_POSITION ACK_FILE...: every event the files name is in
# the log at the position named. Reads the log from FROM_POSITION.
check_acks() {
  local from=$1; shift
  "${ANNALS[@]}" --json read --all --from "$from" >"$WORK_DIR/log.jsonl"
  python3 - "$WORK_DIR/log.jsonl" "$@" <<'PY'
import json, sys
log = {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    log[e["event"]["id"]] = int(e["position"])
acked = missing = moved = 0
for path in sys.argv[2:]:
    for line in open(path):
        parts = line.split()
        if len(parts) != 2:
            continue  # a line cut by SIGKILL is not an acknowledgement
        acked += 1
        found = log.get(parts[0])
        if found is None:
            missing += 1
            if missing <= 5: print(f"missing: {parts[0]} at {parts[1]}")
        elif found != int(parts[1]):
            moved += 1
            if moved <= 5: print(f"moved: {parts[0]} {parts[1]} -> {found}")
print(f"acknowledged {acked}, missing {missing}, moved {moved}")
sys.exit(1 if missing or moved else 0)
PY
}

# lowest_position ACK_FILE...: the lowest position the files name (1 when
# they name none).
lowest_position() {
  cat "$@" 2>/dev/null | awk 'NF == 2 && (min == "" || $2 < min) { min = $2 }
                             END { print (min == "" ? 1 : min) }'
}

main() {
  echo "crash-loop: $CYCLES cycles in $WORK_DIR"
  start_server
  for cycle in $(seq 1 "$CYCLES"); do
    start_load "c$cycle-unary" --scenario append --concurrency 4 --batch 1
    start_load "c$cycle-session" --scenario append-session --concurrency 8 --batch 1
    start_load "c$cycle-batched" --scenario append --concurrency 2 --batch 25
    sleep "$(python3 -c 'import random; print(round(random.uniform(0.5, 3), 2))')"
    # The loads go too: what they saw acknowledged is in their files
    # already, and they would only retry against a dead server.
    stop_all
    start_server
    local files=("$ACKS"/c"$cycle"-*)
    echo -n "cycle $cycle: "
    check_acks "$(lowest_position "${files[@]}")" "${files[@]}"
  done
  echo -n "all cycles: "
  check_acks 1 "$ACKS"/*
  stop_all
  start_server --verify-on-start
  "${ANNALS[@]}" export --to "$WORK_DIR/export.jsonl"
  "${ANNALS[@]}" public-key >"$WORK_DIR/key.pem"
  "${ANNALS[@]}" verify "$WORK_DIR/export.jsonl" --public-key "$WORK_DIR/key.pem"
  echo "crash-loop: $CYCLES kill -9 cycles, $(cat "$ACKS"/* | wc -l) acknowledged events, none lost; chain, Merkle tree and export verified"
}

main
