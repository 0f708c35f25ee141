"""Start local emulators of cloud warehouses as separate processes, for the integration tests.

Each emulator lives in its own virtual environment under ``.emulators/`` (its pins clash with
the project's), made by ``scripts/emulators.sh``. A server that cannot start is a skip with
the reason and the log's path, never a silent pass.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from synthohive_dbt.warehouse.base import Swap
from synthohive_dbt.warehouse.snowflake import SnowflakeWarehouse

ROOT = Path(__file__).resolve().parent.parent
FAKESNOW_VENV = Path(os.environ.get("SYNTHOHIVE_FAKESNOW_VENV", ROOT / ".emulators/snowflake-venv"))
START_TIMEOUT_S = 60.0


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_fakesnow(log_dir: Path) -> Server:
    """fakesnow's HTTP server (in-memory databases) on a free port; skips when it cannot."""
    exe = FAKESNOW_VENV / "bin" / "fakesnow"
    if not exe.exists():
        pytest.skip(f"fakesnow is not installed at {exe}: run scripts/emulators.sh")
    port = free_port()
    command = [str(exe), "-s", "--host", "127.0.0.1", "-p", str(port)]
    return _serve("fakesnow", command, port, log_dir)


def _serve(name: str, command: list[str], port: int, log_dir: Path) -> Server:
    """Start ``command`` (logging to ``log_dir/name.log``) and wait until ``port`` listens;
    a skip with the reason and the log's tail when it exits or does not listen in time."""
    log = log_dir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, port, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = server.log_tail()
            pytest.skip(f"{name} exited with {process.returncode} (log {log}):\n{tail}")
        if _listening(port):
            return server
        time.sleep(0.2)
    server.stop()
    pytest.skip(f"{name} did not listen within {START_TIMEOUT_S:.0f}s (log {log})")


# ---- Snowflake: where fakesnow differs ------------------------------------------------------
# The product keeps Snowflake's documented behaviour; each difference of fakesnow 0.12.1 that
# the tests meet is isolated here (the README lists them):
# - ``ALTER TABLE ... SWAP WITH`` is a parser error: ``FakesnowWarehouse`` swaps by drop and
#   rename instead (not atomic, which these tests cannot observe anyway). Its rename also
#   forgets ``VARCHAR(n)`` lengths: the renamed table describes them as ``VARCHAR(16777216)``.
# - ``COPY INTO ... MATCH_BY_COLUMN_NAME = CASE_SENSITIVE`` compares the Parquet columns with
#   the table's columns upper-cased, so quoted lower-case columns load as NULL:
#   ``FakesnowWarehouse`` matches case-insensitively.
# - NULL ``TIMESTAMP_NTZ``/``TIMESTAMP_TZ`` values are stored as NULL but come back as
#   1970-01-01 in Arrow result sets (tests/test_warehouse_snowflake.py says so in its
#   expected frames; ``is null`` queries prove what was stored).
# - The connector's own ``write_pandas`` fails (its scoped temporary stage is never created),
#   and ``DROP STAGE`` is a parser error; the product uses neither.
# - A COPY INTO that breaks a NOT NULL column is answered with HTTP 500 (an unhandled
#   exception in the server) instead of a SQL error; the connector retries it until its
#   network timeout, so the tests bound that timeout (Snowflake fails the statement at once).
# - Types and identifiers are DuckDB's underneath: an unknown type such as ``uuid`` is
#   accepted, and quoted identifiers match case-insensitively, so a test must check stored
#   names and types itself rather than rely on the emulator to refuse them.
# - ``CREATE TABLE ... (columns, primary key (...), foreign key (...)) AS SELECT`` (what
#   dbt-snowflake renders for a contracted model with model-level constraints) fails with
#   "Invalid column definition list": fakesnow counts the constraints as columns.
# - ``HASH(*)`` is not supported (a DuckDB binder error): the tests hash rows themselves.


class FakesnowWarehouse(SnowflakeWarehouse):
    """SnowflakeWarehouse with fakesnow's swap and column matching (see above)."""

    # fakesnow upper-cases the table's column names before matching them
    match_by_column_name = "case_insensitive"

    def _swap(self, swaps: Sequence[Swap]) -> None:
        # fakesnow cannot parse ALTER TABLE ... SWAP WITH
        for stage, final, _ in swaps:
            self._execute(f"drop table if exists {final.render(self.dialect)}")
            self._execute(
                f"alter table {stage.render(self.dialect)} rename to {final.render(self.dialect)}"
            )


def isolate_fakesnow_differences(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every SnowflakeWarehouse of this process, also those synthohive opens from a dbt
    profile or wraps around dbt's connection, behaves like ``FakesnowWarehouse``; and every
    connector connection (dbt's too) gets bounded timeouts, since the connector retries a
    server error or an unanswered login for minutes."""
    import snowflake.connector

    monkeypatch.setattr(SnowflakeWarehouse, "_swap", FakesnowWarehouse._swap)
    monkeypatch.setattr(
        SnowflakeWarehouse, "match_by_column_name", FakesnowWarehouse.match_by_column_name
    )
    connect = snowflake.connector.connect

    def bounded(*args, **kwargs):
        kwargs.setdefault("network_timeout", SNOWFLAKE_TIMEOUT_S)
        kwargs["login_timeout"] = min(kwargs.get("login_timeout") or 30, 30)
        return connect(*args, **kwargs)

    monkeypatch.setattr(snowflake.connector, "connect", bounded)


#: the connector's network timeout in the tests: a failing query fails within a minute
SNOWFLAKE_TIMEOUT_S = 60


# ---- BigQuery: bqemulator ------------------------------------------------------------------
BQEMULATOR_VENV = Path(
    os.environ.get("SYNTHOHIVE_BQEMULATOR_VENV", ROOT / ".emulators/bigquery-venv")
)
BQEMULATOR_PROJECT = "synthohive-test"


def start_bqemulator(log_dir: Path) -> Server:
    """bqemulator's REST server (in-memory DuckDB) on a free port; skips when it cannot.

    Clients reach it at ``http://127.0.0.1:<port>`` (``BIGQUERY_EMULATOR_HOST``); its gRPC
    Storage API port is left to the OS (``--grpc-port 0``), since the tests read over REST.
    """
    exe = BQEMULATOR_VENV / "bin" / "bqemulator"
    if not exe.exists():
        pytest.skip(f"bqemulator is not installed at {exe}: run scripts/emulators.sh")
    port = free_port()
    command = [
        str(exe), "start", "--ephemeral", "--rest-host", "127.0.0.1", "--rest-port", str(port),
        "--grpc-host", "127.0.0.1", "--grpc-port", "0", "--project", BQEMULATOR_PROJECT,
        "--log-level", "warning",
    ]  # fmt: skip
    return _serve("bqemulator", command, port, log_dir)
