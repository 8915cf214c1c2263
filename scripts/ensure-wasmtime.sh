#!/usr/bin/env bash
# Prints the path of a wasmtime CLI for one of the two lines Eventide runs on:
#   ensure-wasmtime.sh [lts]   36–46, which still has WASI preview1 sockets (the app's .wasm module);
#                              EVENTIDE_WASMTIME, then the pinned 36 LTS in the per-user cache, then PATH.
#   ensure-wasmtime.sh current 47 or newer, which runs the app's WASI 0.2 component (.component.wasm);
#                              EVENTIDE_WASMTIME_CURRENT, then the pinned current release in the cache, then PATH.
#   ensure-wasmtime.sh host    eventide-wasmtime (host/engines/wasmtime-host): Eventide's own host for the component
#                              on the wasmtime 48 crate; EVENTIDE_WASMTIME_HOST, then the cache (keyed by its sources).
# When none qualifies it builds the pinned release into the cache once with cargo (about 15–20 minutes on 2 cores;
# cargo's own lines and a line every 30 s show it moving). The cache lives outside the clone, so CI in a fresh
# clone and later runs reuse it; a second caller waits for the first one's build instead of starting its own.
set -euo pipefail

LINE="${1:-lts}"
case "$LINE" in
  lts) PINNED=36.0.20 LOW=36 HIGH=46 RANGE="36–46" EXPLICIT="${EVENTIDE_WASMTIME:-}" VAR=EVENTIDE_WASMTIME
    FEATURES=run,compile,cranelift,cache,parallel-compilation
    WHY="WASI preview1 sockets (wasmtime 47 removed the legacy preview1 implementation that carries sock_accept)" ;;
  current) PINNED=48.0.8 LOW=47 HIGH=999 RANGE="47 or newer" EXPLICIT="${EVENTIDE_WASMTIME_CURRENT:-}" VAR=EVENTIDE_WASMTIME_CURRENT
    FEATURES=run,compile,cranelift,component-model,cache,parallel-compilation
    WHY="the component model with WASI 0.2 sockets" ;;
  host) SOURCE="$(cd "$(dirname "$0")/../host/engines/wasmtime-host" && pwd)"
    PINNED="$(cat "$SOURCE/Cargo.toml" "$SOURCE/Cargo.lock" "$SOURCE"/src/*.rs | sha256sum | cut -c1-12)"
    RANGE="eventide-wasmtime" EXPLICIT="${EVENTIDE_WASMTIME_HOST:-}" VAR=EVENTIDE_WASMTIME_HOST
    WHY="Eventide's host for the WASI 0.2 component, on the wasmtime 48 crate" ;;
  *) echo "ensure-wasmtime: unknown line '$LINE': use 'lts' (36–46, preview1), 'current' (47 or newer, component) or 'host' (eventide-wasmtime)" >&2; exit 2 ;;
esac
CACHE_ROOT="${EVENTIDE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/eventide}"
ROOT="$CACHE_ROOT/wasmtime-$PINNED"
CACHED="$ROOT/bin/wasmtime"
if [ "$LINE" = host ]; then
  ROOT="$CACHE_ROOT/eventide-wasmtime-$PINNED"
  CACHED="$ROOT/bin/eventide-wasmtime"
fi

qualifies() {
  if [ "$LINE" = host ]; then "$1" --version 2>/dev/null | grep -q '^eventide-wasmtime '; return; fi
  local major
  major=$("$1" --version 2>/dev/null | sed -n 's/^wasmtime \([0-9]*\)\..*/\1/p')
  [ -n "$major" ] && [ "$major" -ge "$LOW" ] && [ "$major" -le "$HIGH" ]
}

if [ -n "$EXPLICIT" ]; then
  if qualifies "$EXPLICIT"; then echo "$EXPLICIT"; exit 0; fi
  echo "ensure-wasmtime: $VAR=$EXPLICIT is not a wasmtime $RANGE; looking further" >&2
fi
if [ -x "$CACHED" ] && qualifies "$CACHED"; then echo "$CACHED"; exit 0; fi
if [ "$LINE" != host ] && command -v wasmtime >/dev/null && qualifies "$(command -v wasmtime)"; then command -v wasmtime; exit 0; fi

if ! command -v cargo >/dev/null; then
  echo "ensure-wasmtime: no wasmtime $RANGE ($WHY) found and no cargo to build one." >&2
  echo "  Install wasmtime $PINNED: curl https://wasmtime.dev/install.sh -sSf | bash -s -- --version v$PINNED" >&2
  echo "  and point $VAR at it, or install Rust (cargo) and run this script again." >&2
  exit 1
fi

STARTED=$SECONDS
# A line every 30 s (on stderr) while this script waits or builds: cargo is silent for minutes while it links
# wasmtime. It holds neither our stdout (a caller reading the path would wait for a leftover `sleep`) nor the lock.
tick() {
  while sleep 30; do echo "ensure-wasmtime: $1 wasmtime $PINNED… $(( (SECONDS - STARTED) / 60 )) min so far" >&2; done
}

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/wasmtime-$PINNED.lock"
if ! flock -n 9; then
  echo "ensure-wasmtime: another process is building wasmtime $PINNED into $ROOT; waiting for it" >&2
  tick "still waiting for the other build of" >/dev/null 9>&- & TICKER=$!
  flock 9
  kill "$TICKER"
fi
if ! { [ -x "$CACHED" ] && qualifies "$CACHED"; }; then
  TICKER=""
  trap '[ -n "$TICKER" ] && kill "$TICKER" 2>/dev/null' EXIT
  if [ "$LINE" = host ]; then
    echo "ensure-wasmtime: building eventide-wasmtime ($WHY) into $ROOT with cargo:" >&2
    echo "  about 6–10 minutes on 2 cores the first time, a minute after a change to its sources." >&2
    tick "still building" >/dev/null 9>&- & TICKER=$!
    # The target directory is kept (about 1 GB): a change to the host's own sources recompiles only them.
    CARGO_TARGET_DIR="$CACHE_ROOT/eventide-wasmtime-target" cargo install --path "$SOURCE" --locked --root "$ROOT" >&2
  else
    echo "ensure-wasmtime: building wasmtime-cli $PINNED ($WHY) into $ROOT with cargo:" >&2
    echo "  one time, about 15–20 minutes on 2 cores; later runs and fresh clones reuse it." >&2
    tick "still building" >/dev/null 9>&- & TICKER=$!
    CARGO_TARGET_DIR="$CACHE_ROOT/build-target-$PINNED" cargo install wasmtime-cli --version "$PINNED" --locked \
      --no-default-features --features "$FEATURES" --root "$ROOT" >&2
    rm -rf "$CACHE_ROOT/build-target-$PINNED"
  fi
  kill "$TICKER"
  trap - EXIT
  echo "ensure-wasmtime: built $(basename "$CACHED") $PINNED in $(( (SECONDS - STARTED) / 60 )) min" >&2
fi
echo "$CACHED"
