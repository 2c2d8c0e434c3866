"""A week of QC history for the demo shop, written through the QC actions: the auto-check
of every conversation closed in the last 7 days, the buyers' ratings of some of them (the
same action as ``rating.received``; the low ones are in the samples' spotlight), each
day's sample, the inspector's scores
of all but the last day (findings against the agents, a few disputed and resolved), an
open calibration session waiting for the ``qc`` login, and an improvement proposal. The
``qc`` login lands on the last day's queue; ``trainer`` on the findings and reports.

Deterministic: the clock is the anchor and every choice comes from ``rng``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select

from csdesk.actions import shop_config
from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.qc import calibration, checks, disputes, proposals, sampling, scoring
from csdesk.actions.ratings import RatingSpec, record_rating
from csdesk.auth.current import CurrentUser
from csdesk.bus.memory import MemoryBus
from csdesk.errors import CsdeskError
from csdesk.routing import facts as loaded
from csdesk.routing.queues.memory import MemoryWorkQueue
from csdesk.seed.ratings import RATED_SHARE, buyer_rating
from csdesk.seed.timeline import local_date, local_midnight
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ConversationStatus
from csdesk.storage.kinds import BUYER_FACING_KINDS
from csdesk.storage.models import Buyer, Conversation, User
from csdesk.storage.qc_models import QcFinding, QcSample

HISTORY_DAYS: Final = 7
SCORED_DAYS: Final = 5
"""The inspector has scored every sampled conversation of the first 5 of the 7 days."""
DISPUTE_SHARE: Final = 0.15
CALIBRATION_UNITS: Final = 3
DEMO_QC_CONFIG: Final[dict[str, Any]] = {
    "qc": {
        "dispute_days": 7,
        "sampling": {"kind": "iso2859", "level": "II", "aql": "2.5", "lot_by": "role_day"},
    }
}


@dataclass(frozen=True)
class QcSeedCounts:
    checked: int
    sampled: int
    scored: int
    disputed: int
    rated: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "checked": self.checked,
            "rated": self.rated,
            "sampled": self.sampled,
            "scored": self.scored,
            "disputed": self.disputed,
        }


def _as_current(user: User) -> CurrentUser:
    return CurrentUser(user.id, user.shop_id, user.username, user.display_name, user.role, False)


async def _login(sessions: SessionFactory, shop_id: str, username: str) -> CurrentUser | None:
    async with sessions() as session:
        user = await session.scalar(
            select(User).where(User.shop_id == shop_id, User.username == username)
        )
    return _as_current(user) if user is not None else None


def _manual(rng: random.Random) -> dict[str, Any]:
    return {
        "accuracy": {"rating": rng.choice((3, 4, 4, 5, 5, 5))},
        "solved": {"rating": rng.choice((2, 4, 5, 5, 5))},
        "privacy": {"rating": 1},
    }


async def seed_qc(
    sessions: SessionFactory, shop_id: str, anchor: datetime, rng: random.Random
) -> QcSeedCounts:
    deps = Deps(sessions, MemoryBus(), MemoryWorkQueue())
    since = anchor - timedelta(days=HISTORY_DAYS)
    async with sessions() as session:
        closed = list(
            (
                await session.execute(
                    select(Conversation.id, Conversation.closed_at)
                    .where(
                        Conversation.shop_id == shop_id,
                        Conversation.status == ConversationStatus.CLOSED,
                        Conversation.kind.not_in(checks.BACK_OFFICE_KINDS),
                        Conversation.closed_at >= since,
                        Conversation.closed_at < anchor,
                    )
                    .order_by(Conversation.closed_at, Conversation.id)
                )
            ).all()
        )
    for conversation_id, closed_at in closed:
        checked_at = (closed_at or since) + timedelta(minutes=2)
        await checks.check_conversation(deps, conversation_id, checked_at)

    rated = await _ratings(deps, shop_id, since, anchor, rng)

    owner = await _login(sessions, shop_id, "owner")
    if owner is not None:
        # The demo team is 30 agents with a handful of chats each a day: agent lots of 2-8
        # are inspected whole by ISO 2859-1, so the demo shop samples each role's day.
        await shop_config.replace_shop_config(
            deps, owner, DEMO_QC_CONFIG, since, reason="质检抽样：按岗位每日抽检"
        )
    first_day = local_date(since)
    sampled = 0
    for n in range(HISTORY_DAYS):
        day = first_day + timedelta(days=n)
        next_morning = local_midnight(day + timedelta(days=1)) + timedelta(minutes=20)
        sampled += await sampling.sample_day(deps, shop_id, day, min(anchor, next_morning))

    inspector = await _login(sessions, shop_id, "qc")
    lead = await _login(sessions, shop_id, "supervisor")
    scored = disputed = 0
    if inspector is None or lead is None:
        return QcSeedCounts(len(closed), sampled, 0, 0, rated)
    async with sessions() as session:
        to_score = list(
            (
                await session.execute(
                    select(QcSample.conversation_id, QcSample.day)
                    .where(
                        QcSample.shop_id == shop_id,
                        QcSample.day < first_day + timedelta(days=SCORED_DAYS),
                    )
                    .order_by(QcSample.day, QcSample.conversation_id)
                )
            ).all()
        )
    for conversation_id, day in to_score:
        when = local_midnight(day + timedelta(days=1))
        when = min(anchor, when + timedelta(hours=10, minutes=rng.randrange(0, 480)))
        await scoring.save_score(
            deps, inspector, conversation_id, {"items": _manual(rng)}, when, submit=True
        )
        scored += 1
    disputed = await _disputes(sessions, deps, shop_id, lead, rng, anchor)
    await _calibration(sessions, deps, shop_id, inspector, lead, rng, anchor)
    return QcSeedCounts(len(closed), sampled, scored, disputed, rated)


async def _ratings(
    deps: Deps, shop_id: str, since: datetime, anchor: datetime, rng: random.Random
) -> int:
    """Some buyers rate the chat or call they just had, through the rating action."""
    async with deps.sessions() as session:
        closed = list(
            (
                await session.execute(
                    select(Buyer.nick, Conversation.closed_at)
                    .join(Buyer, Buyer.id == Conversation.buyer_id)
                    .where(
                        Conversation.shop_id == shop_id,
                        Conversation.status == ConversationStatus.CLOSED,
                        Conversation.kind.in_(BUYER_FACING_KINDS),
                        Conversation.closed_at >= since,
                        Conversation.closed_at < anchor,
                    )
                    .order_by(Conversation.closed_at, Conversation.id)
                )
            ).all()
        )
    rated = 0
    async with transaction(deps) as (session, outbox):
        tz = (await loaded.load_shop_context(session, shop_id)).routing.tz
        for nick, closed_at in closed:
            if closed_at is None or rng.random() >= RATED_SHARE:
                continue
            score, comment = buyer_rating(rng)
            at: datetime = min(
                anchor - timedelta(minutes=1), closed_at + timedelta(minutes=rng.randint(2, 90))
            )
            await record_rating(
                session, outbox, shop_id, RatingSpec(nick, score, comment, at), at, tz=tz
            )
            rated += 1
    return rated


async def _disputes(
    sessions: SessionFactory,
    deps: Deps,
    shop_id: str,
    lead: CurrentUser,
    rng: random.Random,
    anchor: datetime,
) -> int:
    async with sessions() as session:
        rows = list(
            (
                await session.execute(
                    select(QcFinding, User)
                    .join(User, User.id == QcFinding.agent_id)
                    .where(QcFinding.shop_id == shop_id)
                    .order_by(QcFinding.id)
                )
            ).all()
        )
    disputed = 0
    finding_ids: list[int] = []
    for n, (finding, agent) in enumerate(rows):
        finding_ids.append(finding.id)
        if rng.random() >= DISPUTE_SHARE:
            continue
        when = min(anchor - timedelta(minutes=30), finding.created_at + timedelta(hours=3))
        try:
            await disputes.dispute(
                deps,
                _as_current(agent),
                finding.id,
                "买家当时情绪激动，我已按流程处理，请复核。",
                when,
            )
        except CsdeskError:
            continue
        disputed += 1
        if n % 3 == 2:
            continue  # left for the QC lead's queue
        outcome = ("uphold", "reverse")[n % 2]
        await disputes.resolve(
            deps,
            lead,
            finding.id,
            outcome,
            "已复核聊天记录。" if outcome == "uphold" else "复核后不计：买家先提出该要求。",
            min(anchor - timedelta(minutes=5), when + timedelta(hours=5)),
        )
    if len(finding_ids) >= 3:
        await proposals.raise_proposal(
            deps,
            lead,
            "结束语与邀评话术统一到快捷短语",
            "多名客服漏掉结束语或邀评：在快捷短语中加入统一的结束语并在培训中演练。",
            finding_ids[:5],
            anchor - timedelta(hours=2),
        )
    return disputed


async def _calibration(
    sessions: SessionFactory,
    deps: Deps,
    shop_id: str,
    inspector: CurrentUser,
    lead: CurrentUser,
    rng: random.Random,
    anchor: datetime,
) -> None:
    async with sessions() as session:
        units = list(
            await session.scalars(
                select(QcSample.conversation_id)
                .where(QcSample.shop_id == shop_id)
                .order_by(QcSample.conversation_id)
                .limit(CALIBRATION_UNITS)
            )
        )
    if len(units) < CALIBRATION_UNITS:
        return
    created = await calibration.create_session(
        deps,
        lead,
        "本周校准：售前接待",
        units,
        [inspector.id, lead.id],
        anchor - timedelta(hours=1),
    )
    for conversation_id in units:
        items = {**_manual(rng), "abuse": {"rating": 1}}
        for key in (
            "greeting",
            "order_confirm",
            "closing",
            "rating_invite",
            "first_response",
            "waiting",
            "forbidden",
            "extreme",
        ):
            items[key] = {"rating": rng.choice((3, 5, 5, None))}
        await calibration.submit_blind_score(
            deps, lead, created["id"], conversation_id, {"items": items}, anchor
        )
    # The inspector's part is left to do: the ``qc`` login finds the session open.
