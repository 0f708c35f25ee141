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
from dataclasses import dataclass
from pathlib import Path

import pytest

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
    port, log = free_port(), log_dir / "fakesnow.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(exe), "-s", "--host", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, port, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.skip(
                f"fakesnow exited with {process.returncode} (log {log}):\n{server.log_tail()}"
            )
        if _listening(port):
            return server
        time.sleep(0.2)
    server.stop()
    pytest.skip(f"fakesnow did not listen within {START_TIMEOUT_S:.0f}s (log {log})")


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
    port, log = free_port(), log_dir / "bqemulator.log"
    command = [
        str(exe), "start", "--ephemeral", "--rest-host", "127.0.0.1", "--rest-port", str(port),
        "--grpc-host", "127.0.0.1", "--grpc-port", "0", "--project", BQEMULATOR_PROJECT,
        "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, port, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.skip(
                f"bqemulator exited with {process.returncode} (log {log}):\n{server.log_tail()}"
            )
        if _listening(port):
            return server
        time.sleep(0.2)
    server.stop()
    pytest.skip(f"bqemulator did not listen within {START_TIMEOUT_S:.0f}s (log {log})")
