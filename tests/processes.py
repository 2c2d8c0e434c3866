"""Real csdesk processes for fault, backup and soak tests: ``csdesk serve`` and ``csdesk
worker`` as subprocesses, stopped (or killed with SIGKILL) by the test.

Each process runs ``python -m csdesk`` with an environment built from the test's backends
only (no CSDESK_* variable of the calling shell leaks in), logs to a file in the test's
tmp dir, and is always reaped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from csdesk.ingest.signature import sign
from tests.conftest import WEBHOOK_SECRET

START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def csdesk_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CSDESK_") or key == "CSDESK_INSECURE_FAST_PASSWORD_HASH"
    }
    env.update(
        CSDESK_WEBHOOK_SECRET=WEBHOOK_SECRET,
        CSDESK_SECRET_KEY="process-test-secret",
        CSDESK_DATA_DIR=str(data_dir),
        CSDESK_INSECURE_FAST_PASSWORD_HASH="1",
    )
    env.update(extra)
    return env


class Process:
    """One ``python -m csdesk ARGS`` subprocess."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args = args
        self.env = env
        self.log_path = log
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "csdesk", *args],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill9(self) -> None:
        """SIGKILL: no shutdown hook, no flush, no goodbye."""
        if self.alive:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


class WebProcess(Process):
    """``csdesk serve`` on a port of 127.0.0.1 (the same port again after a restart)."""

    def __init__(self, env: dict[str, str], log: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(["serve", "--host", "127.0.0.1", "--port", str(self.port)], env, log)

    def restart(self) -> WebProcess:
        self.stop()
        return WebProcess(self.env, self.log_path, self.port)

    async def wait_ready(self, http: aiohttp.ClientSession) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if not self.alive:
                raise AssertionError(f"csdesk serve exited:\n{self.log_tail()}")
            try:
                async with http.get(f"{self.url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.url} did not answer /healthz:\n{self.log_tail()}")


class WorkerProcess(Process):
    def __init__(self, env: dict[str, str], log: Path) -> None:
        super().__init__(["worker"], env, log)

    def restart(self) -> WorkerProcess:
        self.stop()
        return WorkerProcess(self.env, self.log_path)


def signed_headers(body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Csdesk-Signature": sign(body, WEBHOOK_SECRET)}


async def post_signed(http: aiohttp.ClientSession, url: str, body: bytes) -> int:
    """POST one event; the status, or 0 when the process was not there to answer."""
    try:
        async with http.post(
            f"{url}/api/v1/events", data=body, headers=signed_headers(body)
        ) as response:
            await response.read()
            return response.status
    except (TimeoutError, aiohttp.ClientError):
        return 0


# -- private servers the fault tests may restart (never the shared ones) -------------------


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own in a tmp dir, on a free port of 127.0.0.1,
    started with ``initdb``/``pg_ctl`` (as the ``postgres`` user when running as root:
    initdb refuses root). Only this cluster is ever stopped or restarted by a test."""

    def __init__(self, folder: Path) -> None:
        bin_dir = _pg_bin()
        if bin_dir is None:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
        self.bin = bin_dir
        self.folder = folder
        self.data = folder / "pgdata"
        self.port = free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            subprocess.run(["chown", "-R", "postgres:postgres", str(folder)], check=True)
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync",
            "-E", "UTF8", "--locale=C",
        )  # fmt: skip

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "pg.log"),
            "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.stop("immediate")


class PrivateRedis:
    """A redis-server of the test's own on a free port (nothing saved): restarting it loses
    every key, as a Redis crash without persistence would."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 1),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def close(self) -> None:
        self.kill()
