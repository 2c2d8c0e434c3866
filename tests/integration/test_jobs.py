"""Job runners: in-process (embedded) and arq with a real worker on real Redis (server)."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from arq.connections import ArqRedis, create_pool
from arq.connections import RedisSettings as ArqRedisSettings
from arq.worker import Worker, create_worker
from pytest_aiohttp import AiohttpClient
from redis.asyncio import Redis
from sqlalchemy import select

from csdesk.app import create_app
from csdesk.bus.memory import MemoryBus
from csdesk.clock import utcnow
from csdesk.jobs import JOBS_KEY, jobs_ctx
from csdesk.jobs.base import JobContext, JobSettings, UnknownJobError
from csdesk.jobs.inline import InlineJobRunner
from csdesk.jobs.registry import REGISTRY, CronEntry, Registry
from csdesk.jobs.worker import (
    ArqJobRunner,
    WorkerSettings,
    arq_functions,
    arq_queue_name,
    run_worker,
    worker_options,
)
from csdesk.keys import SESSIONS_KEY
from csdesk.routing.queues import QUEUE_KEY, MemoryWorkQueue, queue_ctx
from csdesk.settings import Settings, sqlite_url
from csdesk.storage.engine import SessionFactory, create_engine, create_session_factory
from csdesk.storage.enums import UserRole
from csdesk.storage.models import Shop, User, WebSession
from tests.conftest import make_settings
from tests.services import REDIS_URL, require

# --- in-process runner ------------------------------------------------------------------------


@pytest.fixture
async def job_ctx(tmp_path: Path) -> AsyncIterator[JobContext]:
    """Real objects, nothing connected: the runner tests never touch the database."""
    settings = make_settings(tmp_path, sqlite_url(tmp_path), None)
    engine = create_engine(settings.database)
    yield JobContext(
        settings=settings,
        engine=engine,
        sessions=create_session_factory(engine),
        redis=None,
        bus=MemoryBus(),
        queue=MemoryWorkQueue(),
    )
    await engine.dispose()


RunnerFactory = Callable[..., Awaitable[InlineJobRunner]]


@pytest.fixture
async def start_runner(job_ctx: JobContext) -> AsyncIterator[RunnerFactory]:
    runners: list[InlineJobRunner] = []

    async def start(registry: Registry, settings: JobSettings | None = None) -> InlineJobRunner:
        runner = InlineJobRunner(job_ctx, registry=registry, settings=settings)
        await runner.start()
        runners.append(runner)
        return runner

    yield start
    for runner in runners:
        await runner.stop()


async def test_inline_runs_an_enqueued_job_without_waiting_for_it(
    start_runner: RunnerFactory,
) -> None:
    gate = asyncio.Event()
    seen: asyncio.Queue[tuple[str, int]] = asyncio.Queue()

    async def record(ctx: JobContext, value: int) -> int:
        await gate.wait()
        await seen.put((ctx.get("job_id", ""), value))
        return value

    runner = await start_runner(Registry(functions=(record,)))

    # Returns while the job is still blocked: enqueue never waits for the job.
    assert await asyncio.wait_for(runner.enqueue("record", 7, job_id="j-1"), 1) is True
    assert seen.empty()
    gate.set()
    assert await asyncio.wait_for(seen.get(), 5) == ("j-1", 7)
    await runner.join()
    assert (runner.jobs_complete, runner.jobs_failed) == (1, 0)


async def test_inline_deferred_job_runs_after_its_delay(start_runner: RunnerFactory) -> None:
    order: list[str] = []
    both_done = asyncio.Event()

    async def record(ctx: JobContext, label: str) -> int:
        order.append(label)
        if len(order) == 2:
            both_done.set()
        return 1

    runner = await start_runner(Registry(functions=(record,)))
    await runner.enqueue("record", "deferred", defer_s=0.05)
    await runner.enqueue("record", "now")

    await asyncio.wait_for(both_done.wait(), 5)
    assert order == ["now", "deferred"]


async def test_inline_job_id_runs_once(start_runner: RunnerFactory) -> None:
    runs: list[str] = []

    async def record(ctx: JobContext, label: str) -> int:
        runs.append(label)
        return 1

    registry = Registry(functions=(record,))
    runner = await start_runner(registry)

    assert await runner.enqueue("record", "first", job_id="chase:42", defer_s=0.01) is True
    assert await runner.enqueue("record", "second", job_id="chase:42") is False  # pending
    await runner.join()
    assert await runner.enqueue("record", "third", job_id="chase:42") is False  # kept result
    await runner.join()
    assert runs == ["first"]

    # With no result kept, the same id may run again once the first run has finished.
    forgetful = await start_runner(registry, JobSettings(keep_result_s=0))
    assert await forgetful.enqueue("record", "a", job_id="x") is True
    await forgetful.join()
    assert await forgetful.enqueue("record", "b", job_id="x") is True
    await forgetful.join()
    assert runs == ["first", "a", "b"]


async def test_inline_failing_job_is_logged_and_the_runner_goes_on(
    start_runner: RunnerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(ctx: JobContext) -> int:
        raise ValueError("broken on purpose")

    async def hang(ctx: JobContext) -> int:
        await asyncio.Event().wait()
        return 0

    async def ok(ctx: JobContext) -> int:
        return 1

    runner = await start_runner(
        Registry(functions=(boom, hang, ok)), JobSettings(job_timeout_s=0.05)
    )
    with caplog.at_level(logging.ERROR, logger="csdesk.jobs.inline"):
        await runner.enqueue("boom", job_id="b-1")
        await runner.enqueue("hang", job_id="h-1")  # cancelled by its timeout
        await runner.enqueue("ok")
        await runner.join()
        await runner.enqueue("ok")
        await runner.join()

    assert (runner.jobs_complete, runner.jobs_failed) == (2, 2)
    messages = [r.getMessage() for r in caplog.records]
    assert "job boom (b-1) failed" in messages
    assert "job hang (h-1) failed" in messages
    assert any(r.exc_info and r.exc_info[0] is ValueError for r in caplog.records)


async def test_inline_runs_at_most_max_jobs_at_once(start_runner: RunnerFactory) -> None:
    running = 0
    peak = 0
    two_running = asyncio.Event()
    gate = asyncio.Event()

    async def busy(ctx: JobContext) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 2:
            two_running.set()
        await gate.wait()
        running -= 1
        return 1

    runner = await start_runner(Registry(functions=(busy,)), JobSettings(max_jobs=2))
    for _ in range(6):
        await runner.enqueue("busy")
    await asyncio.wait_for(two_running.wait(), 5)
    for _ in range(10):
        await asyncio.sleep(0)  # time for a third job to start, if the limit leaked
    gate.set()
    await runner.join()

    assert (peak, runner.jobs_complete) == (2, 6)


async def test_inline_stop_cancels_pending_and_running_jobs(job_ctx: JobContext) -> None:
    started = asyncio.Event()
    cancelled: list[str] = []
    ran: list[str] = []

    async def work(ctx: JobContext, label: str) -> int:
        ran.append(label)
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(label)
            raise
        return 1

    runner = InlineJobRunner(job_ctx, registry=Registry(functions=(work,)))
    await runner.start()
    await runner.enqueue("work", "running")
    await runner.enqueue("work", "later", defer_s=3600)
    await asyncio.wait_for(started.wait(), 5)

    await asyncio.wait_for(runner.stop(), 5)

    assert ran == ["running"]
    assert cancelled == ["running"]
    with pytest.raises(RuntimeError, match="not running"):
        await runner.enqueue("work", "after")


async def test_inline_cron_entries_run_on_their_schedule(start_runner: RunnerFactory) -> None:
    ticks: asyncio.Queue[str] = asyncio.Queue()

    async def tick(ctx: JobContext) -> int:
        await ticks.put(ctx.get("job_id", ""))
        return 1

    # Every second (second=None), and once at start-up.
    await start_runner(
        Registry(functions=(), cron=(CronEntry(tick, second=None, run_at_startup=True),))
    )

    first = await asyncio.wait_for(ticks.get(), 5)
    second = await asyncio.wait_for(ticks.get(), 5)
    assert first.startswith("cron:tick:")
    assert second.startswith("cron:tick:")
    assert first != second


async def test_unknown_job_names_are_refused(start_runner: RunnerFactory) -> None:
    runner = await start_runner(Registry(functions=REGISTRY.functions))  # no cron timers
    with pytest.raises(UnknownJobError, match="no job named 'nope'"):
        await runner.enqueue("nope")


# --- arq --------------------------------------------------------------------------------------


@pytest.fixture
def arq_settings(tmp_path: Path, redis_prefix: str) -> Settings:
    require("redis")
    return make_settings(tmp_path, sqlite_url(tmp_path), REDIS_URL, redis_prefix)


@pytest.fixture
async def arq_keys(redis_prefix: str) -> AsyncIterator[None]:
    """arq keeps job, result, retry and in-progress keys as ``arq:<kind>:<job id>``, outside
    our prefix; our job ids start with the prefix, so these are this test's own to delete."""
    yield
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"arq:*{redis_prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def arq_redis(arq_settings: Settings, arq_keys: None) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(
        ArqRedisSettings.from_dsn(REDIS_URL), default_queue_name=arq_queue_name(arq_settings)
    )
    yield pool
    await pool.aclose()


def burst_worker(registry: Registry, redis: ArqRedis, settings: Settings) -> Worker:
    return Worker(
        arq_functions(registry),
        queue_name=arq_queue_name(settings),
        redis_pool=redis,
        burst=True,
        poll_delay=0.01,
        handle_signals=False,
    )


async def test_arq_runner_enqueues_and_a_real_worker_runs_the_jobs(
    arq_redis: ArqRedis, arq_settings: Settings, redis_prefix: str
) -> None:
    async def add(ctx: JobContext, key: str, value: int) -> int:
        redis = ctx["redis"]
        assert redis is not None
        await redis.incrby(key, value)
        return value

    registry = Registry(functions=(add,))
    runner = ArqJobRunner(arq_redis, arq_settings, registry=registry)
    once, later = f"{redis_prefix}once", f"{redis_prefix}later"

    assert await runner.enqueue("add", once, 1, job_id="only-once") is True
    assert await runner.enqueue("add", once, 1, job_id="only-once") is False
    assert await runner.enqueue("add", later, 5, defer_s=0.2) is True
    with pytest.raises(UnknownJobError):
        await runner.enqueue("nope")
    assert await arq_redis.zcard(arq_queue_name(arq_settings)) == 2

    # Burst mode: runs what is queued, deferred jobs included, then returns.
    worker = burst_worker(registry, arq_redis, arq_settings)
    assert await worker.run_check() == 2

    assert await arq_redis.get(once) == b"1"
    assert await arq_redis.get(later) == b"5"
    # The id stays taken while arq keeps the result.
    assert await runner.enqueue("add", once, 1, job_id="only-once") is False


async def test_arq_failing_job_does_not_stop_the_worker(
    arq_redis: ArqRedis, arq_settings: Settings, redis_prefix: str
) -> None:
    async def boom(ctx: JobContext) -> int:
        raise ValueError("broken on purpose")

    async def mark(ctx: JobContext, key: str) -> int:
        redis = ctx["redis"]
        assert redis is not None
        await redis.set(key, 1)
        return 1

    registry = Registry(functions=(boom, mark))
    runner = ArqJobRunner(arq_redis, arq_settings, registry=registry)
    await runner.enqueue("boom")
    await runner.enqueue("mark", f"{redis_prefix}marked")

    worker = burst_worker(registry, arq_redis, arq_settings)
    await worker.async_run()

    assert (worker.jobs_complete, worker.jobs_failed) == (1, 1)
    assert await arq_redis.get(f"{redis_prefix}marked") == b"1"


async def test_arq_runner_on_a_shared_pool_leaves_the_pool_open(
    arq_settings: Settings, arq_keys: None
) -> None:
    client = Redis.from_url(REDIS_URL)
    try:
        runner = ArqJobRunner.on_pool_of(client, arq_settings)
        await runner.start()
        assert await runner.enqueue("purge_expired_sessions", defer_s=3600) is True
        await runner.stop()
        assert await client.zcard(arq_queue_name(arq_settings)) == 1  # still usable
    finally:
        await client.aclose()


async def test_worker_settings_register_the_whole_registry(arq_settings: Settings) -> None:
    options = worker_options(arq_settings)
    worker = create_worker(WorkerSettings, **options, handle_signals=False)

    assert set(worker.functions) == {
        *REGISTRY.by_name,
        *(f"{arq_settings.redis.key_prefix}{entry.name}" for entry in REGISTRY.cron),
    }
    assert worker.queue_name == f"{arq_settings.redis.key_prefix}arq:queue"
    assert worker.poll_delay_s == JobSettings().poll_delay_s < 0.5
    assert str(worker.timezone) == "UTC"


def test_worker_refuses_embedded_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    embedded = make_settings(tmp_path, sqlite_url(tmp_path), None)

    assert run_worker(embedded) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (
        "csdesk worker: the arq worker needs CSDESK_REDIS_URL (embedded mode runs jobs in-process)"
    )


@pytest.mark.parametrize("raw", ["soon", "-1", "nan"])
def test_worker_refuses_a_bad_poll_delay(
    raw: str,
    arq_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CSDESK_JOBS_POLL_DELAY_S", raw)

    assert run_worker(arq_settings) == 2

    err = capsys.readouterr().err
    assert err.startswith("csdesk worker: CSDESK_JOBS_POLL_DELAY_S must be")
    assert repr(raw) in err


# --- housekeeping, through both runners -------------------------------------------------------


async def _add_sessions(sessions: SessionFactory) -> dict[str, int]:
    """Two shops, each with an expired and a live session; returns ids by label."""
    now = utcnow()
    ids: dict[str, int] = {}
    async with sessions.begin() as session:
        for shop_id in ("shop-a", "shop-b"):
            if await session.get(Shop, shop_id) is None:
                session.add(Shop(id=shop_id, name=shop_id, created_at=now, config={}))
            user = User(
                shop_id=shop_id,
                username=f"agent-{shop_id}",
                display_name="小美",
                role=UserRole.AGENT,
                password_hash=None,
                created_at=now,
            )
            session.add(user)
            await session.flush()
            for label, expires in (
                ("expired", -timedelta(seconds=1)),
                ("live", timedelta(hours=1)),
            ):
                row = WebSession(
                    shop_id=shop_id,
                    user_id=user.id,
                    key_hash=f"{shop_id}-{label}".ljust(64, "0"),
                    csrf_token="csrf",
                    created_at=now - timedelta(hours=12),
                    expires_at=now + expires,
                )
                session.add(row)
                await session.flush()
                ids[f"{shop_id}/{label}"] = row.id
    return ids


async def _session_ids(sessions: SessionFactory) -> set[int]:
    async with sessions() as session:
        return set(await session.scalars(select(WebSession.id)))


@pytest.fixture
async def jobs_app(
    settings: Settings, aiohttp_client: AiohttpClient, arq_keys: None
) -> web.Application:
    """The app with the queue index and the job runner, as create_app will have them."""
    app = create_app(settings)
    for ctx in (queue_ctx, jobs_ctx):
        if ctx not in app.cleanup_ctx:
            app.cleanup_ctx.append(ctx)
    test_client = await aiohttp_client(app)
    return test_client.app


async def test_purge_expired_sessions_deletes_only_expired_rows(
    jobs_app: web.Application, settings: Settings
) -> None:
    app = jobs_app
    sessions = app[SESSIONS_KEY]
    ids = await _add_sessions(sessions)
    runner = app[JOBS_KEY]

    assert await runner.enqueue("purge_expired_sessions") is True
    if isinstance(runner, InlineJobRunner):
        await runner.join()
        assert runner.jobs_complete == 1
    else:
        # Server mode: the web process only enqueued; run the real worker over that queue.
        assert isinstance(runner, ArqJobRunner)
        options = worker_options(settings) | {"burst": True, "handle_signals": False}
        worker = create_worker(WorkerSettings, **options)
        try:
            assert await worker.run_check() >= 1
        finally:
            with warnings.catch_warnings():
                # arq 0.28 closes its pool with redis-py's deprecated close().
                warnings.filterwarnings("ignore", "Call to deprecated close", DeprecationWarning)
                await worker.close()

    assert await _session_ids(sessions) == {ids["shop-a/live"], ids["shop-b/live"]}
    assert isinstance(app[QUEUE_KEY], MemoryWorkQueue) == (settings.redis.url is None)
