#!/usr/bin/env bash
# Makes a throwaway certificate authority and certificates for annalsd's
# TLS and mTLS, for local use and tests (not for production: the CA key
# lies next to the certificates). ECDSA P-256 keys (mode 0600), 825 days.
#
#   deploy/make-certs.sh DIR
#       DIR/ca.pem, DIR/ca.key (kept when DIR already has them), and
#       DIR/server.pem, DIR/server.key (always remade): CN=annalsd,
#       SAN DNS:localhost, IP:127.0.0.1, IP:::1, serverAuth.
#   deploy/make-certs.sh DIR server [--san DNS:host,IP:1.2.3.4]
#       Remakes only the server certificate, with the extra SANs (rotation).
#   deploy/make-certs.sh DIR client NAME [--expired]
#       DIR/NAME.pem, DIR/NAME.key signed by DIR's CA: CN=NAME, SAN DNS:NAME,
#       clientAuth. --expired: valid 2020-01-01..2020-01-02 only.
#
# Exit status 2 on bad arguments.
set -euo pipefail

readonly DAYS=825
readonly NAME_PATTERN='^[A-Za-z0-9._@-]{1,64}$'

usage() {
  cat >&2 <<'USAGE'
usage: deploy/make-certs.sh DIR
       deploy/make-certs.sh DIR server [--san DNS:host,IP:1.2.3.4]
       deploy/make-certs.sh DIR client NAME [--expired]
USAGE
  exit 2
}

# quietly CMD...: runs CMD with its chatter on stderr held back, shown only
# when it fails.
quietly() {
  local err
  err=$(mktemp)
  if ! "$@" 2>"$err"; then
    cat "$err" >&2
    rm -f "$err"
    return 1
  fi
  rm -f "$err"
}

# new_key FILE: a new ECDSA P-256 private key, readable by its owner only.
new_key() {
  local file=$1
  (umask 077 && quietly openssl genpkey -algorithm EC \
    -pkeyopt ec_paramgen_curve:P-256 -out "$file")
  chmod 0600 "$file"
}

# ensure_ca DIR: makes DIR/ca.key and DIR/ca.pem unless both exist.
ensure_ca() {
  local dir=$1
  if [ -f "$dir/ca.key" ] && [ -f "$dir/ca.pem" ]; then
    echo "kept $dir/ca.pem (CA)"
    return 0
  fi
  new_key "$dir/ca.key"
  openssl req -x509 -new -key "$dir/ca.key" -sha256 -days "$DAYS" \
    -subj "/CN=annals throwaway CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca.pem"
  echo "wrote $dir/ca.pem (CA certificate) and $dir/ca.key (CA key)"
}

# require_ca DIR: fails unless DIR has a CA to sign with.
require_ca() {
  local dir=$1
  if [ ! -f "$dir/ca.key" ] || [ ! -f "$dir/ca.pem" ]; then
    echo "make-certs.sh: $dir has no ca.pem and ca.key: run deploy/make-certs.sh $dir first" >&2
    exit 1
  fi
}

# sign DIR NAME CN SAN USAGE: DIR/NAME.key and DIR/NAME.pem, signed by DIR's
# CA for DAYS days.
sign() {
  local dir=$1 name=$2 cn=$3 san=$4 usage=$5
  local ext
  ext=$(mktemp)
  cat >"$ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=$usage
subjectAltName=$san
EXT
  new_key "$dir/$name.key"
  openssl req -new -key "$dir/$name.key" -subj "/CN=$cn" -out "$ext.csr"
  quietly openssl x509 -req -in "$ext.csr" -CA "$dir/ca.pem" \
    -CAkey "$dir/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -sha256 -days "$DAYS" -extfile "$ext" -out "$dir/$name.pem"
  rm -f "$ext" "$ext.csr"
  echo "wrote $dir/$name.pem and $dir/$name.key ($cn, $san, $usage)"
}

# sign_expired DIR NAME: a client certificate whose validity ended in 2020.
# `openssl x509 -req` of OpenSSL 3.0 cannot set a start date; `openssl ca`
# can, with a throwaway database and configuration.
sign_expired() {
  local dir=$1 name=$2
  local work
  work=$(mktemp -d)
  touch "$work/index.txt"
  openssl rand -hex 16 >"$work/serial"
  cat >"$work/ca.cnf" <<CNF
[ca]
default_ca = throwaway
[throwaway]
database = $work/index.txt
serial = $work/serial
new_certs_dir = $work
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:$name
CNF
  new_key "$dir/$name.key"
  openssl req -new -key "$dir/$name.key" -subj "/CN=$name" -out "$work/req.pem"
  quietly openssl ca -batch -config "$work/ca.cnf" -extensions client \
    -startdate 20200101000000Z -enddate 20200102000000Z -notext \
    -in "$work/req.pem" -out "$dir/$name.pem"
  rm -rf "$work"
  echo "wrote $dir/$name.pem and $dir/$name.key ($name, expired 2020-01-02, clientAuth)"
}

# server_cert DIR [EXTRA_SANS]
server_cert() {
  local dir=$1 extra=${2:-}
  local san="DNS:localhost,IP:127.0.0.1,IP:::1"
  [ -n "$extra" ] && san="$san,$extra"
  sign "$dir" server annalsd "$san" serverAuth
}

main() {
  [ $# -ge 1 ] || usage
  local dir=$1
  shift
  case "${1:-}" in
    "")
      mkdir -p "$dir"
      ensure_ca "$dir"
      server_cert "$dir"
      ;;
    server)
      shift
      local extra=""
      if [ $# -gt 0 ]; then
        [ $# -eq 2 ] && [ "$1" = "--san" ] && [ -n "$2" ] || usage
        extra=$2
      fi
      require_ca "$dir"
      server_cert "$dir" "$extra"
      ;;
    client)
      shift
      [ $# -ge 1 ] && [ $# -le 2 ] || usage
      local name=$1 expired=no
      [[ $name =~ $NAME_PATTERN ]] || {
        echo "make-certs.sh: client NAME must be 1-64 of A-Z a-z 0-9 . _ @ -, got '$name'" >&2
        exit 2
      }
      case "$name" in ca | server) echo "make-certs.sh: client NAME '$name' would overwrite DIR/$name.pem" >&2; exit 2 ;; esac
      if [ $# -eq 2 ]; then
        [ "$2" = "--expired" ] || usage
        expired=yes
      fi
      require_ca "$dir"
      if [ $expired = yes ]; then
        sign_expired "$dir" "$name"
      else
        sign "$dir" "$name" "$name" "DNS:$name" clientAuth
      fi
      ;;
    *) usage ;;
  esac
}

main "$@"
