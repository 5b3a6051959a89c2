# The cluster's figures (`deploy/bench.sh --cluster`): annalsd as three
# replicas of a JetStream log of record on a 3-node NATS cluster, against
# the embedded annalsd and against JetStream's publish alone, all on this
# machine, in one run. Sourced by deploy/bench.sh once it has built the
# programs and defined its helpers (log, run, commit_of_run, PIDS, TMP,
# RESULTS, FAILED); writes the page's "Cluster" section to OUT.
#
# Figures, one after another:
#   1. durable appends (AppendSession: 64 clients × 1 event, 8 × 100
#      events) to the embedded annalsd, to replica 1 alone, spread over the
#      three replicas, and as JetStream publishes alone
#      (annals-bench-jetstream: the same messages, the same requests in
#      flight);
#   2. fan-out to CL_SUBSCRIBERS subscribers at CL_RATE events/s: embedded,
#      all on replica 1, spread over the three;
#   3. materialization: replicas 2 and 3 stop, CL_LOAD generated events are
#      appended through replica 1, then a fresh replica 4 (empty data
#      directory) reads the whole stream; the time from its start to its
#      `replica_caught_up` line, and its signed tree head against replica
#      1's (replicas sharing a key sign alike: the same bytes).
# Every figure reports the CPU per event of every process (annalsd ×3,
# nats-server ×3, the client) over what it measured (annals-bench
# --cpu-pids; the catch-up from /proc here).

if [ "$SMOKE" -eq 1 ]; then
  CL_SUBSCRIBERS=20 CL_RATE=200 CL_LOAD="${BIG_EVENTS:-2000}"
else
  CL_SUBSCRIBERS=1000 CL_RATE=1000 CL_LOAD="${BIG_EVENTS:-1000000}"
fi
# clients, events per request, requests in flight per client: as the
# main figures' AppendSession rows (512 ÷ 64 single events; 4 batches).
CL_FIGURES=("64 1 8" "8 100 4")
# Connections per bench client: a multiple of 3, so that spread over the
# replicas each gets as many. The same for every figure of the section.
CL_CHANNELS=9
CL_BENCH_JS="$BUILD_DIR/bin/annals-bench-jetstream"
[ -x "$CL_BENCH_JS" ] || { log "missing $CL_BENCH_JS (build it, or drop --no-build)"; exit 1; }
command -v nats-server >/dev/null || { log "nats-server is not installed (apt-get install nats-server)"; exit 1; }
CLK_TCK="$(getconf CLK_TCK)"

# take_port VAR: the next port of --ports, or a free one the kernel picks.
PORT_NEXT=0
take_port() {
  if [ -n "$PORT_BASE" ]; then
    printf -v "$1" '%s' "$((PORT_BASE + PORT_NEXT))"
    PORT_NEXT=$((PORT_NEXT + 1))
  else
    printf -v "$1" '%s' "$(free_port)"
  fi
}
# ticks PID: user plus system CPU ticks of PID so far (0 once gone).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# --- The cluster: deploy/cluster.sh's three NATS nodes and three replicas ---
# It needs 43 ports from one base: --ports, else a base found free.
CLUSTER_DIR="$TMP/cluster"
cluster_up() {
  local base="$1"
  deploy/cluster.sh up --base-port "$base" --dir "$CLUSTER_DIR" --annalsd "$ANNALSD" \
    >"$TMP/cluster.addresses" 2>"$TMP/cluster.log"
}
if [ -n "$PORT_BASE" ]; then
  CLUSTER_BASE="$PORT_BASE"
  PORT_NEXT=43
  cluster_up "$CLUSTER_BASE" ||
    { log "deploy/cluster.sh up failed: $(tail -n 3 "$TMP/cluster.log" | tr '\n' ' ')"; exit 1; }
else
  for _ in 1 2 3 4 5; do
    # Above Linux's ephemeral ports (32768-60999) and the tests' bases.
    CLUSTER_BASE=$((61000 + RANDOM % 4400))
    cluster_up "$CLUSTER_BASE" && break
    grep -q "in use" "$TMP/cluster.log" ||
      { log "deploy/cluster.sh up failed: $(tail -n 3 "$TMP/cluster.log" | tr '\n' ' ')"; exit 1; }
    rm -rf "$CLUSTER_DIR"
  done
  [ -s "$TMP/cluster.addresses" ] || { log "no free ports for the cluster"; exit 1; }
fi
NATS_PID=() REPLICA_PID=() REPLICA_ADDR=() REPLICA_HTTP=()
for n in 1 2 3; do
  NATS_PID[$n]="$(<"$CLUSTER_DIR/nats-$n.pid")"
  REPLICA_PID[$n]="$(<"$CLUSTER_DIR/annalsd-$n.pid")"
  REPLICA_ADDR[$n]="$(sed -n "${n}p" "$TMP/cluster.addresses")"
  REPLICA_HTTP[$n]="127.0.0.1:$((CLUSTER_BASE + 40 + n - 1))"
  PIDS+=("${NATS_PID[$n]}" "${REPLICA_PID[$n]}")
done
NATS_URLS="nats://127.0.0.1:$CLUSTER_BASE,nats://127.0.0.1:$((CLUSTER_BASE + 1)),nats://127.0.0.1:$((CLUSTER_BASE + 2))"
SIGNING_KEY="$CLUSTER_DIR/signing_key.pem"
log "NATS cluster up: $NATS_URLS"

# --- Replica 4, started later from nothing, and the embedded annalsd ---
# launch_replica N: starts annalsd N as one more replica (a fresh data
# directory, the cluster's key, its HTTP gateway for tree heads); does not
# wait.
launch_replica() {
  local n="$1" port http
  take_port port; take_port http
  REPLICA_ADDR[$n]="127.0.0.1:$port" REPLICA_HTTP[$n]="127.0.0.1:$http"
  "$ANNALSD" --listen "127.0.0.1:$port" --port_file "$TMP/replica$n.port" \
    --http-listen "127.0.0.1:$http" --data_dir "$TMP/replica$n" \
    --durability sync --signing-key "$SIGNING_KEY" --nats "$NATS_URLS" \
    >"$TMP/replica$n.log" 2>&1 &
  REPLICA_PID[$n]=$!
  PIDS+=("${REPLICA_PID[$n]}")
}
# await_replica N: waits until replica N serves.
await_replica() {
  local n="$1"
  for _ in $(seq 1 1200); do
    [ -s "$TMP/replica$n.port" ] && return 0
    kill -0 "${REPLICA_PID[$n]}" 2>/dev/null || break
    sleep 0.05
  done
  log "replica $n did not start: $(tail -n 5 "$TMP/replica$n.log" | tr '\n' ' ')"
  exit 1
}
# stop_replica N: stops replica N (1-3: deploy/cluster.sh's) and waits.
stop_replica() {
  if [ "$1" -le 3 ]; then
    deploy/cluster.sh stop "annalsd-$1" --dir "$CLUSTER_DIR" 2>>"$TMP/cluster.log" || true
    return
  fi
  kill -TERM "${REPLICA_PID[$1]}" 2>/dev/null || true
  wait "${REPLICA_PID[$1]}" 2>/dev/null || true
}
# tree_head N: replica N's signed tree head, as its HTTP gateway answers.
tree_head() { curl -sf "http://${REPLICA_HTTP[$1]}/v1/audit/tree-head" 2>/dev/null || echo "none"; }
tree_size() { tree_head "$1" | sed -n 's/.*"treeSize": *"\{0,1\}\([0-9]*\).*/\1/p'; }
# settle N...: waits (at most 300 s) until replicas N... hold the same
# tree head twice in a row: every one has applied every append.
settle() {
  local n first same last="" waited=0
  while [ "$waited" -lt 3000 ]; do
    first="$(tree_head "$1")" same=1
    [ "$first" = none ] && same=0
    for n in "$@"; do [ "$(tree_head "$n")" = "$first" ] || same=0; done
    if [ "$same" -eq 1 ] && [ "$first" = "$last" ]; then return 0; fi
    last="$first"
    sleep 0.1
    waited=$((waited + 1))
  done
  log "replicas $* did not agree within 300 s: $(for n in "$@"; do echo "$n: $(tree_size "$n")"; done | tr '\n' ' ')"
  FAILED=1
}
CL_SPREAD="${REPLICA_ADDR[1]},${REPLICA_ADDR[2]},${REPLICA_ADDR[3]}"
CL_NATS_CPU="nats1=${NATS_PID[1]},nats2=${NATS_PID[2]},nats3=${NATS_PID[3]}"
CL_CPU="annalsd1=${REPLICA_PID[1]},annalsd2=${REPLICA_PID[2]},annalsd3=${REPLICA_PID[3]},$CL_NATS_CPU"
take_port emb_port
"$ANNALSD" --listen "127.0.0.1:$emb_port" --port_file "$TMP/embedded.port" \
  --data_dir "$TMP/embedded" --durability sync >"$TMP/embedded.log" 2>&1 &
EMB_PID=$!
PIDS+=("$EMB_PID")
for _ in $(seq 1 1200); do [ -s "$TMP/embedded.port" ] && break; sleep 0.05; done
[ -s "$TMP/embedded.port" ] || { log "the embedded annalsd did not start: $(tail -n 5 "$TMP/embedded.log")"; exit 1; }
EMB_ADDR="127.0.0.1:$emb_port"
log "replicas ${CL_SPREAD}; embedded $EMB_ADDR"

# --- 1. Durable appends ---
js_stream=0
for f in "${CL_FIGURES[@]}"; do
  read -r c b w <<<"$f"
  session=(--scenario append-session --concurrency "$c" --batch "$b"
    --window "$w" --duration "$DURATION" --channels "$CL_CHANNELS")
  run cl-embedded "$BENCH" --server "$EMB_ADDR" "${session[@]}" \
    --cpu-pids "annalsd=$EMB_PID"
  run cl-one "$BENCH" --server "${REPLICA_ADDR[1]}" "${session[@]}" \
    --cpu-pids "$CL_CPU"
  settle 1 2 3
  run cl-spread "$BENCH" --server "${REPLICA_ADDR[1]}" --replicas "$CL_SPREAD" \
    "${session[@]}" --cpu-pids "$CL_CPU"
  settle 1 2 3
  js_stream=$((js_stream + 1))
  run cl-jetstream "$CL_BENCH_JS" --nats "$NATS_URLS" \
    --stream "BENCH$js_stream" --concurrency "$c" --batch "$b" --window "$w" \
    --duration "$DURATION" --cpu-pids "$CL_CPU"
done

# --- 2. Fan-out ---
fanout=(--scenario fanout --subscribers "$CL_SUBSCRIBERS" --rate "$CL_RATE"
  --duration "$DURATION" --warmup "$WARMUP" --channels "$CL_CHANNELS")
run cl-embedded timeout 300 "$BENCH" --server "$EMB_ADDR" "${fanout[@]}" \
  --cpu-pids "annalsd=$EMB_PID"
kill -TERM "$EMB_PID" 2>/dev/null || true
wait "$EMB_PID" 2>/dev/null || true
run cl-one timeout 300 "$BENCH" --server "${REPLICA_ADDR[1]}" "${fanout[@]}" \
  --cpu-pids "$CL_CPU"
settle 1 2 3
run cl-spread timeout 300 "$BENCH" --server "${REPLICA_ADDR[1]}" \
  --replicas "$CL_SPREAD" "${fanout[@]}" --cpu-pids "$CL_CPU"
settle 1 2 3
CL_RSS=""
for n in 1 2 3; do
  CL_RSS="$CL_RSS $(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/${REPLICA_PID[$n]}/status" 2>/dev/null || echo "?")"
done

# --- 3. Materialization (--big-events 0 skips it) ---
# catchup_line START END CAUGHT-LINE R4-TICKS NATS-TICKS×3 MATCH PEAK-MIB:
# the cl-catchup result line.
catchup_line() {
  python3 - "$@" <<'PY'
import re, sys
start, end, caught = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
r4, nats = float(sys.argv[4]), [float(x) for x in sys.argv[5:8]]
match, hwm, tck = sys.argv[8], sys.argv[9], float(sys.argv[10])
field = lambda k: int(re.search(k + r'[=":]+(\d+)', caught).group(1))
events, appends = field("position"), field("sequence")
s = end - start
per = lambda t: f"{t / tck / max(events, 1) * 1e6:.1f}"
print(f"scenario=replica-catchup events={events} appends={appends} "
      f"seconds={s:.2f} events_per_s={events / s:.0f} "
      f"cpu_us.annalsd4={per(r4)} cpu_us.nats1={per(nats[0])} "
      f"cpu_us.nats2={per(nats[1])} cpu_us.nats3={per(nats[2])} "
      f"peak_rss_mib={hwm} heads_match={match} "
      f"errors={0 if match == 'yes' else 1}")
PY
}
# materialize: the load through replica 1, then replica 4 from nothing.
materialize() {
  local n head1 head4 start_s end_s caught="" r4_ticks match=no line
  local nats_before=() nats_ticks=()
  run cl-load "$BENCH" --server "${REPLICA_ADDR[1]}" --scenario generate \
    --events "$CL_LOAD"
  settle 1
  head1="$(tree_head 1)"
  for n in 1 2 3; do nats_before[$n]="$(ticks "${NATS_PID[$n]}")"; done
  start_s="$(date +%s.%N)"
  SECONDS=0
  launch_replica 4
  while [ "$SECONDS" -lt 3600 ]; do
    caught="$(grep -m1 'replica_caught_up' "$TMP/replica4.log" 2>/dev/null || true)"
    [ -n "$caught" ] && break
    kill -0 "${REPLICA_PID[4]}" 2>/dev/null || break
    sleep 0.05
  done
  end_s="$(date +%s.%N)"
  r4_ticks="$(ticks "${REPLICA_PID[4]}")"
  for n in 1 2 3; do
    nats_ticks[$n]=$(( $(ticks "${NATS_PID[$n]}") - ${nats_before[$n]} ))
  done
  if [ -z "$caught" ]; then
    log "FAILED (cl-catchup): replica 4 never logged replica_caught_up: $(tail -n 5 "$TMP/replica4.log" | tr '\n' ' ')"
    FAILED=1
    return
  fi
  await_replica 4
  settle 1 4
  head4="$(tree_head 4)"
  [ "$head4" = "$head1" ] && [ "$head1" != none ] && match=yes
  [ "$match" = yes ] ||
    { log "FAILED (cl-catchup): replica 4's tree head $head4 differs from replica 1's $head1"; FAILED=1; }
  line="$(catchup_line "$start_s" "$end_s" "$caught" "$r4_ticks" \
    "${nats_ticks[1]}" "${nats_ticks[2]}" "${nats_ticks[3]}" "$match" \
    "$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/${REPLICA_PID[4]}/status" 2>/dev/null || echo 0)" \
    "$CLK_TCK")" || { log "FAILED (cl-catchup): cannot read $caught"; FAILED=1; return; }
  echo "cl-catchup $line" >>"$RESULTS"
  log "cl-catchup $line"
  stop_replica 4
}
stop_replica 2
stop_replica 3
[ "$CL_LOAD" -gt 0 ] && materialize
stop_replica 1

# --- The section ---
CL_TABLES="$(python3 clients/bench/cluster_tables.py "$RESULTS")" ||
  { log "cannot tabulate $RESULTS"; cat "$RESULTS" >&2; exit 1; }
if [ -z "$OUT" ]; then OUT="$(mktemp "/tmp/annals-bench-cluster.XXXXXX.md")"; fi
cat >"$OUT" <<EOF
## Cluster (NATS JetStream, 3 replicas)

Measured on $(date -u +%Y-%m-%d) at $(commit_of_run) by \`deploy/bench.sh
--cluster\`: annalsd in cluster mode (\`--nats\`, storage/jetstream/) as
three replicas of one JetStream stream (R3, file storage, as annalsd
creates it) on a 3-node NATS cluster (nats-server $(nats-server --version | sed 's/.*v//'), libnats
$(version_of libnats-dev)), against the embedded annalsd and against
JetStream's publish alone — all on this one machine ($(nproc) cores; load
average at the end: $(cut -d' ' -f1-3 /proc/loadavg)), on loopback, in one
run, one figure after another. Every annalsd runs \`--durability sync\`.
A cluster append is acknowledged once JetStream has it on a quorum (2 of
3 servers, in their file stores; nats-server 2.9 fsyncs every 2 minutes
and has no setting for more) and the replica it came through has applied
it (fsynced to its RocksDB): durable on two machines, not fsynced on
either before the answer — the embedded annalsd's answer comes after an
fsync on one.

How it was measured:

- **Durable appends**: annals-bench's AppendSession scenario (the same
  code and events as the main figures), ${CL_FIGURES[0]%% *} clients × 1 event
  (8 requests in flight each) and 8 clients × 100 events (4 in flight
  each), $DURATION each, over $CL_CHANNELS connections: to the embedded
  annalsd; to replica 1 alone ("one"); spread over the three replicas
  ("spread": connection n to replica n mod 3, the sessions round robin
  over the connections, so a third of the clients on each). "JetStream
  alone" is \`annals-bench-jetstream\`: the messages annalsd publishes for
  the same requests (EncodeEntry of the same normalized events on the
  same subjects, with Nats-Msg-Id), the same clients and requests in
  flight, asynchronous publishes over one connection as annalsd's
  publisher, to a stream of the same kind that no replica reads; latency
  from publish to acknowledgment. Between figures every replica has
  applied every append (their signed tree heads are identical).
- **Fan-out**: ${CL_SUBSCRIBERS} Subscribe calls from now on one stream
  while ${CL_RATE} events/s are appended, one per unary call
  (annals-bench's fanout scenario, after $WARMUP of appends unmeasured),
  $DURATION; latency from each Append call to each delivery; every
  subscriber checked to get every event once, in order. Embedded; all on
  replica 1 ("one"); spread, the subscriptions and the appends alike,
  over the three ("spread").
- **Materialization**: replicas 2 and 3 stop; ${CL_LOAD} generated events
  (annals-bench --scenario generate: the large log's generator, 500 per
  append) are appended through replica 1; then replica 4 starts with an
  empty data directory and reads the whole stream (those and the figures'
  events before). Time from its start to its \`replica_caught_up\` line
  (it has applied what the stream held when it started); its signed tree
  head then equals replica 1's, byte for byte.
- **CPU**: each process's user plus system CPU over the measured part
  (from /proc: annals-bench --cpu-pids; the catch-up's by this script)
  divided by the events appended (fan-out: appended, not delivered), in
  µs per event. A node is one annalsd and one nats-server; "busiest
  node" is the largest annalsd + nats-server sum of the three, and "one
  core per node" is 10⁶ ÷ that: the events/s a cluster of one-core
  machines would sustain were that node's work alone on its core (the
  client on machines of its own). "all" sums every process with the
  client: on this machine's $(nproc) cores the events/s cannot exceed
  $(nproc) × 10⁶ ÷ all.

$CL_TABLES

Replicas' peak resident set after the fan-out figures (MiB, replicas 1,
2, 3):${CL_RSS}.
EOF
log "wrote $OUT: paste it into docs/benchmarks.md as its \"Cluster\" section"
if [ "$SMOKE" -eq 1 ]; then
  # Every figure printed its line.
  loaded=$([ "$CL_LOAD" -gt 0 ] && echo 1 || echo 0)
  for want in "cl-embedded 3" "cl-one 3" "cl-spread 3" "cl-jetstream 2" "cl-load $loaded" "cl-catchup $loaded"; do
    read -r system n <<<"$want"
    got="$(grep -c "^$system scenario=" "$RESULTS" || true)"
    [ "$got" -eq "$n" ] || { log "$system: $got result lines, want $n"; FAILED=1; }
  done
  log "$(grep -c . "$RESULTS") runs; $([ "$FAILED" -eq 0 ] && echo ok || echo FAILED)"
fi
