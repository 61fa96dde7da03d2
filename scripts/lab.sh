#!/usr/bin/env bash
# Starts JupyterLab (from .venv) on notebooks/ with the tslab kernel ready.
#
#   npm run lab                          http://localhost:8888/lab (the address with its token is printed)
#   npm run lab -- --port 9999           extra arguments go to `jupyter lab`
#   CAPTCHA_LAB_COUNT=5000 npm run lab   notebook parameters can be set from the environment
#
# The notebooks import the compiled library (notebooks/dist -> ../dist), so dist/ is built first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
JUPYTER="$ROOT/.venv/bin/jupyter"

if [[ ! -x $JUPYTER ]]; then
  echo "lab: JupyterLab is not installed in .venv; run: npm run setup" >&2
  exit 1
fi
if [[ ! -f $ROOT/.venv/share/jupyter/kernels/tslab/kernel.json ]]; then
  echo "lab: the tslab kernel is not installed in .venv; run: npm run setup" >&2
  exit 1
fi

echo "[lab] building dist/ (tsc)"
if ! npx --no-install tsc -p tsconfig.json; then
  echo "[lab] WARNING: tsc reported errors (above); the notebooks use what it emitted" >&2
fi
[[ -e notebooks/dist ]] || ln -sfn ../dist notebooks/dist

args=(lab --notebook-dir="$ROOT/notebooks")
# Jupyter refuses to run as root (containers, CI) unless told to.
[[ $(id -u) -eq 0 ]] && args+=(--allow-root)
exec "$JUPYTER" "${args[@]}" "$@"
