"""Processes for the out-of-process benchmarks: servers, workers, the load generators.

Every HTTP figure of ``csdesk bench`` is measured with its load coming from another
process (``wrk``, or ``python -m bench.loadgen``) against servers that are processes of
their own (``csdesk serve``, ``python -m bench.bare_server``): a platform does not share
our event loop, so neither may the benchmark's client.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

WRK = "/usr/bin/wrk"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


class Group:
    """Processes started together and stopped together (each by its own pid)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []

    def start(self, name: str, argv: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}-{len(self.procs)}.log").open("wb")
        self._logs.append(log)
        proc = subprocess.Popen(list(argv), env=env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self._logs:
            log.close()
        self.procs.clear()
        self._logs.clear()

    def tail(self) -> str:
        out = []
        for path in sorted(self.log_dir.glob("*.log")):
            out.append(f"--- {path.name}\n" + path.read_text(errors="replace")[-1500:])
        return "\n".join(out)


def wait_ready(url: str, procs: Sequence[subprocess.Popen[bytes]], timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a benchmark server exited while starting")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout_s:.0f} s")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSDESK_")}
    env.update(extra)
    return env


def csdesk_serve(group: Group, port: int, env: dict[str, str], *, reuse_port: bool) -> Any:
    argv = [sys.executable, "-m", "csdesk", "serve", "--port", str(port)]
    if reuse_port:
        argv.append("--reuse-port")
    return group.start("serve", argv, env)


def csdesk_worker(group: Group, env: dict[str, str]) -> Any:
    return group.start("worker", [sys.executable, "-m", "csdesk", "worker"], env)


def bare_serve(group: Group, port: int, secret: str, *, reuse_port: bool) -> Any:
    argv = [sys.executable, "-m", "bench.bare_server", "--port", str(port), "--secret", secret]
    if reuse_port:
        argv.append("--reuse-port")
    return group.start("bare", argv, clean_env())


# --- wrk -------------------------------------------------------------------------------

WRK_SCRIPT = """
local sigs, bodies, n, i = {}, {}, 0, 0
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  for line in io.lines(args[1] .. "." .. tid) do
    local sig, body = line:match("^(%S+)\\t(.*)$")
    n = n + 1
    sigs[n] = sig
    bodies[n] = body
  end
end
function request()
  i = i + 1
  if i > n then
    -- every body sent once: this thread is done (an event id is never repeated)
    wrk.thread:stop()
    i = 1
  end
  return wrk.format("POST", "/api/v1/events",
    {["Content-Type"] = "application/json", ["X-Csdesk-Signature"] = sigs[i]}, bodies[i])
end
"""


def write_wrk_bodies(
    directory: Path, signed: Sequence[tuple[str, bytes]], threads: int
) -> tuple[Path, Path]:
    """The Lua script and one body file per wrk thread (each thread its own share; a thread
    stops once it has sent its share, so no event id is sent twice and a phase is bounded
    by its bodies as well as by its time)."""
    script = directory / "events.lua"
    script.write_text(WRK_SCRIPT)
    stem = directory / "bodies"
    for thread in range(threads):
        with Path(f"{stem}.{thread}").open("wb") as out:
            for signature, body in signed[thread::threads]:
                out.write(signature.encode() + b"\t" + body + b"\n")
    return script, stem


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    non_2xx: int
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if found is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """wrk's report (run with ``--latency``) as figures."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if total is None:
        raise ValueError(f"no request count in wrk's output: {output[-400:]!r}")
    seconds = _ms(total.group(2) + total.group(3)) / 1000
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.M))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests=int(total.group(1)),
        seconds=seconds,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(g) for g in socket_errors.groups()) if socket_errors else 0,
        p50_ms=_ms(latency["50"]) if "50" in latency else float("nan"),
        p99_ms=_ms(latency["99"]) if "99" in latency else float("nan"),
    )


def run_wrk(
    url: str, script: Path, stem: Path, *, seconds: float, connections: int, threads: int = 2
) -> WrkResult:
    argv = [
        WRK,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
        "--",
        str(stem),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr[-400:]}")
    return parse_wrk(done.stdout)


def scratch_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
