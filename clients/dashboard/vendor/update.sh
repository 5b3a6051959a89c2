#!/usr/bin/env bash
# Fetches the pinned uPlot release from the npm registry, checks it against
# the registry's sha512 integrity, and copies the files the dashboard uses
# into uPlot/. Run it after changing UPLOT_VERSION; commit the
# result. Needs npm and openssl.
#
#   clients/dashboard/vendor/update.sh
set -euo pipefail

readonly UPLOT_VERSION=1.6.32
readonly VENDOR_DIR="$(cd "$(dirname "$0")" && pwd)/uPlot"

# expected_integrity: the "sha512-BASE64" the registry publishes for the
# pinned version.
expected_integrity() {
  npm view "uplot@${UPLOT_VERSION}" dist.integrity
}

# integrity_of FILE: the same form, computed from FILE's bytes.
integrity_of() {
  printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
}

WORK_DIR=""
cleanup() {
  [ -z "$WORK_DIR" ] || rm -rf "$WORK_DIR"
}

main() {
  WORK_DIR="$(mktemp -d)"
  trap cleanup EXIT
  local work="$WORK_DIR"

  local expected tarball actual
  expected="$(expected_integrity)"
  tarball="$(cd "$work" && npm pack --silent "uplot@${UPLOT_VERSION}")"
  actual="$(integrity_of "$work/$tarball")"
  if [ "$actual" != "$expected" ]; then
    echo "update.sh: $tarball: integrity $actual, the registry says $expected" >&2
    exit 1
  fi

  tar -xzf "$work/$tarball" -C "$work"
  mkdir -p "$VENDOR_DIR"
  install -m 0644 "$work/package/dist/uPlot.iife.min.js" "$VENDOR_DIR/uPlot.iife.min.js"
  install -m 0644 "$work/package/dist/uPlot.min.css" "$VENDOR_DIR/uPlot.min.css"
  install -m 0644 "$work/package/LICENSE" "$VENDOR_DIR/LICENSE"
  echo "uplot@${UPLOT_VERSION} ${expected}" >"$VENDOR_DIR/VERSION"
  echo "update.sh: uplot@${UPLOT_VERSION} copied into $VENDOR_DIR"
}

main "$@"
