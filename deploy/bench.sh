#!/usr/bin/env bash
# Runs every benchmark in one go and writes docs/benchmarks.md:
# annalsd over gRPC (annals-bench), the raw RocksDB limit
# (annals-bench-raw), and the PostgreSQL 15 and Redis 7 peers
# (annals-bench-postgres, annals-bench-redis), all on this machine, on
# loopback, at the same durability, in the same run.
#
#   deploy/bench.sh                 # full run (installs the peers if missing)
#   deploy/bench.sh --smoke         # seconds: ~1 s per figure, small N, peers
#                                   # only when installed, output to a temp
#                                   # file; exits non-zero if a runner fails
#   deploy/bench.sh --only http     # only the HTTP gateway's figures (on the
#                                   # large log), written as the page's
#                                   # "HTTP gateway" section to a temp file
#                                   # (or --out) to paste into
#                                   # docs/benchmarks.md
#   deploy/bench.sh --cluster       # only a 3-replica cluster's figures
#                                   # (deploy/bench-cluster.sh) as the page's
#                                   # "Cluster" section, to a temp file (or
#                                   # --out); with --smoke in ~40 s
#
# Options:
#   --smoke            as above
#   --no-install       never apt-get install (the full run installs
#                      postgresql-15, redis-server, libpq-dev, libhiredis-dev)
#   --no-peers         run only annals-bench and annals-bench-raw
#   --no-build         use the binaries in --build-dir as they are
#   --build-dir DIR    default build-bench (RelWithDebInfo)
#   --duration D       per figure (default 3s; smoke 1s)
#   --out FILE         default docs/benchmarks.md (smoke: a temp file)
#   --big-events N     size of the generated log the append, query,
#                      catch-up, fan-out, HTTP and memory figures on the
#                      large log run on (default 1000000; smoke 2000; 0
#                      skips them)
#   --only http        as above: no append figures, no peers, and of the
#                      large log's figures only the HTTP gateway's
#   --cluster          as above: 3 nats-server and 3 (then 4) annalsd
#                      replicas next to an embedded annalsd; --big-events
#                      is the size of the log a new replica catches up on
#   --ports FIRST      --cluster: the servers listen on FIRST, FIRST+1, ...
#                      (about 20 ports; default: free ones the kernel picks)
#
# The HTTP figures hold 1,000 event streams (smoke: 50): the open-file
# limit is raised to 4096 (at most the hard limit) when it is lower.
#
# Servers are throwaway: each gets a temp directory and its own loopback
# port, and is stopped at exit. PostgreSQL refuses to run as root, so as
# root it runs as the user `nobody`.
set -euo pipefail

cd "$(dirname "$0")/.."
SMOKE=0 INSTALL=1 PEERS=1 BUILD=1 ONLY="" CLUSTER=0 PORT_BASE=""
BUILD_DIR=build-bench DURATION="" OUT="" BIG_EVENTS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1 ;;
    --no-install) INSTALL=0 ;;
    --no-peers) PEERS=0 ;;
    --no-build) BUILD=0 ;;
    --build-dir) BUILD_DIR="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    --big-events) BIG_EVENTS="$2"; shift ;;
    --only)
      [ "$2" = http ] || { echo "bench.sh: --only takes http" >&2; exit 2; }
      ONLY="$2"; shift ;;
    --cluster) CLUSTER=1 ;;
    --ports) PORT_BASE="$2"; shift ;;
    *) echo "usage: deploy/bench.sh [--smoke] [--no-install] [--no-peers] [--no-build] [--build-dir DIR] [--duration D] [--out FILE] [--big-events N] [--only http | --cluster [--ports FIRST]]" >&2; exit 2 ;;
  esac
  shift
done
[ "$SMOKE" -eq 1 ] && INSTALL=0
[ -n "$ONLY" ] && INSTALL=0 PEERS=0
[ "$CLUSTER" -eq 1 ] && INSTALL=0 PEERS=0
[ "$CLUSTER" -eq 1 ] && [ -n "$ONLY" ] && { echo "bench.sh: --cluster and --only go apart" >&2; exit 2; }
if [ "$SMOKE" -eq 1 ]; then
  DURATION="${DURATION:-1s}"
  WARMUP=0.2s
  SINGLE=(1 8) BATCHES=(10 100) BATCH_CLIENTS=2
  BIG_APPENDS=("8 1" "2 100") BIG_APPEND_WARMUP=1s
  ROUNDS=2 ROUND_QUIET_S=1
  BIG_EVENTS="${BIG_EVENTS:-2000}"
  SSE_STREAMS=50
else
  DURATION="${DURATION:-3s}"
  # Query figures first query this long unmeasured: a figure is the steady
  # state (block cache and kept GetRelationship answers warm). The first
  # GetRelationship figure is also given cold, without.
  WARMUP=1s
  SINGLE=(1 8 64 256) BATCHES=(10 100 1000) BATCH_CLIENTS=8
  BIG_APPENDS=("64 1" "8 100") BIG_APPEND_WARMUP=10s
  ROUNDS=5 ROUND_QUIET_S=8
  BIG_EVENTS="${BIG_EVENTS:-1000000}"
  SSE_STREAMS=1000
fi
# ROUNDS: how many times the figures of BIG_APPENDS run again, AppendSession
# and Redis alternating (rounds_table in tabulate.py), and the large log
# and a new one alternating (big_rounds_table), each of the latter once
# the large log's annalsd has been idle for ROUND_QUIET_S: longer than it
# waits before its idle merge (LogOptions::idle_merge_after, 5 s).
# BIG_APPENDS: "CLIENTS BATCH" of the AppendSession figures also run on the
# large log, each one of the figures above (CLIENTS of SINGLE with batch 1,
# or BATCH_CLIENTS with a batch of BATCHES), for the ratio of the two:
# once just after annalsd was idle, and again after appending the same way
# for BIG_APPEND_WARMUP, unmeasured.
# The HTTP gateway's figures: GetRelationship of this dyad over HTTP and
# gRPC by each number of clients, and SSE fan-out to SSE_STREAMS streams
# at SSE_RATE events/s.
HTTP_DYAD=KOR-PRK HTTP_CLIENTS=(1 8) SSE_RATE=100
# AppendSession: requests in flight per AppendSession. Single events: 32, but
# about 512 in all once there are more than 16 clients (at least 4): more
# adds latency, not events/s. Batched: 4.
SESSION_WINDOW=32 SESSION_TOTAL=512 SESSION_MIN_WINDOW=4 SESSION_BATCH_WINDOW=4
PG_BIN=/usr/lib/postgresql/15/bin

log() { echo "bench.sh: $*" >&2; }

# Raises the open-file limit of this shell (and so of annalsd and
# annals-bench) to 4096 when it is lower, as far as the hard limit allows:
# each event stream is a socket on both sides.
raise_fd_limit() {
  local want=4096 soft hard
  soft="$(ulimit -Sn)" hard="$(ulimit -Hn)"
  [ "$soft" = unlimited ] || [ "$soft" -ge "$want" ] && return 0
  [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ] && want="$hard"
  ulimit -Sn "$want"
  log "open-file limit raised from $soft to $(ulimit -Sn)"
  [ "$(ulimit -Sn)" -ge $((SSE_STREAMS + 256)) ] ||
    log "open-file limit $(ulimit -Sn) is low for $SSE_STREAMS event streams"
}
raise_fd_limit

# --- Install and build ---
if [ "$INSTALL" -eq 1 ]; then
  missing=()
  for p in postgresql-15 redis-server libpq-dev libhiredis-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi
if [ "$BUILD" -eq 1 ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  targets=(annalsd annals-bench annals-bench-raw)
  [ "$CLUSTER" -eq 1 ] && targets=(annalsd annals-bench annals-bench-jetstream)
  [ "$PEERS" -eq 1 ] && grep -q "annals-bench-postgres" <(ninja -C "$BUILD_DIR" -t targets all 2>/dev/null) && targets+=(annals-bench-postgres)
  [ "$PEERS" -eq 1 ] && grep -q "annals-bench-redis" <(ninja -C "$BUILD_DIR" -t targets all 2>/dev/null) && targets+=(annals-bench-redis)
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target "${targets[@]}" >&2
fi
ANNALSD="$BUILD_DIR/bin/annalsd"
BENCH="$BUILD_DIR/bin/annals-bench"
RAW="$BUILD_DIR/bin/annals-bench-raw"
PG_BENCH="$BUILD_DIR/bin/annals-bench-postgres"
REDIS_BENCH="$BUILD_DIR/bin/annals-bench-redis"
for b in "$ANNALSD" "$BENCH" $([ "$CLUSTER" -eq 1 ] || echo "$RAW"); do
  [ -x "$b" ] || { log "missing $b (build it, or drop --no-build)"; exit 1; }
done

# --- Throwaway servers ---
if [ "$CLUSTER" -eq 1 ]; then
  TMP="$(mktemp -d /tmp/cluster-bench-XXXXXX)"
else
  TMP="$(mktemp -d /tmp/annals-bench.XXXXXX)"
fi
chmod 755 "$TMP"
PIDS=()
PG_DATA=""
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$PG_DATA" ]; then as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast stop >/dev/null 2>&1 || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

RESULTS="$TMP/results.txt"
: >"$RESULTS"
FAILED=0
# run SYSTEM CMD...: runs a driver, appends its key=value lines to RESULTS.
run() {
  local system="$1"; shift
  local out
  if out="$("$@" 2>"$TMP/stderr")"; then :; else
    FAILED=1
    log "FAILED ($system): $* -- $(tail -n 3 "$TMP/stderr" | tr '\n' ' ')"
  fi
  while IFS= read -r line; do
    case "$line" in
      scenario=*) echo "$system $line" >>"$RESULTS"; log "$system $line" ;;
    esac
  done <<<"$out"
}

# start_annalsd NAME DATA DURABILITY [http]: starts annalsd (RelWithDebInfo)
# on DATA and waits for it; sets ANNALSD_PID and ANNALS_ADDR, and with
# `http` also serves its HTTP gateway and sets ANNALS_HTTP_ADDR.
start_annalsd() {
  local name="$1" data="$2" durability="$3" http=()
  rm -f "$TMP/$name.port" "$TMP/$name.http-port"
  [ "${4:-}" = http ] &&
    http=(--http-listen 127.0.0.1:0 --http-port-file "$TMP/$name.http-port")
  "$ANNALSD" --listen 127.0.0.1:0 --port_file "$TMP/$name.port" \
    --data_dir "$data" --durability "$durability" "${http[@]}" \
    >"$TMP/$name.log" 2>&1 &
  ANNALSD_PID=$!
  PIDS+=("$ANNALSD_PID")
  for _ in $(seq 1 6000); do
    [ -s "$TMP/$name.port" ] && break
    kill -0 "$ANNALSD_PID" 2>/dev/null || { log "annalsd died: $(tail -n 5 "$TMP/$name.log")"; exit 1; }
    sleep 0.05
  done
  [ -s "$TMP/$name.port" ] || { log "annalsd did not start"; exit 1; }
  ANNALS_ADDR="127.0.0.1:$(cat "$TMP/$name.port")"
  # annalsd writes the HTTP port before the gRPC one.
  ANNALS_HTTP_ADDR=""
  [ ${#http[@]} -gt 0 ] && ANNALS_HTTP_ADDR="127.0.0.1:$(cat "$TMP/$name.http-port")"
  return 0
}
# memory_row ARGS...: a row of a memory table: a label made of the
# scenario and its flags, annalsd's resident set and its peak so far.
memory_row() {
  local label="" prev=""
  for a in "$@"; do
    case "$prev" in
      --scenario|--as-of|--filter|--subscribers|--concurrency|--batch|--warmup|--dyad) label="$label ${a}" ;;
    esac
    prev="$a"
  done
  # The method's name, as the page's tables name it.
  label="${label/append-session/AppendSession}"
  local rss hwm
  rss="$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$ANNALSD_PID/status" 2>/dev/null || echo "?")"
  hwm="$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$ANNALSD_PID/status" 2>/dev/null || echo "?")"
  echo "
|${label} | $rss | $hwm |"
}
# run_big_as SYSTEM ARGS...: `run SYSTEM ARGS`, then notes annalsd's
# resident set and its peak so far (memory_row); run_big: as annals-big.
BIG_MEMORY=""
run_big_as() {
  run "$@"
  shift
  BIG_MEMORY="$BIG_MEMORY$(memory_row "$@")"
}
run_big() { run_big_as annals-big "$@"; }
# big_appends SYSTEM [ARGS...]: each of BIG_APPENDS as AppendSession on the
# large log, with annalsd's CPU per event and ARGS, as SYSTEM.
big_appends() {
  local system="$1" cb c b
  shift
  for cb in "${BIG_APPENDS[@]}"; do
    read -r c b <<<"$cb"
    run_big_as "$system" "$BENCH" --server "$ANNALS_ADDR" \
      --scenario append-session --concurrency "$c" --batch "$b" \
      --window "$(session_window "$c" "$b")" --duration "$DURATION" \
      --cpu-pids "annalsd=$ANNALSD_PID" "$@"
  done
}
# run_http ARGS...: the same for the HTTP gateway's figures (annals-http).
HTTP_MEMORY=""
run_http() {
  run annals-http "$@"
  HTTP_MEMORY="$HTTP_MEMORY$(memory_row "$@")"
}

# wait_idle [SECONDS]: waits until annalsd has been idle (under 5% of a
# core) for SECONDS (3) in a row, at most 300 s: the background compactions
# of a log just loaded finish before its queries are measured. Sets
# IDLE_WAIT_S.
wait_idle() {
  local want="${1:-3}" ticks last now quiet=0 waited=0
  ticks() { awk '{print $14 + $15}' "/proc/$ANNALSD_PID/stat" 2>/dev/null || echo 0; }
  last="$(ticks)"
  while [ "$quiet" -lt "$want" ] && [ "$waited" -lt 300 ]; do
    sleep 1
    waited=$((waited + 1))
    now="$(ticks)"
    if [ $((now - last)) -le 5 ]; then quiet=$((quiet + 1)); else quiet=0; fi
    last="$now"
  done
  IDLE_WAIT_S="$waited"
}
stop_annalsd() {
  kill -TERM "$ANNALSD_PID" 2>/dev/null || true
  wait "$ANNALSD_PID" 2>/dev/null || true
}
version_of() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }
commit_of_run() {
  # The page being written is no change of the code; a page outside the
  # tree cannot be named to git.
  local exclude=()
  case "$(realpath -m "$OUT")" in "$PWD"/*) exclude=(":(exclude)$OUT") ;; esac
  echo "$(git log -1 --format='%h (%ad)' --date=short 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . "${exclude[@]}" 2>/dev/null || echo " (with uncommitted changes)")"
}

if [ "$CLUSTER" -eq 1 ]; then
  # shellcheck source=deploy/bench-cluster.sh
  . deploy/bench-cluster.sh
  exit "$FAILED"
fi

# annalsd, durable.
ANNALS_DATA="$TMP/annals-data"
[ -z "$ONLY" ] && start_annalsd annalsd "$ANNALS_DATA" sync

HAVE_PG=0 HAVE_REDIS=0
if [ "$PEERS" -eq 1 ] && [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BENCH" ]; then
  PG_DATA="$TMP/pg"
  PG_PORT="$(free_port)"
  mkdir -p "$PG_DATA"
  [ "$(id -u)" -eq 0 ] && chown nobody "$PG_DATA"
  if as_pg "$PG_BIN/initdb" -D "$PG_DATA" -A trust -U bench >"$TMP/initdb.log" 2>&1 &&
     as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -o \
       "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DATA -c max_connections=400 -c fsync=on -c synchronous_commit=on -c full_page_writes=on -c shared_buffers=256MB" \
       start >/dev/null 2>&1; then
    HAVE_PG=1
    # The postmaster: its process tree is the server's CPU.
    PG_PID="$(head -n 1 "$PG_DATA/postmaster.pid")"
  else
    log "PostgreSQL did not start; skipping it: $(tail -n 3 "$TMP/initdb.log" "$PG_DATA/server.log" 2>/dev/null | tr '\n' ' ')"
    PG_DATA=""
    [ "$SMOKE" -eq 1 ] || FAILED=1
  fi
elif [ "$PEERS" -eq 1 ]; then
  log "PostgreSQL 15 or annals-bench-postgres not installed: skipping it"
  [ "$SMOKE" -eq 1 ] || FAILED=1
fi
if [ "$PEERS" -eq 1 ] && command -v redis-server >/dev/null && [ -x "$REDIS_BENCH" ]; then
  REDIS_PORT="$(free_port)"
  mkdir -p "$TMP/redis"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$TMP/redis" \
    --appendonly yes --appendfsync always --save "" --maxclients 1000 \
    --daemonize no --logfile "$TMP/redis/redis.log" &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  for _ in $(seq 1 100); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && { HAVE_REDIS=1; break; }
    sleep 0.05
  done
  [ "$HAVE_REDIS" -eq 1 ] || { log "Redis did not start; skipping it"; [ "$SMOKE" -eq 1 ] || FAILED=1; }
elif [ "$PEERS" -eq 1 ]; then
  log "redis-server or annals-bench-redis not installed: skipping it"
  [ "$SMOKE" -eq 1 ] || FAILED=1
fi

# --- The runs ---
PG_CONN="host=127.0.0.1 port=${PG_PORT:-0} user=bench dbname=postgres"
# session_window CLIENTS BATCH: the AppendSession window of a figure.
session_window() {
  local c="$1" b="$2" w
  w=$(( SESSION_TOTAL / c ))
  [ "$w" -gt "$SESSION_WINDOW" ] && w="$SESSION_WINDOW"
  [ "$w" -lt "$SESSION_MIN_WINDOW" ] && w="$SESSION_MIN_WINDOW"
  [ "$b" -gt 1 ] && w="$SESSION_BATCH_WINDOW"
  echo "$w"
}
# figure CLIENTS BATCH: the same figure from every system, each with its
# server's CPU per event (--cpu-pids: annalsd, the postmaster's process
# tree, redis-server) next to the driver's own.
figure() {
  local c="$1" b="$2"
  run annals "$BENCH" --server "$ANNALS_ADDR" --scenario append \
    --concurrency "$c" --batch "$b" --duration "$DURATION" \
    --cpu-pids "annalsd=$ANNALSD_PID"
  run annals-session "$BENCH" --server "$ANNALS_ADDR" --scenario append-session \
    --concurrency "$c" --batch "$b" --window "$(session_window "$c" "$b")" \
    --duration "$DURATION" --cpu-pids "annalsd=$ANNALSD_PID"
  run raw "$RAW" --dir "$TMP/raw-data" --concurrency "$c" --batch "$b" \
    --duration "$DURATION"
  [ "$HAVE_PG" -eq 1 ] && run postgres "$PG_BENCH" --conninfo "$PG_CONN" \
    --concurrency "$c" --batch "$b" --duration "$DURATION" \
    --cpu-pids "postgres=$PG_PID"
  [ "$HAVE_PG" -eq 1 ] && run postgres-fn "$PG_BENCH" --conninfo "$PG_CONN" \
    --mode function --concurrency "$c" --batch "$b" --duration "$DURATION" \
    --cpu-pids "postgres=$PG_PID"
  [ "$HAVE_REDIS" -eq 1 ] && run redis "$REDIS_BENCH" --port "$REDIS_PORT" \
    --concurrency "$c" --batch "$b" --duration "$DURATION" \
    --cpu-pids "redis=$REDIS_PID"
  return 0
}
# rounds CLIENTS BATCH: the figure again, ROUNDS times, AppendSession and
# Redis back to back (annals first in odd rounds, Redis in even ones), as
# annals-session-round and redis-round, on an annalsd of its own on a
# fresh log (the figures' log has grown to millions of events by then).
rounds() {
  local c="$1" b="$2" r
  [ "$HAVE_REDIS" -eq 1 ] || return 0
  start_annalsd rounds "$TMP/rounds-data" sync
  local session=(run annals-session-round "$BENCH" --server "$ANNALS_ADDR"
    --scenario append-session --concurrency "$c" --batch "$b"
    --window "$(session_window "$c" "$b")" --duration "$DURATION"
    --cpu-pids "annalsd=$ANNALSD_PID")
  local redis=(run redis-round "$REDIS_BENCH" --port "$REDIS_PORT"
    --concurrency "$c" --batch "$b" --duration "$DURATION"
    --cpu-pids "redis=$REDIS_PID")
  for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) -eq 1 ]; then
      "${session[@]}"; "${redis[@]}"
    else
      "${redis[@]}"; "${session[@]}"
    fi
  done
  stop_annalsd
  rm -rf "$TMP/rounds-data"
}
# big_rounds CLIENTS BATCH: on the large log's running annalsd and on an
# annalsd of its own on a new log each round, the figure ROUNDS times,
# the large log first in odd rounds, as annals-big-round and
# annals-fresh-round. Each run appends the same way for DURATION,
# unmeasured, then for DURATION measured, and starts once the large
# log's annalsd has been idle for ROUND_QUIET_S, so that neither run pays
# for the compactions the other left.
big_rounds() {
  local c="$1" b="$2" r log_kind
  local big=("$ANNALSD_PID" "$ANNALS_ADDR" "$ANNALS_HTTP_ADDR")
  local args=(--scenario append-session --concurrency "$c" --batch "$b"
    --window "$(session_window "$c" "$b")" --duration "$DURATION"
    --warmup "$DURATION")
  for r in $(seq 1 "$ROUNDS"); do
    local order=(big fresh)
    [ $((r % 2)) -eq 0 ] && order=(fresh big)
    for log_kind in "${order[@]}"; do
      wait_idle "$ROUND_QUIET_S"
      [ "$log_kind" = fresh ] &&
        start_annalsd fresh-round "$TMP/fresh-round-data" sync
      run "annals-$log_kind-round" "$BENCH" --server "$ANNALS_ADDR" \
        "${args[@]}" --cpu-pids "annalsd=$ANNALSD_PID"
      if [ "$log_kind" = fresh ]; then
        stop_annalsd
        rm -rf "$TMP/fresh-round-data"
        ANNALSD_PID="${big[0]}" ANNALS_ADDR="${big[1]}" ANNALS_HTTP_ADDR="${big[2]}"
      fi
    done
  done
}
ANNALSD_RSS="" ANNALSD_EVENTS=""
if [ -z "$ONLY" ]; then
  for c in "${SINGLE[@]}"; do figure "$c" 1; done
  for b in "${BATCHES[@]}"; do figure "$BATCH_CLIENTS" "$b"; done

  # The whole log read back through ReadAll.
  run annals-other timeout 120 "$BENCH" --server "$ANNALS_ADDR" --scenario read

  ANNALSD_RSS="$(awk '/VmRSS/ {print $2 " " $3}' "/proc/$ANNALSD_PID/status" 2>/dev/null || echo unknown)"
  # du exits 1 when RocksDB deletes a file it is walking (a compaction
  # ending); the size it prints is still the directory's.
  ANNALSD_EVENTS="$(du -sh "$ANNALS_DATA" 2>/dev/null | cut -f1 || true)"
  stop_annalsd
  for cb in "${BIG_APPENDS[@]}"; do
    read -r c b <<<"$cb"
    rounds "$c" "$b"
  done
fi

# --- A large log: appends, queries, catch-up, fan-out, HTTP and memory ---
# The generator's realistic log (clients/bench/event_generator.h: ~200
# dyads, every kind, ~1% corrections) is loaded with --durability buffered,
# then annalsd restarts on it durable, with its HTTP gateway, and every
# figure below runs on that log.
BIG_RSS="" BIG_HWM="" BIG_SIZE="" BIG_OPEN_S="" BIG_SETTLE_S=""
BIG_APPENDED="" BIG_APPEND_SETTLE_S=""
# http_figures: the HTTP gateway against gRPC, on the running annalsd.
http_figures() {
  local c
  HTTP_MEMORY="
| after | RSS MiB | peak MiB |
|---|---:|---:|
| before the HTTP figures | $(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$ANNALSD_PID/status") | $(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$ANNALSD_PID/status") |"
  for c in "${HTTP_CLIENTS[@]}"; do
    run_http "$BENCH" --server "$ANNALS_ADDR" --scenario get-relationship \
      --dyad "$HTTP_DYAD" --concurrency "$c" --duration "$DURATION" \
      --warmup "$WARMUP" --server-pid "$ANNALSD_PID"
    run_http "$BENCH" --server "$ANNALS_ADDR" --http-server "$ANNALS_HTTP_ADDR" \
      --scenario http-get-relationship --dyad "$HTTP_DYAD" --concurrency "$c" \
      --duration "$DURATION" --warmup "$WARMUP" --server-pid "$ANNALSD_PID"
  done
  run_http timeout 300 "$BENCH" --server "$ANNALS_ADDR" \
    --http-server "$ANNALS_HTTP_ADDR" --scenario sse-fanout \
    --subscribers "$SSE_STREAMS" --rate "$SSE_RATE" --duration "$DURATION" \
    --warmup "$WARMUP" --server-pid "$ANNALSD_PID"
}
if [ "$BIG_EVENTS" -gt 0 ]; then
  BIG_DATA="$TMP/big-data"
  start_annalsd big-load "$BIG_DATA" buffered
  run annals-big "$BENCH" --server "$ANNALS_ADDR" --scenario generate \
    --events "$BIG_EVENTS"
  stop_annalsd
  open_start=$(date +%s.%N)
  start_annalsd big "$BIG_DATA" sync http
  BIG_OPEN_S="$(python3 -c "print(f'{$(date +%s.%N) - $open_start:.1f}')")"
  wait_idle
  BIG_SETTLE_S="$IDLE_WAIT_S"
  log "annalsd idle $BIG_SETTLE_S s after opening the large log"
  BIG_MEMORY="
| after | RSS MiB | peak MiB |
|---|---:|---:|
| opening, idle | $(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$ANNALSD_PID/status") | $(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$ANNALSD_PID/status") |"
  if [ -z "$ONLY" ]; then
    run_big "$BENCH" --server "$ANNALS_ADDR" --scenario get-relationship \
      --as-of none --concurrency 1 --duration "$DURATION" --warmup 0s
    for asof in none position date; do
      run_big "$BENCH" --server "$ANNALS_ADDR" --scenario get-relationship \
        --as-of "$asof" --concurrency 1 --duration "$DURATION" --warmup "$WARMUP"
    done
    run_big "$BENCH" --server "$ANNALS_ADDR" --scenario get-relationship \
      --as-of none --concurrency 8 --duration "$DURATION" --warmup "$WARMUP"
    for filter in dyad actor kind range; do
      run_big "$BENCH" --server "$ANNALS_ADDR" --scenario timeline \
        --filter "$filter" --concurrency 1 --duration "$DURATION" --warmup "$WARMUP"
    done
    # Three catch-ups and their median: one takes ~2 s, which this
    # machine's spells move by half (300-650k events/s on the same data).
    for _ in 1 2 3; do
      run_big timeout 600 "$BENCH" --server "$ANNALS_ADDR" --scenario catchup
    done
    subscribers=(1 100 1000)
    [ "$SMOKE" -eq 1 ] && subscribers=(1 10)
    for n in "${subscribers[@]}"; do
      run_big timeout 300 "$BENCH" --server "$ANNALS_ADDR" --scenario fanout \
        --subscribers "$n" --rate 1000 --duration "$DURATION" --warmup "$WARMUP"
    done
    # Then appends as on the fresh log, with annalsd's CPU per event, once
    # annalsd is idle again: after the figures above, so that those run on
    # the generated log as it was generated.
    wait_idle
    BIG_APPEND_SETTLE_S="$IDLE_WAIT_S"
    big_appends annals-big-session
    # And again after appending the same way, unmeasured, for
    # BIG_APPEND_WARMUP: the caches, compactions and level-0 merges a
    # writing large log runs with.
    big_appends annals-big-steady --warmup "$BIG_APPEND_WARMUP"
    for cb in "${BIG_APPENDS[@]}"; do
      read -r c b <<<"$cb"
      big_rounds "$c" "$b"
    done
    BIG_APPENDED="$(awk '$1 ~ /^annals-big-(session|steady|round)$/ {
        for (i = 2; i <= NF; i++) if ($i ~ /^events=/) n += substr($i, 8)
      } END {print n + 0}' "$RESULTS")"
    log "annalsd appended $BIG_APPENDED events on the large log after $BIG_APPEND_SETTLE_S s idle"
  fi
  BIG_RSS="$(awk '/VmRSS/ {print $2 " " $3}' "/proc/$ANNALSD_PID/status" 2>/dev/null || echo unknown)"
  BIG_HWM="$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$ANNALSD_PID/status" 2>/dev/null || echo unknown)"
  BIG_SIZE="$(du -sh "$BIG_DATA" 2>/dev/null | cut -f1 || true)"
  # Last: the figures above do not inherit what 1,000 event streams leave
  # in annalsd's memory.
  http_figures
  stop_annalsd
fi

# --- The page ---
BIG_APPENDS_TEXT="$(printf '%s\n' "${BIG_APPENDS[@]}" | sed 's/ /×/' | paste -sd, - | sed 's/,/ and /g')"
TABLES="$(python3 clients/bench/tabulate.py "$RESULTS")" || { log "cannot tabulate $RESULTS"; cat "$RESULTS" >&2; exit 1; }
HTTP_TABLES="$(python3 clients/bench/tabulate.py "$RESULTS" --http)" || { log "cannot tabulate $RESULTS"; exit 1; }
if [ -z "$OUT" ]; then
  if [ "$SMOKE" -eq 1 ] || [ -n "$ONLY" ]; then
    OUT="$(mktemp "/tmp/annals-bench-${ONLY:-smoke}.XXXXXX.md")"
  else
    OUT=docs/benchmarks.md
  fi
fi
# http_section: the page's "HTTP gateway" section, all that --only http
# writes.
http_section() {
  local context="after the figures above, on the same log"
  [ -n "$ONLY" ] && context="with no other figure before them (\`deploy/bench.sh --only http\`; the log generated as under Method)"
  cat <<EOF
## HTTP gateway

Measured on $(date -u +%Y-%m-%d) at $(commit_of_run): annalsd's
HTTP/JSON gateway (\`annalsd --http-listen\`: the routes of the protos'
\`google.api.http\` annotations, answers in protobuf's canonical JSON,
streams as server-sent events) against its gRPC API, in one annalsd with
the large log (${BIG_EVENTS} events), one figure after another,
${context}.

- **GetRelationship of ${HTTP_DYAD}** by N client threads for $DURATION,
  each figure after $WARMUP of the same calls, unmeasured. HTTP:
  \`GET /v1/relationships/${HTTP_DYAD}\` (\`annals-bench --scenario
  http-get-relationship\`, Boost.Beast), one HTTP/1.1 keep-alive
  connection per thread; a call is timed from writing the request to
  reading the answer's last byte and counts when it is a 200 with a JSON
  object as its body (read whole, not parsed). gRPC: the same calls
  (\`--scenario get-relationship --dyad ${HTTP_DYAD}\`, one channel per
  thread, the answer parsed into a message on an arena as in the
  figures above). CPU per call from /proc, annalsd's and the client's.
- **Server-sent events fan-out**: ${SSE_STREAMS} event streams
  \`GET /v1/subscribe?fromNow&maxEventsPerMessage=1000\` (unfiltered; the
  batching the gRPC fan-out asks for) held by one client process on one
  Boost.Asio thread, while ${SSE_RATE} events/s are appended over gRPC,
  one per unary call, as in the gRPC fan-out (after $WARMUP worth of
  appends to another stream, before the streams open). Latency from the
  start of each Append call to the event's arrival on each stream, over
  all deliveries; each stream's \`id:\`s (log positions) checked against
  the appended events' positions: missed and duplicated positions must be
  0. annalsd's resident set before the streams open, once all are live,
  and the largest of samples every 100 ms while the events are appended;
  CPU from the first append to the last stream's end, annalsd's and the
  client's (in parentheses the thread serving the streams; the rest is
  the gRPC appends).

${HTTP_TABLES:-(no HTTP figures in this run)}

annalsd's resident set after each figure, and the peak so far:
${HTTP_MEMORY}
EOF
}
# The cluster's section is measured apart (--cluster): a full run keeps
# the one the page holds.
KEPT_CLUSTER="$(awk '/^## Cluster \(NATS JetStream/ {on = 1} on && /^## / && !/^## Cluster/ {exit} on {print}' docs/benchmarks.md 2>/dev/null || true)"
if [ -n "$ONLY" ]; then
  http_section >"$OUT"
  log "wrote $OUT: paste it over the section of the same name in docs/benchmarks.md"
  exit "$FAILED"
fi
{
  cat <<EOF
# Benchmarks

Generated by \`deploy/bench.sh\` on $(date -u +%Y-%m-%d) — every figure below
comes from one run of that command, all systems on the same machine, one
after another, at the same durability. Rerun it to reproduce; earlier
hand-run measurements are in [benchmarks-history.md](benchmarks-history.md).

## Machine

- CPU: $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
- Memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
- Disk (data directories under /tmp): $(df -hT /tmp | awk 'NR == 2 {print $2 ", " $1 ", " $3 " total"}')
- Kernel: $(uname -sr); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)

## Versions

- annals: $(commit_of_run), RelWithDebInfo
- gRPC $(version_of libgrpc++-dev), RocksDB $(version_of librocksdb-dev), protobuf $(version_of libprotobuf-dev)
- PostgreSQL $(version_of postgresql-15) (libpq $(version_of libpq-dev)), Redis $(version_of redis-server) (hiredis $(version_of libhiredis-dev))

## Method

Each figure runs for $DURATION with N client threads in a loop, each call
appending a batch of events (~600 bytes each: the stored RecordedEvent of a
ministers' meeting with participants, CAMEO code, summary, tags and a
source — clients/bench/driver.h) to the primary-dyad stream of its
events (190 dyads), id unique per event. Latency is per call, measured by
the client. Batched figures use $BATCH_CLIENTS clients.

- **annals**: \`annalsd --durability sync\` (every commit group fsynced
  before any append in it is acknowledged), driven by \`annals-bench\` over
  loopback gRPC (8 channels), expected version *any*. Includes validation,
  the hash chain, the Merkle tree and the relationship projection.
- **annals AppendSession**: the same annalsd and events over
  \`EventLog.AppendSession\` (\`annals-bench --scenario append-session\`):
  one bidirectional stream per client, all driven by two threads (an
  acknowledgement gives its stream the turn to send its next request),
  each keeping a window of requests in flight (single events:
  $SESSION_WINDOW per AppendSession, or
  $SESSION_TOTAL ÷ clients when that is smaller, at least
  $SESSION_MIN_WINDOW; batched rows: $SESSION_BATCH_WINDOW; the window of
  each run is in the table of every run) and receiving acknowledgements in
  order, each sent once its commit group is durable. Latency is per
  request, from its send to its acknowledgement.
- **raw RocksDB** (the limit): \`annals-bench-raw\`, in-process, writes the
  keys and bytes annalsd wrote when these targets were set, on 2026-12-05
  (events, streams, event_ids, Merkle nodes, meta head, the relationship
  projection's keys with a 1 KiB state; of those annalsd now writes two
  timeline entries per event instead of four and no refill entry per tag)
  into a database with annalsd's column-family options, one WriteBatch per
  call, \`WriteOptions::sync = true\` (RocksDB's own group commit shares
  fsyncs between threads). No gRPC, validation, reads or writer queue.
- **PostgreSQL 15**: \`annals-bench-postgres\`, one connection per thread;
  table events(position bigserial primary key, stream, version, id unique,
  data bytea, unique(stream, version)). "PostgreSQL": each call is a
  transaction from the client (BEGIN, SELECT max(version) of the stream,
  one INSERT of the batch, COMMIT; retried on a unique violation).
  "PostgreSQL function", as event stores on PostgreSQL run it (Message
  DB's write_message): each call is one round trip, SELECT
  write_events(stream, ids, data), a server-side function that takes an
  advisory lock on the stream, reads its version and inserts the batch.
  Both with \`synchronous_commit = on\`, server with \`fsync = on\`,
  \`full_page_writes = on\`, default \`wal_sync_method\`, shared_buffers
  256MB, in a fresh cluster.
- **Redis 7 Streams**: \`annals-bench-redis\`, one connection per thread;
  \`appendonly yes\`, \`appendfsync always\` (AOF fsynced before replying),
  no RDB snapshots; each event is a Lua script that claims its id
  (SET NX: the same idempotency as annals) and XADDs it to the dyad's
  stream; a batch is MULTI … EXEC in one pipeline. Redis does less than
  annals: no expected-version check, no hash chain, no projections.

**CPU per event**: beside events/s (on $(nproc) cores that server and
client share), each figure gives its server's CPU per event: user plus
system time from /proc/PID/stat of the server's process tree (annalsd;
PostgreSQL's postmaster and every process under it: a backend per
connection, the WAL writer, the checkpointer, ...; redis-server), each
process with its children that ended meanwhile (cutime, cstime), taken at
the start and at the end of the measured interval (which starts once every
connection is made and ends when the last call has returned), divided by
the events acknowledged in it; and the driver's own (getrusage) the same
way. raw RocksDB runs in its driver: its one figure is all the work,
RocksDB's background threads included.

Ratios are annals' events/s divided by the other system's, same row.
The AppendSession figures of $(printf '%s, ' "${BIG_APPENDS[@]/ / × }" | sed 's/, $//')
(clients × events per call) then run again in $ROUNDS alternating rounds
of AppendSession and Redis, each figure on an annalsd of its own on a
fresh log and on the same redis-server, since this machine's speed
changes within a minute and one pair of runs can favour either (the
table of rounds, with medians).
annalsd's resident set at the end of the append runs: **$ANNALSD_RSS** (data
directory $ANNALSD_EVENTS).

**A large log** ($BIG_EVENTS events): generated by \`annals-bench
--scenario generate\` (clients/bench/event_generator.h: ~200 dyads of 40 actors,
every kind, 1990–2025 at mixed precision, ~1% corrections) into an annalsd
with \`--durability buffered\`, which then restarts on it with
\`--durability sync\` (open took ${BIG_OPEN_S:-?} s; the figures start once
annalsd has been idle for 3 s, here after ${BIG_SETTLE_S:-?} s, so that the
load's background compactions are over); data directory
${BIG_SIZE:-?} at the end. On it, one after another: GetRelationship of a random dyad
(now, as of a random position, as of a random date) by one client, and
now by 8; 50-result QueryTimeline pages by one client (a random dyad's
timeline in either order; a random actor's, merged from its dyads'
timelines, in either order; one kind over the whole log; a two-year
range over the whole log) — each of these after $WARMUP of the same queries,
unmeasured, so that annalsd's block cache and its kept GetRelationship
answers are warm, except the first GetRelationship figure, given cold
by the client (its first ask of each dyad after the log opened is ~3% of
its calls; annalsd's partial keeper keeps answers while annalsd is idle
after opening, and the figure runs once it is idle);
one Subscribe from the start until caught up
(catch-up; three in a row, each listed, and their median); and live
fan-out: N Subscribe calls (on 8 connections, gRPC's
callback API, each stream with a fixed 16 KiB HTTP/2 receive window, so
that events arriving while a subscriber's last message is in flight leave
together in its next one) following the log while 1,000 events/s are
appended, one per unary call, each sent on schedule whatever the calls
before it wait for (gRPC's callback API, one pacing thread, on the same 8
connections) (after $WARMUP worth of the same events
appended, unmeasured, to another stream: on a log just opened, the first
appends to each dyad are slower, with cold caches; three 1-subscriber
runs in a row measured p99 29, 6 and 8 ms); latency from the append call to each
delivery, each event's stream version and id read off the wire and
checked (every subscriber gets every event once, in order); then, once
annalsd was idle again (here after ${BIG_APPEND_SETTLE_S:-?} s), appends as
on the fresh log: AppendSession at ${BIG_APPENDS_TEXT} (clients × events
per request), the same windows, $DURATION each, with annalsd's CPU per
event; then each again after $BIG_APPEND_WARMUP of the same appends,
unmeasured (the large log's caches, flushes and compactions as they are
while it is written; the first seconds after an idle spell carry a
compaction and cold caches); then each in $ROUNDS rounds alternating the
large log with a new log on an annalsd of its own, each run after
$DURATION of the same appends, unmeasured, and once the large log's
annalsd had been idle for ${ROUND_QUIET_S} s (${BIG_APPENDED:-?} events
measured in all; "Appends on the large log" sets the first two beside
the same figure on the fresh log above, the rounds' table each large-log
round beside its fresh one). annalsd's resident set after them: **${BIG_RSS:-?}** (peak
${BIG_HWM:-?}). Its resident set after each figure, and the peak so far:
${BIG_MEMORY}

## Results

$TABLES

$(http_section)

${KEPT_CLUSTER:-"## Cluster (NATS JetStream, 3 replicas)

Not measured yet: \`deploy/bench.sh --cluster\` writes this section."}

## What changed, and what it gained

$(tail -n +5 docs/benchmarks-changes.md 2>/dev/null || echo "(docs/benchmarks-changes.md is missing)")

## History

Earlier measurements are in [benchmarks-history.md](benchmarks-history.md).
EOF
} >"$OUT"
log "wrote $OUT"
if [ "$SMOKE" -eq 1 ]; then
  # Every figure of annals and of the raw limit printed its line.
  want=$(( (${#SINGLE[@]} + ${#BATCHES[@]}) ))
  for system in annals annals-session raw; do
    got="$(grep -c "^$system scenario=" "$RESULTS" || true)"
    [ "$got" -eq "$want" ] || { log "$system: $got result lines, want $want"; FAILED=1; }
  done
  # Each with its CPU per event: annalsd's, or raw's own.
  bad="$(grep -E "^annals(-session|-big-session|-big-steady|-big-round|-fresh-round)? scenario=" "$RESULTS" | grep -cvE " cpu_us\.annalsd=[0-9.]+ " || true)"
  bad=$((bad + $(grep -E "^raw scenario=" "$RESULTS" | grep -cvE " cpu_us\.client=[0-9.]+ " || true)))
  [ "$bad" -eq 0 ] || { log "$bad append figures without their CPU per event"; FAILED=1; }
  # The appends on the large log.
  if [ "$BIG_EVENTS" -gt 0 ]; then
    for label in annals-big-session annals-big-steady; do
      got="$(grep -c "^$label scenario=" "$RESULTS" || true)"
      [ "$got" -eq "${#BIG_APPENDS[@]}" ] || { log "$label: $got result lines, want ${#BIG_APPENDS[@]}"; FAILED=1; }
    done
    for label in annals-big-round annals-fresh-round; do
      got="$(grep -c "^$label scenario=" "$RESULTS" || true)"
      want=$((ROUNDS * ${#BIG_APPENDS[@]}))
      [ "$got" -eq "$want" ] || { log "$label: $got result lines, want $want"; FAILED=1; }
    done
  fi
  # GetRelationship over gRPC and HTTP by each number of clients, and the
  # SSE fan-out.
  want=$(( 2 * ${#HTTP_CLIENTS[@]} + 1 ))
  got="$(grep -c "^annals-http scenario=" "$RESULTS" || true)"
  [ "$got" -eq "$want" ] || { log "annals-http: $got result lines, want $want"; FAILED=1; }
  log "$(grep -c . "$RESULTS") runs; $([ "$FAILED" -eq 0 ] && echo ok || echo FAILED)"
fi
exit "$FAILED"
