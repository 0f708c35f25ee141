#!/usr/bin/env bash
# Install the warehouse emulators the integration tests start (idempotent, pinned).
# fakesnow's pins (duckdb, sqlglot, a 4.x connector) clash with the project's, so its server
# gets its own virtualenv, .emulators/snowflake-venv, and runs as a separate process. The
# test process talks to it through snowflake-connector-python in .venv: 5.x cannot log in
# to fakesnow (it expects a master token), so .venv gets 4.8.1, without the [pandas] extra
# that would downgrade pandas. A failed download is reported, not fatal: the tests skip.
set -uo pipefail
cd "$(dirname "$0")/.."
FAKESNOW="fakesnow[server]==0.12.1"
CONNECTOR="snowflake-connector-python==4.8.1"
VENV=.emulators/snowflake-venv
LOG=.emulators/snowflake-install.log
mkdir -p .emulators

if [ ! -x "$VENV/bin/fakesnow" ] || ! "$VENV/bin/python" -c "import fakesnow" 2>/dev/null; then
  { "${PYTHON:-python3}" -m venv "$VENV" &&
    "$VENV/bin/python" -m pip install "$FAKESNOW" "snowflake-connector-python[pandas]==4.8.1"; } >"$LOG" 2>&1 \
    || echo "could not install $FAKESNOW in $VENV (see $LOG): the Snowflake tests will skip" >&2
fi

if [ -x .venv/bin/python ] && ! .venv/bin/python -c "import snowflake.connector" 2>/dev/null; then
  # torch and dbt-core pinned as in bootstrap.sh, so that this install can move neither
  .venv/bin/python -m pip install --only-binary=dbt-core-experimental-parser \
    "$CONNECTOR" "torch==2.13.0" "dbt-core==1.12.0" >>"$LOG" 2>&1 \
    || echo "could not install $CONNECTOR in .venv (see $LOG): the Snowflake tests will skip" >&2
fi
# ---- BigQuery: bqemulator (pure Python on DuckDB) in .emulators/bigquery-venv ----------
# bqemulator 1.4.0 downloads DuckDB's spatial extension at start; with no network it refuses
# to start. duckdb is pinned to the version of the extension wheel on PyPI
# (duckdb-extension-spatial), and the extension is INSTALLed from that wheel's file once.
BQEMU="bqemulator==1.4.0"
BQDUCKDB="duckdb==1.5.5"
BQSPATIAL="duckdb-extension-spatial==1.5.5"
BQVENV=.emulators/bigquery-venv
BQLOG=.emulators/bigquery-install.log
bq_emulator_ready() {
  "$BQVENV/bin/python" - 2>/dev/null <<'PY'
import duckdb, bqemulator, numpy  # noqa: F401
duckdb.connect().execute("load spatial")
PY
}
if [ ! -x "$BQVENV/bin/bqemulator" ] || ! bq_emulator_ready; then
  { "${PYTHON:-python3}" -m venv "$BQVENV" &&
    "$BQVENV/bin/python" -m pip install "$BQEMU" "$BQDUCKDB" "$BQSPATIAL" numpy &&
    "$BQVENV/bin/python" - <<'PY'
import pathlib, duckdb, duckdb_extension_spatial as ext
path = next(pathlib.Path(ext.__file__).parent.rglob("*.duckdb_extension"))
con = duckdb.connect()
con.execute(f"install '{path}'")
con.execute("load spatial")
PY
  } >"$BQLOG" 2>&1 \
    || echo "could not set up $BQEMU in $BQVENV (see $BQLOG): the BigQuery tests will skip" >&2
fi
# the client our backend imports, in .venv (db-dtypes: query results with DATE/NUMERIC to
# pandas); torch and dbt-core pinned as in bootstrap.sh, so that this install moves neither
BQCLIENT="google-cloud-bigquery==3.47.0"
if [ -x .venv/bin/python ] && ! .venv/bin/python -c "import google.cloud.bigquery, db_dtypes" 2>/dev/null; then
  .venv/bin/python -m pip install --only-binary=dbt-core-experimental-parser \
    "$BQCLIENT" "db-dtypes==1.9.0" "torch==2.13.0" "dbt-core==1.12.0" >>"$BQLOG" 2>&1 \
    || echo "could not install $BQCLIENT in .venv (see $BQLOG): the BigQuery tests will skip" >&2
fi
# ---- dbt adapters for the end-to-end emulator tests (dbt-snowflake against fakesnow, --------
# dbt-bigquery against bqemulator), in .venv beside the clients above; torch, dbt-core and the
# clients pinned so that this install moves none of them (dbt-snowflake 1.12 takes a 4.x
# connector, which is what fakesnow can serve)
ADAPTERS=("dbt-snowflake==1.12.4" "dbt-bigquery==1.12.1")
if [ -x .venv/bin/python ] && ! .venv/bin/python -c "import dbt.adapters.snowflake, dbt.adapters.bigquery" 2>/dev/null; then
  .venv/bin/python -m pip install --only-binary=dbt-core-experimental-parser "${ADAPTERS[@]}" \
    "$CONNECTOR" "$BQCLIENT" "torch==2.13.0" "dbt-core==1.12.0" >>.emulators/adapters-install.log 2>&1 \
    || echo "could not install ${ADAPTERS[*]} in .venv (see .emulators/adapters-install.log): the dbt emulator tests will skip" >&2
fi
exit 0
