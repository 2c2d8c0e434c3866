"""Improvement proposals (流程优化): raised by an inspector or the QC lead from a group of
findings, moved along by the QC lead until done."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from csdesk.actions import audit
from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.qc.common import is_id, text_field
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.errors import BadInputError, ConflictError, NotFoundError
from csdesk.reads.qc_base import LEAD, PROPOSE, proposal_json
from csdesk.storage.qc_models import ProposalStatus, QcFinding, QcProposal

MAX_FINDINGS = 200


async def raise_proposal(
    deps: Deps, actor: CurrentUser, title: str, body: str, finding_ids: object, now: datetime
) -> dict[str, Any]:
    require(actor, PROPOSE)
    title = text_field(title, "title", required=True, limit=200)
    body = text_field(body, "body", required=False, limit=4000)
    if not isinstance(finding_ids, list) or not all(is_id(i) for i in finding_ids):
        raise BadInputError("finding_ids", "must be a list of finding ids")
    ids = sorted(set(finding_ids))
    if not 1 <= len(ids) <= MAX_FINDINGS:
        raise BadInputError("finding_ids", f"give 1-{MAX_FINDINGS} findings")
    async with transaction(deps) as (session, _outbox):
        found = set(
            await session.scalars(
                select(QcFinding.id).where(
                    QcFinding.shop_id == actor.shop_id, QcFinding.id.in_(ids)
                )
            )
        )
        missing = [i for i in ids if i not in found]
        if missing:
            raise BadInputError("finding_ids", f"no such finding: {missing[0]}")
        row = QcProposal(
            shop_id=actor.shop_id,
            title=title,
            body=body,
            finding_ids=ids,
            status=ProposalStatus.OPEN,
            raised_by=actor.id,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="qc.proposal.raise",
            target_type="qc_proposal",
            target_id=row.id,
            at=now,
            detail={"finding_ids": ids},
        )
        return proposal_json(row)


_NEXT = {
    ProposalStatus.OPEN: {ProposalStatus.IN_PROGRESS, ProposalStatus.DONE},
    ProposalStatus.IN_PROGRESS: {ProposalStatus.DONE, ProposalStatus.OPEN},
    ProposalStatus.DONE: set(),
}


async def move_proposal(
    deps: Deps, actor: CurrentUser, proposal_id: int, status: str, now: datetime
) -> dict[str, Any]:
    require(actor, LEAD)
    try:
        target = ProposalStatus(status)
    except ValueError:
        raise BadInputError("status", "must be open, in_progress or done") from None
    async with transaction(deps) as (session, _outbox):
        row = await session.get(QcProposal, proposal_id)
        if row is None or row.shop_id != actor.shop_id:
            raise NotFoundError(f"proposal {proposal_id}: not found")
        if target not in _NEXT[row.status]:
            raise ConflictError(
                f"proposal {proposal_id}: cannot go from {row.status.value} to {target.value}"
            )
        before = row.status
        row.status = target
        row.updated_at = now
        row.done_at = now if target is ProposalStatus.DONE else None
        audit.record(
            session,
            shop_id=actor.shop_id,
            actor_id=actor.id,
            action="qc.proposal.move",
            target_type="qc_proposal",
            target_id=row.id,
            at=now,
            detail={"from": before.value, "to": target.value},
        )
        return proposal_json(row)
