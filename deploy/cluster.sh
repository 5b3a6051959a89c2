#!/usr/bin/env bash
# A local annals cluster on loopback, for development and the cluster
# tests: three nats-server nodes forming one JetStream cluster (the log of
# record) and three annalsd replicas materializing it, each in the
# background, with configuration, data, logs and pids in one directory.
#
#   deploy/cluster.sh up [--base-port N] [--dir DIR] [--annalsd PATH] [-- FLAG...]
#       Starts the six, waits until NATS JetStream is ready and each
#       replica serves, then prints the replicas' gRPC addresses on
#       stdout, one HOST:PORT per line and nothing else (progress goes to
#       stderr). FLAGs after -- are given to every annalsd.
#   deploy/cluster.sh status [--dir DIR]
#       One line per node: running or stopped, pid, address; for a NATS
#       node whether JetStream is ready and what it leads (the meta group,
#       streams), for a replica its health and head position.
#   deploy/cluster.sh down [--dir DIR]
#       Stops all six (SIGTERM, then waits), keeping their data.
#   deploy/cluster.sh stop NODE [--kill] [--dir DIR]
#       Stops one node: SIGTERM and waits, or with --kill SIGKILL.
#   deploy/cluster.sh start NODE [--dir DIR]
#       Starts one node again on the ports and data of `up`, and waits
#       until it is ready.
#
# NODE: nats-1, nats-2, nats-3, annalsd-1, annalsd-2 or annalsd-3.
# Defaults: --base-port 4222, --dir ./annals-cluster, --annalsd
# $ANNALS_BUILD_DIR/bin/annalsd (build/bin/annalsd) of this repository; the
# annals CLI next to it checks the replicas' health. `up` on a DIR that
# holds a stopped cluster starts it again with its data, on the base port,
# annalsd and flags of the last `up` unless given. Ports from the base N:
#   nats-K     client N+K-1, routes N+10+K-1, monitoring (HTTP) N+20+K-1
#   annalsd-K  gRPC N+30+K-1, HTTP N+40+K-1
# DIR holds nats-K.conf, nats-K/ (JetStream's store), annalsd-K/ (the
# replica's data directory), NODE.log, NODE.pid, annalsd-K.port,
# signing_key.pem (the Ed25519 key every replica signs tree heads with, so
# that one public key audits the cluster and the replicas' exports are
# byte-identical; made by the first `up`) and cluster.env (what `up` was
# given, which the other commands reuse).
#
# Exit codes: 0 done; 1 failed (a port in use, a cluster already running,
# a node that did not start; the message says which); 2 bad usage.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
readonly REPO_ROOT
BUILD_DIR="${ANNALS_BUILD_DIR:-build}"
[[ "$BUILD_DIR" == /* ]] || BUILD_DIR="$REPO_ROOT/$BUILD_DIR"
readonly BUILD_DIR
readonly NODES=(nats-1 nats-2 nats-3 annalsd-1 annalsd-2 annalsd-3)
readonly USAGE="usage: deploy/cluster.sh up [--base-port N] [--dir DIR] [--annalsd PATH] [-- FLAG...]
       deploy/cluster.sh status|down [--dir DIR]
       deploy/cluster.sh stop NODE [--kill] [--dir DIR]
       deploy/cluster.sh start NODE [--dir DIR]
NODE: nats-1, nats-2, nats-3, annalsd-1, annalsd-2 or annalsd-3"
# How long a node may take to become ready, and to stop on SIGTERM.
readonly READY_SECONDS=60
readonly STOP_SECONDS=30

DIR=""
BASE_PORT=""
ANNALSD=""
ANNALSD_FLAGS=()

say() { echo "cluster.sh: $*" >&2; }
fail() { say "$*"; exit 1; }
bad_usage() {
  say "$*"
  echo "$USAGE" >&2
  exit 2
}

# need_value OPTION [VALUE...]: bad usage unless OPTION has a non-empty value.
need_value() {
  if [ $# -lt 2 ] || [ -z "$2" ]; then bad_usage "$1 needs a value"; fi
}

# absolute PATH: PATH made absolute against the current directory.
absolute() {
  case "$1" in
    /*) echo "$1" ;;
    *) echo "$PWD/$1" ;;
  esac
}

# --- Nodes, ports and processes ---------------------------------------------

# node_index NODE: K of nats-K or annalsd-K; bad usage for anything else.
node_index() {
  case "$1" in
    nats-[123] | annalsd-[123]) echo "${1##*-}" ;;
    *) bad_usage "unknown node '$1'" ;;
  esac
}

nats_client_port() { echo $((BASE_PORT + $1 - 1)); }
nats_route_port() { echo $((BASE_PORT + 10 + $1 - 1)); }
nats_http_port() { echo $((BASE_PORT + 20 + $1 - 1)); }
annalsd_port() { echo $((BASE_PORT + 30 + $1 - 1)); }
annalsd_http_port() { echo $((BASE_PORT + 40 + $1 - 1)); }

# nats_urls: the client URLs of the three nats-server nodes, comma-separated.
nats_urls() {
  local urls=() k
  for k in 1 2 3; do urls+=("nats://127.0.0.1:$(nats_client_port "$k")"); done
  local IFS=,
  echo "${urls[*]}"
}

# node_ports NODE: "PORT ROLE" lines for every port NODE listens on.
node_ports() {
  local k
  k=$(node_index "$1")
  case "$1" in
    nats-*)
      echo "$(nats_client_port "$k") client"
      echo "$(nats_route_port "$k") routes"
      echo "$(nats_http_port "$k") monitoring"
      ;;
    annalsd-*)
      echo "$(annalsd_port "$k") gRPC"
      echo "$(annalsd_http_port "$k") HTTP"
      ;;
  esac
}

# node_address NODE: the HOST:PORT a client uses.
node_address() {
  local k
  k=$(node_index "$1")
  case "$1" in
    nats-*) echo "127.0.0.1:$(nats_client_port "$k")" ;;
    annalsd-*) echo "127.0.0.1:$(annalsd_port "$k")" ;;
  esac
}

# check_ports_free NODE...: fails naming every port of the NODEs that
# something else listens on or holds (binding it fails).
check_ports_free() {
  local node port role wanted=()
  for node in "$@"; do
    while read -r port role; do
      wanted+=("$port" "$node $role")
    done < <(node_ports "$node")
  done
  local taken
  taken=$(python3 - "${wanted[@]}" <<'PY'
import socket, sys
args = sys.argv[1:]
taken = []
for port, name in zip(args[0::2], args[1::2]):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", int(port)))
    except OSError:
        taken.append(f"port {port} ({name})")
    finally:
        s.close()
print(", ".join(taken))
PY
  )
  [ -z "$taken" ] || fail "in use: $taken; choose another --base-port or stop what holds it"
}

# alive PID: the process exists and is not a zombie.
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# node_pid NODE: prints NODE's pid when it runs (its pid file names a live
# process whose command line names DIR); status 1 otherwise.
node_pid() {
  local file="$DIR/$1.pid" pid
  [ -f "$file" ] || return 1
  pid=$(<"$file")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  local cmdline
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ "$cmdline" == *"$DIR/"* ]] || return 1
  echo "$pid"
}

# http_get PORT PATH: the body of GET http://127.0.0.1:PORT/PATH (headers
# included), within 2 s; status 1 when nothing answers.
http_get() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" &&
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$1" >&3 && cat <&3' \
    "$1" "$2" 2>/dev/null
}

# nats_ready K: nats-K's /healthz answers ok (it serves clients and its
# JetStream knows the meta leader and is current).
nats_ready() {
  local answer
  answer=$(http_get "$(nats_http_port "$1")" /healthz) || return 1
  [[ "$answer" =~ \"status\":\ *\"ok\" ]]
}

# jetstream_leaders: "NODE WHAT" lines, WHAT being "meta" (JetStream's
# meta group) or a stream's name, for every group that has a leader, as
# the /jsz of the first NATS node that answers tells them; nothing when
# none answers.
jetstream_leaders() {
  local k answer=""
  for k in 1 2 3; do
    answer=$(http_get "$(nats_http_port "$k")" '/jsz?accounts=true&streams=true') && break
  done
  [ -n "$answer" ] || return 0
  python3 -c '
import json, sys
body = sys.stdin.read().split("\r\n\r\n", 1)[-1]
try:
    jsz = json.loads(body)
except ValueError:
    sys.exit(0)
leader = (jsz.get("meta_cluster") or {}).get("leader")
if leader:
    print(leader, "meta")
for account in jsz.get("account_details") or []:
    for stream in account.get("stream_detail") or []:
        leader = (stream.get("cluster") or {}).get("leader")
        if leader:
            print(leader, stream["name"])
' <<<"$answer"
}

# annals ARGS...: the annals CLI next to annalsd, with a short timeout.
annals() {
  local cli
  cli="$(dirname "$ANNALSD")/annals"
  [ -x "$cli" ] || cli="$BUILD_DIR/bin/annals"
  "$cli" --timeout 3s "$@"
}

# annalsd_ready K: annalsd-K wrote its port file and its health is SERVING.
annalsd_ready() {
  [ -s "$DIR/annalsd-$1.port" ] &&
    annals --server "$(node_address "annalsd-$1")" health >/dev/null 2>&1
}

# --- Configuration ------------------------------------------------------------

# save_env: what `up` was given, for the other commands.
save_env() {
  {
    echo "# deploy/cluster.sh up: the cluster in this directory."
    # -g: load_env sources this inside a function.
    declare -p BASE_PORT ANNALSD ANNALSD_FLAGS | sed 's/^declare /declare -g /'
  } >"$DIR/cluster.env"
}

# load_env: what the last `up` in DIR was given; fails when there was none.
load_env() {
  [ -f "$DIR/cluster.env" ] || fail "no cluster in $DIR (deploy/cluster.sh up --dir $DIR makes one)"
  # shellcheck source=/dev/null
  source "$DIR/cluster.env"
}

# write_nats_conf K: DIR/nats-K.conf, the node's server configuration.
write_nats_conf() {
  local k=$1 j
  {
    echo "# nats-$k of the annals cluster in this directory, written by"
    echo "# deploy/cluster.sh up."
    echo "server_name: nats-$k"
    echo "listen: 127.0.0.1:$(nats_client_port "$k")"
    echo "http: 127.0.0.1:$(nats_http_port "$k")"
    echo "jetstream {"
    echo "  store_dir: \"$DIR/nats-$k\""
    echo "}"
    echo "cluster {"
    echo "  name: annals"
    echo "  listen: 127.0.0.1:$(nats_route_port "$k")"
    echo "  routes: ["
    for j in 1 2 3; do
      echo "    nats-route://127.0.0.1:$(nats_route_port "$j")"
    done
    echo "  ]"
    echo "}"
  } >"$DIR/nats-$k.conf"
}

# make_signing_key: DIR/signing_key.pem, a new Ed25519 key readable by its
# owner only (annalsd --signing-key requires it), unless there is one.
make_signing_key() {
  local key="$DIR/signing_key.pem"
  [ -f "$key" ] && return 0
  command -v openssl >/dev/null || fail "openssl is not installed (deploy/dev.sh build installs it)"
  (umask 077 && openssl genpkey -algorithm ed25519 -out "$key.new" 2>/dev/null) ||
    fail "openssl could not make $key"
  mv "$key.new" "$key"
}

# --- Starting and stopping --------------------------------------------------

# launch NODE: starts NODE in the background, in a session of its own, its
# output appended to DIR/NODE.log and its pid in DIR/NODE.pid.
launch() {
  local node=$1 k argv
  k=$(node_index "$node")
  case "$node" in
    nats-*) argv=(nats-server -c "$DIR/nats-$k.conf") ;;
    annalsd-*)
      rm -f "$DIR/annalsd-$k.port"
      argv=("$ANNALSD" --nats "$(nats_urls)" --data-dir "$DIR/annalsd-$k"
        --listen "$(node_address "$node")" --port-file "$DIR/annalsd-$k.port"
        --http-listen "127.0.0.1:$(annalsd_http_port "$k")" --log-format json
        --signing-key "$DIR/signing_key.pem"
        ${ANNALSD_FLAGS[@]+"${ANNALSD_FLAGS[@]}"})
      ;;
  esac
  echo "--- $(date -u +%Y-%m-%dT%H:%M:%SZ) ${argv[*]}" >>"$DIR/$node.log"
  setsid "${argv[@]}" </dev/null >>"$DIR/$node.log" 2>&1 &
  echo $! >"$DIR/$node.pid"
}

# node_ready NODE: NODE's readiness check.
node_ready() {
  local k
  k=$(node_index "$1")
  case "$1" in
    nats-*) nats_ready "$k" ;;
    annalsd-*) annalsd_ready "$k" ;;
  esac
}

# wait_ready NODE...: waits until every NODE is ready; fails naming the
# first that exited or did not get ready in time, with its log's end.
wait_ready() {
  local deadline=$((SECONDS + READY_SECONDS)) node pending
  pending=("$@")
  while [ ${#pending[@]} -gt 0 ]; do
    local still=()
    for node in "${pending[@]}"; do
      if node_ready "$node"; then
        say "$node is ready ($(node_address "$node"))"
      elif ! node_pid "$node" >/dev/null; then
        tail -n 5 "$DIR/$node.log" >&2 || true
        fail "$node exited; its log is $DIR/$node.log"
      else
        still+=("$node")
      fi
    done
    pending=(${still[@]+"${still[@]}"})
    [ ${#pending[@]} -eq 0 ] && break
    if [ $SECONDS -ge $deadline ]; then
      fail "${pending[*]} not ready within ${READY_SECONDS} s; logs in $DIR"
    fi
    sleep 0.2
  done
}

# stop_nodes SIGNAL NODE...: sends SIGNAL to every NODE that runs, waits
# until each has exited (SIGKILL after STOP_SECONDS) and reports each.
stop_nodes() {
  local signal=$1 node pid
  shift
  local stopping=() pids=()
  for node in "$@"; do
    if pid=$(node_pid "$node"); then
      kill -"$signal" "$pid"
      stopping+=("$node")
      pids+=("$pid")
    else
      say "$node is not running"
    fi
  done
  local deadline=$((SECONDS + STOP_SECONDS)) i
  for i in "${!stopping[@]}"; do
    node=${stopping[$i]}
    pid=${pids[$i]}
    while alive "$pid"; do
      if [ $SECONDS -ge $deadline ]; then
        kill -KILL "$pid" 2>/dev/null || true
        say "$node (pid $pid) did not stop within ${STOP_SECONDS} s: killed"
        deadline=$((SECONDS + STOP_SECONDS))
      fi
      sleep 0.1
    done
    rm -f "$DIR/$node.pid"
    say "$node stopped (pid $pid, SIG$signal)"
  done
}

# The nodes this command started, stopped again when it fails (EXIT trap
# of start_nodes, cleared by the command once everything is ready).
STARTED=()

# start_nodes NODE...: starts every NODE, then waits until all are ready.
start_nodes() {
  local node
  trap 'stop_started' EXIT
  for node in "$@"; do
    launch "$node"
    STARTED+=("$node")
  done
  wait_ready "$@"
}

# stop_started: on a failed start, stops the nodes this command started.
stop_started() {
  [ ${#STARTED[@]} -gt 0 ] || return 0
  say "stopping what was started: ${STARTED[*]}"
  stop_nodes KILL "${STARTED[@]}" 2>/dev/null || true
}

# --- Commands -----------------------------------------------------------------

up() {
  local node pid running=()
  for node in "${NODES[@]}"; do
    if pid=$(node_pid "$node"); then running+=("$node (pid $pid)"); fi
  done
  if [ ${#running[@]} -gt 0 ]; then
    local list
    list=$(printf '%s, ' "${running[@]}")
    fail "the cluster in $DIR is already running: ${list%, }" \
      "(deploy/cluster.sh status --dir $DIR shows it, down stops it)"
  fi
  command -v nats-server >/dev/null ||
    fail "nats-server is not installed (deploy/dev.sh build installs it)"
  [ -x "$ANNALSD" ] || fail "no annalsd at $ANNALSD (build it, or give --annalsd PATH)"
  check_ports_free "${NODES[@]}"
  mkdir -p "$DIR"
  save_env
  make_signing_key
  local k
  for k in 1 2 3; do write_nats_conf "$k"; done
  say "starting NATS JetStream on $(nats_urls) in $DIR"
  start_nodes nats-1 nats-2 nats-3
  say "starting the annalsd replicas"
  start_nodes annalsd-1 annalsd-2 annalsd-3
  trap - EXIT
  for k in 1 2 3; do node_address "annalsd-$k"; done
}

status() {
  local node k pid leaders
  leaders=$(jetstream_leaders)
  for node in "${NODES[@]}"; do
    k=$(node_index "$node")
    if ! pid=$(node_pid "$node"); then
      printf '%-10s stopped  pid %-8s %s\n' "$node" - "$(node_address "$node")"
      continue
    fi
    local detail
    case "$node" in
      nats-*)
        if nats_ready "$k"; then detail="jetstream ready"; else detail="jetstream not ready"; fi
        local leads
        leads=$(awk -v me="$node" '$1 == me { printf "%s%s", sep, $2; sep = ", " }' <<<"$leaders")
        [ -z "$leads" ] || detail+=", leader of $leads"
        ;;
      annalsd-*)
        local health head
        health=$(annals --server "$(node_address "$node")" health 2>/dev/null) || true
        head=$(annals --server "$(node_address "$node")" info 2>/dev/null |
          sed -n 's/^head *position \([0-9]*\)$/\1/p') || true
        detail="${health:-UNREACHABLE} head ${head:-?}"
        ;;
    esac
    printf '%-10s running  pid %-8s %s  %s\n' "$node" "$pid" \
      "$(node_address "$node")" "$detail"
  done
}

down() {
  stop_nodes TERM annalsd-1 annalsd-2 annalsd-3
  stop_nodes TERM nats-1 nats-2 nats-3
  say "the cluster in $DIR is down; its data stays there"
}

stop_one() {
  local node=$1 signal=$2 pid
  if ! pid=$(node_pid "$node"); then
    say "$node is not running"
    return 0
  fi
  stop_nodes "$signal" "$node"
}

start_one() {
  local node=$1 pid
  if pid=$(node_pid "$node"); then fail "$node is already running (pid $pid)"; fi
  [ "${node%%-*}" = nats ] || [ -x "$ANNALSD" ] || fail "no annalsd at $ANNALSD"
  check_ports_free "$node"
  start_nodes "$node"
  trap - EXIT
}

main() {
  [ $# -gt 0 ] || bad_usage "no command"
  local command=$1 node="" kill=false base_port="" annalsd=""
  shift
  case "$command" in
    up | status | down) ;;
    stop | start)
      if [ $# -eq 0 ] || [ "${1#-}" != "$1" ]; then bad_usage "$command needs a NODE"; fi
      node=$1
      shift
      node_index "$node" >/dev/null
      ;;
    -h | --help | help) echo "$USAGE"; exit 0 ;;
    *) bad_usage "unknown command '$command'" ;;
  esac
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir)
        need_value "$@"
        DIR=$2; shift 2 ;;
      --base-port)
        [ "$command" = up ] || bad_usage "--base-port goes with up only"
        need_value "$@"
        if ! [[ "$2" =~ ^[0-9]{4,5}$ ]] || [ "$2" -lt 1024 ] || [ "$2" -gt 65490 ]; then
          bad_usage "--base-port needs a port from 1024 to 65490, got '$2'"
        fi
        base_port=$2; shift 2 ;;
      --annalsd)
        [ "$command" = up ] || bad_usage "--annalsd goes with up only"
        need_value "$@"
        annalsd=$2; shift 2 ;;
      --kill)
        [ "$command" = stop ] || bad_usage "--kill goes with stop only"
        kill=true; shift ;;
      --)
        [ "$command" = up ] || bad_usage "annalsd flags after -- go with up only"
        shift
        ANNALSD_FLAGS=("$@")
        set --
        ;;
      *) bad_usage "unknown argument '$1'" ;;
    esac
  done
  DIR=$(absolute "${DIR:-annals-cluster}")
  DIR=${DIR%/}
  if [ "$command" = up ]; then
    local flags=(${ANNALSD_FLAGS[@]+"${ANNALSD_FLAGS[@]}"})
    if [ -f "$DIR/cluster.env" ]; then load_env; fi
    [ ${#flags[@]} -eq 0 ] || ANNALSD_FLAGS=("${flags[@]}")
    BASE_PORT=${base_port:-${BASE_PORT:-4222}}
    ANNALSD=${ANNALSD:-$BUILD_DIR/bin/annalsd}
    [ -z "$annalsd" ] || ANNALSD=$(absolute "$annalsd")
  else
    load_env
  fi
  case "$command" in
    up) up ;;
    status) status ;;
    down) down ;;
    stop) if $kill; then stop_one "$node" KILL; else stop_one "$node" TERM; fi ;;
    start) start_one "$node" ;;
  esac
}

main "$@"
