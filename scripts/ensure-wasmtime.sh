#!/usr/bin/env bash
# Prints the path of a wasmtime CLI that still has WASI preview1 sockets (36.x–46.x).
# Uses one on PATH when it qualifies, else the pinned LTS in the per-user cache, building it there once.
# Building takes 20–40 minutes on 2 cores; the cache lives outside the clone so CI in a fresh clone reuses it.
set -euo pipefail

PINNED=36.0.20
CACHE_ROOT="${EVENTIDE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/eventide}"
ROOT="$CACHE_ROOT/wasmtime-$PINNED"
CACHED="$ROOT/bin/wasmtime"

has_p1_sockets() { # wasmtime 47 removed the legacy preview1 implementation that carries sock_accept
  local major
  major=$("$1" --version 2>/dev/null | sed -n 's/^wasmtime \([0-9]*\)\..*/\1/p')
  [ -n "$major" ] && [ "$major" -ge 36 ] && [ "$major" -le 46 ]
}

if [ -n "${EVENTIDE_WASMTIME:-}" ] && has_p1_sockets "$EVENTIDE_WASMTIME"; then echo "$EVENTIDE_WASMTIME"; exit 0; fi
if [ -x "$CACHED" ] && has_p1_sockets "$CACHED"; then echo "$CACHED"; exit 0; fi
if command -v wasmtime >/dev/null && has_p1_sockets "$(command -v wasmtime)"; then command -v wasmtime; exit 0; fi

if ! command -v cargo >/dev/null; then
  echo "ensure-wasmtime: no wasmtime 36–46 found and no cargo to build one." >&2
  echo "  Install wasmtime 36 LTS: curl https://wasmtime.dev/install.sh -sSf | bash -s -- --version v$PINNED" >&2
  exit 1
fi

echo "ensure-wasmtime: building wasmtime-cli $PINNED into $ROOT (one time, 20-40 minutes)..." >&2
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/wasmtime-$PINNED.lock"
flock 9 # a second caller waits for the first build instead of starting its own
if ! { [ -x "$CACHED" ] && has_p1_sockets "$CACHED"; }; then
  CARGO_TARGET_DIR="$CACHE_ROOT/build-target" cargo install wasmtime-cli --version "$PINNED" --locked \
    --no-default-features --features run,compile,cranelift,cache,parallel-compilation \
    --root "$ROOT" >&2
  rm -rf "$CACHE_ROOT/build-target"
fi
echo "$CACHED"
