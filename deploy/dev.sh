#!/usr/bin/env bash
# Developer entry point: install what is missing, build, then run annalsd or
# the test suite. Works on a fresh Debian 12 machine (as root, or with sudo).
#
#   deploy/dev.sh run    # build, start annalsd on ./annals-data, load the seed
#                        # timeline (deploy/seed/timeline.jsonl), stay in front
#   deploy/dev.sh test   # build and run the whole test suite, then build the
#                        # fuzz targets (tests/fuzz) and run each for a few
#                        # seconds on its corpus
#   deploy/dev.sh build  # install and build only
#   deploy/dev.sh fuzz   # only the fuzz targets' build and short runs
set -euo pipefail

cd "$(dirname "$0")/.."
readonly BUILD_DIR="${ANNALS_BUILD_DIR:-build}"
readonly FUZZ_BUILD_DIR="${ANNALS_FUZZ_BUILD_DIR:-build-fuzz}"
readonly PACKAGES=(
  cmake ninja-build ccache g++ pkg-config
  libgrpc++-dev libgrpc-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  librocksdb-dev libabsl-dev libgtest-dev libgmock-dev libssl-dev
  openssl  # deploy/make-certs.sh: the throwaway CA and certificates
  python3  # tests/storage/verify_proofs.py: the independent proof checker
  python3-grpcio python3-protobuf  # clients/python; protobuf-compiler-grpc has its plugin
  libpq-dev libhiredis-dev  # the benchmark peers' clients (clients/bench)
  libjemalloc-dev  # annalsd's allocator
  clang-14 libclang-rt-14-dev libfuzzer-14-dev  # tests/fuzz: libFuzzer, ASan, UBSan
  nodejs npm  # tests/interop/node: every RPC from a Node client
  libcpp-httplib-dev  # annalsd's HTTP endpoints (/metrics)
  prometheus  # tests: promtool and a real Prometheus scraping annalsd
  libsystemd-dev  # sd_notify: readiness, status and the watchdog
  nlohmann-json3-dev  # annalsd's JSON log lines (log/)
  libboost-dev  # Boost.Beast: annalsd's HTTP/JSON gateway and event streams
  chromium chromium-driver python3-selenium  # tests/e2e: the dashboard in a real browser
  nats-server libnats-dev  # cluster mode: the log of record on NATS JetStream
)

# is_installed PACKAGE: dpkg has it; for nodejs and npm, their command is
# enough (another build of Node, such as NodeSource's nodejs, ships npm
# and conflicts with Debian's npm package).
is_installed() {
  case "$1" in
    nodejs) command -v node >/dev/null && return 0 ;;
    npm) command -v npm >/dev/null && return 0 ;;
  esac
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    is_installed "$p" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "dev.sh: installing ${missing[*]}" >&2
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# build [TARGET...]: everything, or only the given targets.
build() {
  install_missing
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  local targets=()
  [ $# -gt 0 ] && targets=(--target "$@")
  cmake --build "$BUILD_DIR" -j "$(nproc)" "${targets[@]}"
}

run() {
  build annalsd annals
  local data_dir="${ANNALS_DATA_DIR:-annals-data}"
  local listen="${ANNALS_LISTEN:-127.0.0.1:7465}"
  local http_listen="${ANNALS_HTTP_LISTEN:-127.0.0.1:7466}"
  "$BUILD_DIR/bin/annalsd" --listen "$listen" --http-listen "$http_listen" \
    --data-dir "$data_dir" &
  local pid=$!
  trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM
  local annals=("$BUILD_DIR/bin/annals" --server "$listen")
  for _ in $(seq 1 100); do
    "${annals[@]}" health >/dev/null 2>&1 && break
    kill -0 $pid 2>/dev/null || { wait $pid; exit 1; }
    sleep 0.1
  done
  local seed=deploy/seed/timeline.jsonl
  if [ -f "$seed" ]; then
    "${annals[@]}" import "$seed" || { kill -TERM $pid; wait $pid; exit 1; }
  fi
  cat <<MSG

annalsd is serving on $listen with its log in $data_dir (Ctrl-C stops it).
The dashboard: http://$http_listen/
The JSON API:  curl http://$http_listen/v1/relationships/JPN-PRK
Try, in another terminal:
  $BUILD_DIR/bin/annals health
  $BUILD_DIR/bin/annals append clients/examples/events.jsonl --stream examples
  $BUILD_DIR/bin/annals read --all
  $BUILD_DIR/bin/annals get jpn-prk-2019-03-12-chimura-urges-direct-talks
  $BUILD_DIR/bin/annals relationship JPN PRK
  $BUILD_DIR/bin/annals relationship USA PRK --as-of 2019-03
  $BUILD_DIR/bin/annals timeline JPN PRK --from 2018 --kind resolution
MSG
  wait $pid
}

# fuzz: builds the libFuzzer targets with clang in their own directory and
# runs each on its corpus (docs/reliability.md, "Fuzzing").
fuzz() {
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$FUZZ_BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DANNALS_FUZZ=ON >/dev/null
  cmake --build "$FUZZ_BUILD_DIR" -j "$(nproc)" --target annals_fuzzers
  ctest --test-dir "$FUZZ_BUILD_DIR" --output-on-failure -j "$(nproc)"
}

test_suite() {
  build
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 300
  fuzz
}

case "${1:-}" in
  run) run ;;
  test) test_suite ;;
  build) build ;;
  fuzz) install_missing; fuzz ;;
  *) echo "usage: deploy/dev.sh run|test|build|fuzz" >&2; exit 2 ;;
esac
