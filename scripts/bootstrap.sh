#!/usr/bin/env bash
# Create .venv (if missing) and install synthohive-dbt with the given extras.
# torch is pinned here (not in the package, which keeps a range for GPU builds): on the
# project's machines torch==2.13.0 resolves to a local CPU wheel. Override with TORCH_SPEC.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="${1:-duckdb,postgres,dev}"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
LOG=.venv/install.log
quiet() { "$@" >"$LOG" 2>&1 || { cat "$LOG"; echo "install failed: $*" >&2; exit 1; }; }
quiet python -m pip install --upgrade pip
quiet python -m pip install "${TORCH_SPEC:-torch==2.13.0}"
# dbt-core >= 1.12.1 needs a parser that only builds from GitHub sources: take wheels only.
# editable_mode=compat puts the checkout on sys.path: dbt's plugin loader finds the
# dbt_synthohive bridge with pkgutil.iter_modules, which cannot see setuptools' default
# editable import hook (`dbt run-operation synthesize` would report the bridge missing).
quiet python -m pip install --only-binary=dbt-core-experimental-parser \
  --config-settings editable_mode=compat -e ".[${EXTRAS}]"
