"""Ingest, out of process: acceptance and **routed throughput** of real ``csdesk serve``
processes against a bare aiohttp endpoint process, the load coming from another process.

Per trial (baseline and csdesk interleaved):

* the bare endpoint (``bench.bare_server``, ``procs`` processes sharing the port with
  SO_REUSEPORT) under ``wrk`` (2 threads, 32 connections) for ``accept_s``;
* csdesk on a fresh copy of a migrated database (``procs`` × ``csdesk serve --reuse-port``,
  and in server mode ``procs`` × ``csdesk worker``), the same ``wrk`` and the same kind of
  pre-signed bodies (a quarter ``order.created``, the rest buyer messages), every body a new
  event id. The database is sampled once a second (events stored, events no longer
  ``received``), during the load and for ``after_s`` after it: acceptance (wrk's rate),
  what was applied meanwhile, and the applier's rate once acceptance stopped.

Then the routed search, csdesk alone: a paced open-loop client (``bench.loadgen``, its
own process) offers a fixed rate for ``routed_s`` on a fresh database; the window after the
first seconds gives the applied rate and the backlog's growth. The first offer is the
median applier rate seen after the acceptance trials; while the backlog grows the next
offer is 90 % of what was applied (``bench.stats.next_rate``). **Routed** is the applied
rate of the highest offer whose backlog stayed flat (or, if none did, the last applied
rate, marked), over the bare endpoint's median acceptance rate.
"""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import sqlite3
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench import procs as bp
from bench.ingest import SECRET, SHOP, _event_body, pg_admin
from bench.stats import Sample, is_flat, median, next_rate, steady_window
from csdesk.ingest.signature import sign
from csdesk.storage import migrate

CONNECTIONS = 32
THREADS = 2

Counter = Callable[[], Awaitable[tuple[int, int]]]


def _signed(count: int) -> list[tuple[str, bytes]]:
    run = uuid.uuid4().hex[:8]
    out = []
    for n in range(count):
        body = _event_body(n, run)
        out.append((sign(body, SECRET), body))
    return out


class Instance:
    """One fresh csdesk deployment: its database, its processes, its event counter."""

    def __init__(
        self, mode: str, procs: int, template: str, root: Path, pg_url: str, redis_url: str
    ):
        self.mode, self.procs, self.template = mode, procs, template
        self.root = root / uuid.uuid4().hex[:8]
        self.root.mkdir()
        self.group = bp.Group(self.root)
        self.port = bp.free_port()
        self.pg_url, self.redis_url = pg_url, redis_url
        self.database: str | None = None
        self._conn: Any = None
        self.pids: list[int] = []

    async def start(self) -> None:
        env = bp.clean_env(
            CSDESK_WEBHOOK_SECRET=SECRET, CSDESK_SECRET_KEY="bench", CSDESK_DATA_DIR=str(self.root)
        )
        if self.mode == "embedded":
            shutil.copy(self.template, self.root / "csdesk.sqlite3")
        else:
            self.database = f"csdesk_bench_oopbench_{uuid.uuid4().hex[:8]}"
            await pg_admin(
                self.pg_url, f'CREATE DATABASE "{self.database}" TEMPLATE "{self.template}"'
            )
            url = make_url(self.pg_url).set(database=self.database)
            env.update(
                CSDESK_DATABASE_URL=url.render_as_string(hide_password=False),
                CSDESK_REDIS_URL=self.redis_url,
                CSDESK_REDIS_PREFIX=f"csdesk-bench-oop:{uuid.uuid4().hex[:8]}:",
            )
        serving = [
            bp.csdesk_serve(self.group, self.port, env, reuse_port=self.procs > 1)
            for _ in range(self.procs)
        ]
        self.pids = [p.pid for p in serving]
        if self.mode == "server":
            for _ in range(self.procs):
                bp.csdesk_worker(self.group, env)
        try:
            await asyncio.to_thread(bp.wait_ready, f"{self.url}/healthz", self.group.procs)
        except RuntimeError:
            print(self.group.tail(), file=sys.stderr)
            raise
        # Every process of the port answers before the load starts (SO_REUSEPORT spreads
        # new connections; a process still importing would take none).
        await asyncio.sleep(2.0 if self.procs > 1 else 0.5)
        await self._warm_up()

    async def _warm_up(self) -> None:
        """A few events through every process, waited for until applied (bounded): the
        first ones pay for lazy loading (the triage model, prepared statements)."""
        signed = _signed(16 * self.procs)
        await _loadgen(self.url, self.root, signed, rate=40.0, seconds=10.0)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            stored, applied = await self.counts()
            if stored and applied >= stored:
                return
            await asyncio.sleep(0.5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def counts(self) -> tuple[int, int]:
        """(events stored, events applied: no longer ``received``)."""
        query = (
            "SELECT count(*), coalesce(sum(CASE WHEN status <> 'received' THEN 1 ELSE 0 END), 0) "
            "FROM platform_event"
        )
        if self.mode == "embedded":

            def read() -> tuple[int, int]:
                conn = sqlite3.connect(f"file:{self.root / 'csdesk.sqlite3'}?mode=ro", uri=True)
                try:
                    conn.execute("PRAGMA busy_timeout = 5000")
                    row = conn.execute(query).fetchone()
                    return int(row[0]), int(row[1])
                finally:
                    conn.close()

            return await asyncio.to_thread(read)
        import asyncpg  # type: ignore[import-untyped]

        if self._conn is None:
            self._conn = await asyncpg.connect(
                host="127.0.0.1", port=5432, user="postgres", database=self.database
            )
        row = await self._conn.fetchrow(query)
        return int(row[0]), int(row[1])

    async def db_stats(self) -> dict[str, Any]:
        """Server mode: transactions and index/sequential scans per table so far (PostgreSQL's
        cumulative statistics of this scratch database)."""
        if self._conn is None:
            return {}
        await asyncio.sleep(0.8)  # the statistics are flushed about once a second
        xact = await self._conn.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1",
            self.database,
        )
        rows = await self._conn.fetch(
            "SELECT relname, coalesce(idx_scan, 0) + coalesce(seq_scan, 0) AS scans, "
            "n_tup_ins, n_tup_upd FROM pg_stat_user_tables ORDER BY relname"
        )
        return {
            "transactions": int(xact or 0),
            "tables": {
                r["relname"]: {"scans": r["scans"], "ins": r["n_tup_ins"], "upd": r["n_tup_upd"]}
                for r in rows
                if r["scans"] or r["n_tup_ins"] or r["n_tup_upd"]
            },
        }

    async def stop(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        self.group.stop()
        if self.database is not None:
            await pg_admin(self.pg_url, f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        shutil.rmtree(self.root, ignore_errors=True)


async def _sampled(
    instance: Instance, load: Awaitable[Any], after_s: float
) -> tuple[Any, list[Sample], float]:
    """Run ``load`` while sampling the counts once a second, then ``after_s`` more; returns
    its result, the samples, and the second the load ended."""
    samples: list[Sample] = []
    started = time.monotonic()
    task = asyncio.ensure_future(load)
    while not task.done():
        accepted, applied = await instance.counts()
        samples.append(Sample(time.monotonic() - started, accepted, applied))
        await asyncio.wait({task}, timeout=1.0)
    ended = time.monotonic() - started
    while time.monotonic() - started < ended + after_s:
        await asyncio.sleep(1.0)
        accepted, applied = await instance.counts()
        samples.append(Sample(time.monotonic() - started, accepted, applied))
    return task.result(), samples, ended


async def _wrk(
    url: str, directory: Path, signed: list[tuple[str, bytes]], seconds: float
) -> bp.WrkResult:
    script, stem = bp.write_wrk_bodies(directory, signed, THREADS)
    return await asyncio.to_thread(
        bp.run_wrk, f"{url}/api/v1/events", script, stem, seconds=seconds, connections=CONNECTIONS
    )


async def _loadgen(
    url: str, directory: Path, signed: list[tuple[str, bytes]], rate: float, seconds: float
) -> dict[str, Any]:
    path = directory / "paced.tsv"
    with path.open("wb") as out:
        for signature, body in signed:
            out.write(signature.encode() + b"\t" + body + b"\n")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.loadgen",
        "--url",
        f"{url}/api/v1/events",
        "--bodies",
        str(path),
        "--rate",
        f"{rate:.1f}",
        "--seconds",
        f"{seconds:.1f}",
        stdout=asyncio.subprocess.PIPE,
    )
    printed, _ = await proc.communicate()
    result: dict[str, Any] = json.loads(printed.decode().strip().splitlines()[-1])
    return result


async def _template(mode: str, root: Path, pg_url: str) -> str:
    from sqlalchemy.ext.asyncio import create_async_engine

    from csdesk.actions.shops import ensure_shop
    from csdesk.storage.engine import create_session_factory

    if mode == "embedded":
        path = root / "template.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        name = f"csdesk_bench_oopbench_tmpl_{uuid.uuid4().hex[:6]}"
        await pg_admin(pg_url, f'CREATE DATABASE "{name}"')
        url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(migrate.upgrade, url)
    engine = create_async_engine(url)
    try:
        await ensure_shop(create_session_factory(engine), SHOP, "压测店")
    finally:
        await engine.dispose()
    return str(path) if mode == "embedded" else name


def _log(message: str) -> None:
    print(f"bench:   {message}", file=sys.stderr, flush=True)


async def _drained(instance: Instance, limit_s: float) -> tuple[float, float]:
    """Wait (bounded) until every stored event is applied; (seconds waited, applied rate
    meanwhile)."""
    started = time.monotonic()
    _, first = await instance.counts()
    applied = first
    while time.monotonic() - started < limit_s:
        stored, applied = await instance.counts()
        if applied >= stored:
            break
        await asyncio.sleep(0.5)
    waited = time.monotonic() - started
    return waited, (applied - first) / waited if waited > 0.5 else 0.0


async def run_oop_ingest(
    *,
    mode: str,
    procs: int = 1,
    trials: int = 3,
    accept_s: float = 6.0,
    accept_cap: int = 4000,
    after_s: float = 4.0,
    routed_s: float = 12.0,
    steps: int = 3,
    drain_limit_s: float = 45.0,
    pg_url: str = "",
    redis_url: str = "",
    profile_dir: Path | None = None,
) -> dict[str, Any]:
    """One deployment of ``procs`` csdesk processes (and the bare endpoint's as many), both
    started once; baseline and csdesk acceptance trials interleaved, then the routed search
    (see the module). Every phase starts with csdesk's backlog empty (waited for, bounded)."""
    root = bp.scratch_dir("csdesk-oopbench-")
    template = await _template(mode, root, pg_url)
    load_averages = [bp.load_average()]
    bare_group = bp.Group(root)
    bare_port = bp.free_port()
    bare_url = f"http://127.0.0.1:{bare_port}"
    instance = Instance(mode, procs, template, root, pg_url, redis_url)
    try:
        bare = [
            bp.bare_serve(bare_group, bare_port, SECRET, reuse_port=procs > 1) for _ in range(procs)
        ]
        await asyncio.to_thread(bp.wait_ready, f"{bare_url}/healthz", bare)
        await instance.start()
        bare_runs: list[dict[str, Any]] = []
        accept_runs: list[dict[str, Any]] = []
        for trial in range(trials):
            result = await _wrk(bare_url, root, _signed(int(accept_s * 3000)), accept_s)
            bare_runs.append(
                {
                    "rps": round(result.per_second, 1),
                    "p50_ms": _ms(result.p50_ms),
                    "p99_ms": _ms(result.p99_ms),
                    "non_2xx": result.non_2xx,
                }
            )
            await _drained(instance, drain_limit_s)
            stored0, applied0 = await instance.counts()
            result, samples, ended = await _sampled(
                instance, _wrk(instance.url, root, _signed(accept_cap), accept_s), after_s
            )
            during = [s for s in samples if s.t <= ended]
            after = [s for s in samples if s.t >= ended - 0.01]
            drain = (
                (after[-1].applied - after[0].applied) / (after[-1].t - after[0].t)
                if len(after) >= 2 and after[-1].t > after[0].t
                else 0.0
            )
            accept_runs.append(
                {
                    "rps": round(result.per_second, 1),
                    "requests": result.requests,
                    "p50_ms": _ms(result.p50_ms),
                    "p99_ms": _ms(result.p99_ms),
                    "non_2xx": result.non_2xx,
                    "errors": result.errors,
                    "applied_during_load_per_s": round(
                        (during[-1].applied - applied0) / during[-1].t, 1
                    )
                    if during and during[-1].t
                    else 0.0,
                    "applier_after_load_per_s": round(drain, 1),
                    "stored": samples[-1].accepted - stored0,
                }
            )
            load_averages.append(bp.load_average())
            _log(
                f"{mode}×{procs} trial {trial + 1}: bare {bare_runs[-1]['rps']}/s, "
                f"csdesk {accept_runs[-1]['rps']}/s, "
                f"applier {accept_runs[-1]['applier_after_load_per_s']}/s"
            )
        bare_rps = median([r["rps"] for r in bare_runs])
        accept_rps = median([r["rps"] for r in accept_runs])
        # The routed search starts at what the applier did with the door closed.
        rate = max(5.0, median([r["applier_after_load_per_s"] for r in accept_runs]))
        search: list[dict[str, Any]] = []
        routed: dict[str, Any] | None = None
        for step in range(steps):
            await _drained(instance, drain_limit_s)
            count = int(rate * routed_s * 1.1) + 100
            before = await instance.db_stats() if mode == "server" else {}
            _, applied0 = await instance.counts()
            profiler = None
            if profile_dir is not None and step == 0:
                profiler = await _start_profile(
                    instance.pids[0], profile_dir, f"{mode}-{procs}", routed_s
                )
            offered, samples, _ = await _sampled(
                instance, _loadgen(instance.url, root, _signed(count), rate, routed_s), 0.0
            )
            if profiler is not None:
                await profiler.wait()
            window = steady_window(samples, skip_s=min(3.0, routed_s / 4))
            flat = is_flat(window, offered["offered_per_s"])
            after_stats = await instance.db_stats() if mode == "server" else {}
            entry: dict[str, Any] = {
                "offered_per_s": offered["offered_per_s"],
                "applied_per_s": round(window.applied_per_s, 1),
                "accepted_per_s": round(window.accepted_per_s, 1),
                "backlog_growth_per_s": round(window.backlog_growth_per_s, 1),
                "backlog_end": window.backlog_end,
                "flat": flat,
                "post_p50_ms": offered["p50_ms"],
                "post_p99_ms": offered["p99_ms"],
                "statuses": offered["statuses"],
                "errors": offered["errors"],
            }
            if before and after_stats:
                entry["db_per_event"] = _per_event(
                    before, after_stats, samples[-1].applied - applied0
                )
            search.append(entry)
            load_averages.append(bp.load_average())
            _log(
                f"{mode}×{procs} routed step {step + 1}: offered {entry['offered_per_s']}/s, "
                f"applied {entry['applied_per_s']}/s, backlog {entry['backlog_growth_per_s']:+}/s"
            )
            if flat:
                routed = entry
                break
            rate = next_rate(offered["offered_per_s"], window)
        chosen = routed or search[-1]
        return {
            "bench": "ingest_embedded"
            if mode == "embedded"
            else ("ingest_server" if procs == 1 else f"ingest_server_{procs}"),
            "mode": mode,
            "procs": procs,
            "method": "out-of-process (wrk / bench.loadgen → csdesk serve)",
            "baseline_rps": bare_rps,
            "csdesk_rps": accept_rps,
            "accept_ratio": round(accept_rps / bare_rps, 3) if bare_rps else 0.0,
            "routed_per_s": chosen["applied_per_s"],
            "routed_flat": routed is not None,
            "ratio": round(chosen["applied_per_s"] / bare_rps, 4) if bare_rps else 0.0,
            "baseline_runs": bare_runs,
            "accept_runs": accept_runs,
            "routed_search": search,
            "trials": {"of": "csdesk_rps", "values": [r["rps"] for r in accept_runs]},
            "load_average": load_averages,
            "seconds": {"accept": accept_s, "after": after_s, "routed": routed_s},
        }
    finally:
        await instance.stop()
        bare_group.stop()
        if mode == "server":
            await pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        shutil.rmtree(root, ignore_errors=True)


def _ms(value: float) -> float | None:
    """wrk's percentile, or None when its report had none (JSON has no NaN)."""
    return None if math.isnan(value) else round(value, 2)


def _per_event(before: dict[str, Any], after: dict[str, Any], applied: int) -> dict[str, Any]:
    if not applied:
        return {}
    tables = {}
    for name, now in after["tables"].items():
        was = before["tables"].get(name, {"scans": 0, "ins": 0, "upd": 0})
        scans = (now["scans"] - was["scans"]) / applied
        writes = (now["ins"] - was["ins"] + now["upd"] - was["upd"]) / applied
        if scans >= 0.05 or writes >= 0.05:
            tables[name] = {"scans": round(scans, 2), "rows_written": round(writes, 2)}
    return {
        "events": applied,
        "transactions": round((after["transactions"] - before["transactions"]) / applied, 2),
        "tables": tables,
    }


async def _start_profile(pid: int, directory: Path, name: str, seconds: float) -> Any:
    spy = Path(sys.executable).parent / "py-spy"

    def ready() -> bool:
        directory.mkdir(parents=True, exist_ok=True)
        return spy.exists()

    if not await asyncio.to_thread(ready):
        return None
    return await asyncio.create_subprocess_exec(
        str(spy),
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(int(seconds)),
        "--rate",
        "50",
        "--format",
        "raw",
        "--output",
        str(directory / f"{name}.txt"),
        "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
