"""The shop's learned triage model as the 店铺规则 page shows it: which version is live,
when it was trained, on how many corrections, its held-out score, every version, and the
latest corrections."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import func, select

from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.storage.engine import SessionFactory
from csdesk.storage.triage_models import ShopTriageModel, TriageCorrection, TriageModelVersion

READ_ACCESS: Final = "shop_config.read"
RECENT_CORRECTIONS: Final = 20


async def triage_model_status(sessions: SessionFactory, actor: CurrentUser) -> dict[str, Any]:
    require(actor, READ_ACCESS)
    shop_id = actor.shop_id
    async with sessions() as session:
        state = await session.get(ShopTriageModel, shop_id)
        versions = (
            await session.scalars(
                select(TriageModelVersion)
                .where(TriageModelVersion.shop_id == shop_id)
                .order_by(TriageModelVersion.version.desc())
            )
        ).all()
        total = await session.scalar(
            select(func.count())
            .select_from(TriageCorrection)
            .where(TriageCorrection.shop_id == shop_id)
        )
        recent = (
            await session.scalars(
                select(TriageCorrection)
                .where(TriageCorrection.shop_id == shop_id)
                .order_by(TriageCorrection.corrected_at.desc(), TriageCorrection.id.desc())
                .limit(RECENT_CORRECTIONS)
            )
        ).all()
        active = state.active_version if state is not None else None
        previous = list(state.previous) if state is not None else []
        return {
            "active_version": active,
            "model": "shop" if active is not None else "shipped",
            "can_roll_back": bool(previous),
            "trained_through": (
                state.trained_through.isoformat()
                if state is not None and state.trained_through
                else None
            ),
            "last_outcome": state.last_outcome if state is not None else {},
            "corrections": total or 0,
            "versions": [
                {
                    "version": v.version,
                    "trained_at": v.trained_at.isoformat(),
                    "corrections": v.corrections,
                    "heldout_score": round(v.heldout_score, 4),
                    "baseline_score": round(v.baseline_score, 4),
                    "went_live": v.swapped,
                    "live": v.version == active,
                    "kept": v.artifact is not None,
                }
                for v in versions
            ],
            "recent_corrections": [
                {
                    "conversation_id": c.conversation_id,
                    "text": c.text,
                    "predicted_intent": c.predicted_intent,
                    "intent": c.intent,
                    "source": c.source,
                    "corrected_at": c.corrected_at.isoformat(),
                }
                for c in recent
            ],
        }
