"""Service quality KPIs over a window: satisfaction (满意度) from the buyers' ratings, and
the complaint rate (投诉率) with the complaint handling rate (投诉处理率).

The numbers and where they come from (seeds/001 §8 names 客户满意度 as a percentage to
reach and 客户投诉处理率; seeds/000 and /002 put satisfaction and complaints first among
after-sales KPIs):

* **Satisfaction.** Over the ratings the buyers gave in ``[start, end)`` (``rating.received``,
  by the rating's time) that count: a conversation's current rating (a buyer who rated it
  again counts once, with the latest), and every unlinked rating. ``satisfied``: 4 or 5
  stars, ``dissatisfied``: 1 or 2; ``rate`` = satisfied ÷ ratings (the share the seeds' "满意
  度达到 X% 以上" measures), ``mean_score`` the mean stars; both ``None`` without ratings.
* **Complaints.** Over the buyer conversations opened in ``[start, end)`` (chats and calls:
  ``storage.kinds.BUYER_FACING_KINDS``): ``complaints`` those the triage read as complaint
  intent (a conversation keeps its most important intent, so a buyer who complained and then
  calmed down still counts), ``rate`` = complaints ÷ conversations, ``handled`` the
  complaints closed by now and ``handling_rate`` = handled ÷ complaints.

Rates are fractions (0.923, not 92.3) rounded to 4 places. One shop; SELECTs only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.storage.enums import ConversationStatus
from csdesk.storage.kinds import BUYER_FACING_KINDS
from csdesk.storage.models import Buyer, Conversation
from csdesk.storage.rating_models import ServiceRating

SATISFIED_AT_LEAST: Final = 4
DISSATISFIED_AT_MOST: Final = 2
COMPLAINT_INTENT: Final = "complaint"


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True, slots=True)
class Satisfaction:
    ratings: int
    satisfied: int
    dissatisfied: int
    score_sum: int
    by_score: tuple[int, int, int, int, int]
    """How many ratings of 1, 2, 3, 4 and 5 stars."""

    @property
    def rate(self) -> float | None:
        return _rate(self.satisfied, self.ratings)

    @property
    def mean_score(self) -> float | None:
        return round(self.score_sum / self.ratings, 2) if self.ratings else None

    def to_json(self) -> dict[str, Any]:
        return {
            "ratings": self.ratings,
            "satisfied": self.satisfied,
            "dissatisfied": self.dissatisfied,
            "rate": self.rate,
            "mean_score": self.mean_score,
            "by_score": {str(n + 1): count for n, count in enumerate(self.by_score)},
        }


@dataclass(frozen=True, slots=True)
class Complaints:
    conversations: int
    complaints: int
    handled: int

    def to_json(self) -> dict[str, Any]:
        return {
            "conversations": self.conversations,
            "complaints": self.complaints,
            "rate": _rate(self.complaints, self.conversations),
            "handled": self.handled,
            "handling_rate": _rate(self.handled, self.complaints),
        }


@dataclass(frozen=True, slots=True)
class ServiceKpis:
    start: datetime
    end: datetime
    satisfaction: Satisfaction
    complaints: Complaints


async def satisfaction(
    session: AsyncSession, shop_id: str, start: datetime, end: datetime
) -> Satisfaction:
    stars = [func.count(case((ServiceRating.score == n, 1))) for n in range(1, 6)]
    row = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(ServiceRating.score), 0), *stars).where(
                ServiceRating.shop_id == shop_id,
                ServiceRating.is_current.is_(True),
                ServiceRating.rated_at >= start,
                ServiceRating.rated_at < end,
            )
        )
    ).one()
    counts = tuple(int(c or 0) for c in row[2:7])
    assert len(counts) == 5
    return Satisfaction(
        ratings=int(row[0] or 0),
        satisfied=sum(counts[SATISFIED_AT_LEAST - 1 :]),
        dissatisfied=sum(counts[:DISSATISFIED_AT_MOST]),
        score_sum=int(row[1] or 0),
        by_score=(counts[0], counts[1], counts[2], counts[3], counts[4]),
    )


async def complaints(
    session: AsyncSession, shop_id: str, start: datetime, end: datetime
) -> Complaints:
    complaint = Conversation.intent == COMPLAINT_INTENT
    row = (
        await session.execute(
            select(
                func.count(),
                func.count(case((complaint, 1))),
                func.count(
                    case((complaint & (Conversation.status == ConversationStatus.CLOSED), 1))
                ),
            ).where(
                Conversation.shop_id == shop_id,
                Conversation.kind.in_(BUYER_FACING_KINDS),
                Conversation.opened_at >= start,
                Conversation.opened_at < end,
            )
        )
    ).one()
    return Complaints(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))


async def service_kpis(
    session: AsyncSession, shop_id: str, start: datetime, end: datetime
) -> ServiceKpis:
    """Satisfaction and complaints of one shop over ``[start, end)`` (the caller's session;
    the caller checks access)."""
    return ServiceKpis(
        start,
        end,
        await satisfaction(session, shop_id, start, end),
        await complaints(session, shop_id, start, end),
    )


async def unrated_buyers(
    session: AsyncSession, shop_id: str, closed_since: datetime, *, limit: int = 50
) -> list[str]:
    """Nicks of buyers whose chat or call closed since ``closed_since`` and who have not
    rated it (the demo's simulated buyers rate those), most recent first."""
    rated = select(ServiceRating.id).where(ServiceRating.conversation_id == Conversation.id)
    nicks = await session.scalars(
        select(Buyer.nick)
        .join(Conversation, Conversation.buyer_id == Buyer.id)
        .where(
            Conversation.shop_id == shop_id,
            Conversation.kind.in_(BUYER_FACING_KINDS),
            Conversation.status == ConversationStatus.CLOSED,
            Conversation.closed_at >= closed_since,
            ~rated.exists(),
        )
        .order_by(Conversation.closed_at.desc())
        .limit(limit)
    )
    return list(dict.fromkeys(nicks))


__all__ = [
    "Complaints",
    "Satisfaction",
    "ServiceKpis",
    "complaints",
    "satisfaction",
    "service_kpis",
    "unrated_buyers",
]
