"""QC throughput: the auto-check per closed conversation, and the daily sampling job.

``qc_check``: :func:`csdesk.qc.check.check` with each role's default script over the
labelled transcripts (``tests/data/qc``, repeated), against the bare Aho-Corasick scan
(pyahocorasick, one automaton of the same forbidden phrases and extreme words, ``iter``
over each conversation's agent texts joined): how much the rules, normalisation and
context reading cost on top of finding the phrases at all.

``qc_sampling``: :func:`csdesk.actions.qc.sampling.sample_day` (the daily job's action) on
a real SQLite database over 100,000 conversations closed on one day across 200 agents,
every one already auto-checked. The rows are seeded with bulk Core INSERTs, not through
the event pipeline (that would take the benchmark's whole budget). The baseline is the
job's unavoidable read: the bare SELECT of that day's checked conversations joined to
their conversation rows.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import ahocorasick
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import make_url

from bench.ingest import pg_admin
from csdesk.actions.outbox import Deps
from csdesk.actions.qc.sampling import day_window, sample_day
from csdesk.actions.qc.scripts import current_version
from csdesk.actions.shops import ensure_shop
from csdesk.bus.memory import MemoryBus
from csdesk.qc import scripts as s
from csdesk.qc.check import Sender, Transcript, check, parse_transcript
from csdesk.qc.scripts import Script, default_script
from csdesk.routing import facts as loaded
from csdesk.routing.queues.memory import MemoryWorkQueue
from csdesk.settings import DatabaseSettings, sqlite_url
from csdesk.storage import migrate
from csdesk.storage.engine import create_engine, create_session_factory
from csdesk.storage.enums import Channel, ConversationStatus, ServiceRole, UserRole
from csdesk.storage.models import Conversation, User
from csdesk.storage.qc_models import QcCheck, QcSample, QcSampleDay

LABELLED = Path(__file__).resolve().parent.parent / "tests" / "data" / "qc"
SHOP = "bench-qc"


# -- qc_check ----------------------------------------------------------------------------------


def labelled_transcripts() -> list[Transcript]:
    return [
        parse_transcript(json.loads(path.read_text(encoding="utf-8"))["transcript"])
        for path in sorted(LABELLED.glob("*/*.json"))
    ]


def _timed(fn: Callable[[], None], count: int, seconds: float) -> float:
    """Conversations per second: ``fn`` handles ``count`` of them per call."""
    done = 0
    started = time.perf_counter()
    while True:
        fn()
        done += count
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return done / elapsed


def run_qc_check(
    *, conversations: int = 3000, seconds: float = 1.0, trials: int = 5
) -> dict[str, Any]:
    labelled = labelled_transcripts()
    transcripts = [labelled[i % len(labelled)] for i in range(conversations)]
    scripts: dict[ServiceRole, Script] = {role: default_script(role) for role in ServiceRole}
    phrases = {
        phrase
        for script in scripts.values()
        for phrase in (*script.forbidden_phrases, *s.EXTREME_WORDS)
    }
    automaton = ahocorasick.Automaton()
    for phrase in phrases:
        automaton.add_word(phrase, phrase)
    automaton.make_automaton()
    agent_texts = [
        "\n".join(m.text for m in t.messages if m.sender is Sender.AGENT) for t in transcripts
    ]
    pairs = [(t, scripts[t.role]) for t in transcripts]

    def ours() -> None:
        for transcript, script in pairs:
            check(transcript, script)

    def bare() -> None:
        for text in agent_texts:
            for _ in automaton.iter(text):
                pass

    ours()  # warm the caches (automata, OpenCC) outside the timing
    bare()
    runs = []
    for _ in range(trials):  # interleaved: a slow minute hits both sides
        base = _timed(bare, len(agent_texts), seconds)
        mine = _timed(ours, len(pairs), seconds)
        runs.append({"csdesk_per_s": round(mine, 1), "baseline_per_s": round(base, 1)})
    for run in runs:
        run["ratio"] = round(run["csdesk_per_s"] / run["baseline_per_s"], 4)
    chosen = sorted(runs, key=lambda r: r["ratio"])[(len(runs) - 1) // 2]
    return {
        "bench": "qc_check",
        **chosen,
        "conversations": conversations,
        "distinct_transcripts": len(labelled),
        "phrases": len(phrases),
        "runs": runs,
        "trials": {"of": "ratio", "values": [r["ratio"] for r in runs]},
    }


# -- qc_sampling -------------------------------------------------------------------------------

ROLES = (
    ServiceRole.PRESALES,
    ServiceRole.ORDER_REVIEW,
    ServiceRole.AFTERSALES_TRIAGE,
    ServiceRole.REFUND,
)


async def _seed(deps: Deps, day: date, conversations: int, agents: int, now: datetime) -> None:
    await ensure_shop(deps.sessions, SHOP, "质检压测店", now=now)
    async with deps.sessions() as session:
        tz = (await loaded.load_shop_context(session, SHOP)).routing.tz
    async with deps.sessions.begin() as session:
        versions = {role: (await current_version(session, SHOP, role, now)).id for role in ROLES}
    start, _ = day_window(day, tz)
    rng = random.Random(11)
    async with deps.sessions.begin() as session:
        users = [
            {
                "shop_id": SHOP,
                "username": f"bench-agent-{n}",
                "display_name": f"客服{n}",
                "role": UserRole.AGENT,
                "created_at": now,
            }
            for n in range(agents)
        ] + [
            {
                "shop_id": SHOP,
                "username": f"bench-qc-{n}",
                "display_name": f"质检{n}",
                "role": UserRole.QC_INSPECTOR,
                "created_at": now,
            }
            for n in range(6)
        ]
        await session.execute(insert(User), users)
        agent_ids = list(
            await session.scalars(
                select(User.id).where(User.shop_id == SHOP, User.role == UserRole.AGENT)
            )
        )
    chunk = 10_000
    for first in range(0, conversations, chunk):
        rows: list[dict[str, Any]] = []
        for n in range(first, min(first + chunk, conversations)):
            closed = start + timedelta(seconds=rng.uniform(60, 86_340))
            rows.append(
                {
                    "id": n + 1,
                    "shop_id": SHOP,
                    "channel": Channel.CHAT,
                    "role": ROLES[n % len(ROLES)].value,
                    "status": ConversationStatus.CLOSED,
                    "intent": "presales",
                    "risk": "high" if rng.random() < 0.01 else "low",
                    "assigned_agent_id": agent_ids[n % len(agent_ids)],
                    "opened_at": closed - timedelta(minutes=8),
                    "closed_at": closed,
                }
            )
        checks = [
            {
                "shop_id": SHOP,
                "conversation_id": row["id"],
                "script_version_id": versions[ServiceRole(row["role"])],
                "role": row["role"],
                "agent_id": row["assigned_agent_id"],
                "score": 90,
                "fatal_hits": 1 if rng.random() < 0.002 else 0,
                "hit_count": 1,
                "closed_at": row["closed_at"],
                "checked_at": row["closed_at"],
            }
            for row in rows
        ]
        async with deps.sessions.begin() as session:
            await session.execute(insert(Conversation), rows)
            await session.execute(insert(QcCheck), checks)


async def _bare_read(deps: Deps, start: datetime, end: datetime) -> int:
    async with deps.sessions() as session:
        rows = await session.execute(
            select(
                QcCheck.conversation_id,
                QcCheck.agent_id,
                QcCheck.role,
                QcCheck.closed_at,
                QcCheck.fatal_hits,
                Conversation.intent,
                Conversation.risk,
            )
            .join(Conversation, Conversation.id == QcCheck.conversation_id)
            .where(QcCheck.shop_id == SHOP, QcCheck.closed_at >= start, QcCheck.closed_at < end)
        )
        return len(rows.all())


async def _undraw(deps: Deps, day: date) -> None:
    async with deps.sessions.begin() as session:
        await session.execute(delete(QcSample).where(QcSample.shop_id == SHOP))
        await session.execute(delete(QcSampleDay).where(QcSampleDay.shop_id == SHOP))


async def run_qc_sampling(
    *,
    conversations: int = 100_000,
    agents: int = 200,
    trials: int = 3,
    database_url: str | None = None,
) -> dict[str, Any]:
    """On SQLite in a temp dir, or (``database_url``) in a scratch PostgreSQL database."""
    data_dir = Path(tempfile.mkdtemp(prefix="csdesk-bench-qc-"))
    engine = None
    scratch: str | None = None
    try:
        url = sqlite_url(data_dir)
        if database_url is not None:
            scratch = f"csdesk_bench_{uuid.uuid4().hex[:10]}"
            await pg_admin(database_url, f'CREATE DATABASE "{scratch}"')
            url = make_url(database_url).set(database=scratch).render_as_string(False)
        settings = DatabaseSettings(url=url)
        await asyncio.to_thread(migrate.upgrade, settings.url)
        engine = create_engine(settings)
        deps = Deps(create_session_factory(engine), MemoryBus(), MemoryWorkQueue())
        now = datetime.now(UTC)
        day = (now - timedelta(days=1)).date()
        seeding = time.perf_counter()
        await _seed(deps, day, conversations, agents, now)
        seed_s = time.perf_counter() - seeding
        async with deps.sessions() as session:
            tz = (await loaded.load_shop_context(session, SHOP)).routing.tz
        start, end = day_window(day, tz)
        runs = []
        for _ in range(trials):
            started = time.perf_counter()
            read = await _bare_read(deps, start, end)
            base_s = time.perf_counter() - started
            await _undraw(deps, day)
            started = time.perf_counter()
            picked = await sample_day(deps, SHOP, day, now)
            job_s = time.perf_counter() - started
            # Both sides must have done the whole work, or the ratio means nothing.
            assert read == conversations, read
            assert picked > 0
            runs.append(
                {
                    "job_s": round(job_s, 3),
                    "baseline_s": round(base_s, 3),
                    "ratio": round(base_s / job_s, 4),
                    "picked": picked,
                }
            )
        chosen = sorted(runs, key=lambda r: r["ratio"])[(len(runs) - 1) // 2]
        return {
            "bench": "qc_sampling",
            **chosen,
            "database": "sqlite" if scratch is None else "postgresql",
            "conversations": conversations,
            "agents": agents,
            "seed_s": round(seed_s, 1),
            "job_median_s": statistics.median(r["job_s"] for r in runs),
            "baseline_median_s": statistics.median(r["baseline_s"] for r in runs),
            "runs": runs,
            "trials": {"of": "ratio", "values": [r["ratio"] for r in runs]},
        }
    finally:
        if engine is not None:
            await engine.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)
        if scratch is not None and database_url is not None:
            await pg_admin(database_url, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


if __name__ == "__main__":
    print(json.dumps(run_qc_check(), ensure_ascii=False))
    print(json.dumps(asyncio.run(run_qc_sampling()), ensure_ascii=False))
