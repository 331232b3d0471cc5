#!/usr/bin/env bash
# Prepares a Debian machine for building and testing Sori. Idempotent; quiet
# on success. `make setup` runs it.
#
#   - Go >= 1.26 and Node.js >= 20 (with npm) must already be installed
#   - Debian packages chromium and redis-server: installed with apt-get when
#     missing and running as root; otherwise the exact command is printed
#   - npm ci at the repository root (skipped when node_modules is current)
#   - go mod download, and the pinned staticcheck is fetched and built once
#
# Environment: STATICCHECK (package@version, default: the Makefile's pin),
# SETUP_FORCE_NPM=1 runs npm ci even when node_modules looks current.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

GO_MIN=1.26
NODE_MIN=20
APT_PACKAGES=(chromium redis-server)

fail=0
problem() {
  echo "setup: $*" >&2
  fail=1
}

# version_ge A B: true when dotted version A >= B
version_ge() {
  local IFS=.
  local -a a b
  read -r -a a <<<"$1"
  read -r -a b <<<"$2"
  local i
  for i in 0 1 2; do
    local x=${a[i]:-0} y=${b[i]:-0}
    x=${x%%[!0-9]*} y=${y%%[!0-9]*}
    ((10#${x:-0} > 10#${y:-0})) && return 0
    ((10#${x:-0} < 10#${y:-0})) && return 1
  done
  return 0
}

# --- toolchains ---------------------------------------------------------------
if ! command -v go >/dev/null 2>&1; then
  problem "Go $GO_MIN or newer is required but 'go' is not on PATH (https://go.dev/dl/)"
else
  gov=$(go env GOVERSION 2>/dev/null || true)
  gov=${gov#go}
  if [[ -z "$gov" ]] || ! version_ge "$gov" "$GO_MIN"; then
    problem "Go $GO_MIN or newer is required, found '${gov:-unknown}' ($(command -v go)); install it from https://go.dev/dl/"
  fi
fi

if ! command -v node >/dev/null 2>&1; then
  problem "Node.js $NODE_MIN or newer is required but 'node' is not on PATH (https://nodejs.org/)"
else
  nodev=$(node -p 'process.versions.node' 2>/dev/null || true)
  if [[ -z "$nodev" ]] || ! version_ge "$nodev" "$NODE_MIN"; then
    problem "Node.js $NODE_MIN or newer is required, found '${nodev:-unknown}' ($(command -v node))"
  fi
  command -v npm >/dev/null 2>&1 || problem "npm is required (it ships with Node.js) but is not on PATH"
fi

# --- Debian packages --------------------------------------------------------------
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${APT_PACKAGES[@]}"; do pkg_installed "$p" || missing+=("$p"); done
else
  # Not Debian: accept the binaries from anywhere on PATH.
  command -v chromium >/dev/null 2>&1 || [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
fi

if [[ ${#missing[@]} -gt 0 ]]; then
  apt_cmd="apt-get update && apt-get install -y ${missing[*]}"
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${missing[*]} with apt-get"
    log=$(mktemp)
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -q && apt-get install -y -q "${missing[@]}"; } >"$log" 2>&1; then
      tail -n 30 "$log" >&2
      rm -f "$log"
      problem "apt-get failed; run it by hand: $apt_cmd"
    else
      rm -f "$log"
    fi
  else
    problem "missing Debian packages: ${missing[*]}; as root, run: $apt_cmd"
  fi
fi

if [[ $fail -eq 0 ]]; then
  [[ -x /usr/bin/chromium ]] || problem "/usr/bin/chromium is missing (the tests use Debian's chromium there)"
  command -v redis-server >/dev/null 2>&1 || problem "redis-server is not on PATH"
fi

if [[ $fail -ne 0 ]]; then
  echo "setup: FAILED (see above)" >&2
  exit 1
fi

# --- npm ----------------------------------------------------------------------
# npm ci wipes node_modules, so skip it when the installed tree was made from
# the current package.json and package-lock.json (tests may be using it).
hidden_lock=node_modules/.package-lock.json
if [[ "${SETUP_FORCE_NPM:-0}" == 1 || ! -f $hidden_lock || package-lock.json -nt $hidden_lock || package.json -nt $hidden_lock ]]; then
  log=$(mktemp)
  if ! npm ci --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "setup: FAILED: npm ci at $ROOT" >&2
    exit 1
  fi
  rm -f "$log"
fi

# --- Go modules and tools ---------------------------------------------------
if ! out=$(go mod download 2>&1); then
  echo "$out" >&2
  echo "setup: FAILED: go mod download" >&2
  exit 1
fi

STATICCHECK=${STATICCHECK:-$(sed -n 's/^STATICCHECK[[:space:]]*?\{0,1\}=[[:space:]]*//p' Makefile 2>/dev/null | head -n 1)}
if [[ -n "$STATICCHECK" ]]; then
  # go run pkg@version ignores the current module: go.mod/go.sum are untouched.
  if ! out=$(go run "$STATICCHECK" -version 2>&1); then
    echo "$out" >&2
    echo "setup: FAILED: could not fetch/build $STATICCHECK" >&2
    exit 1
  fi
fi

exit 0
