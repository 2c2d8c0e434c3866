"""退款 (refund) at the desk: review (approve / reject) and processing (intercept, parcel
back, refund paid out), one action per decision.

The life of a refund here:

* ``refund_review`` item (from ``refund.requested``): approve or reject before the
  platform's deadline. Approving later is still allowed, because the buyer is owed the
  money either way, but it is flagged: the platform auto-approved at the deadline, and the
  late decision is recorded as such. Rejecting after the deadline is refused (409): the
  platform has already decided for the buyer.
* approval hands the money side to the processing duty: a ``refund_processing`` item is
  opened for a refund-only request, and for a return once the parcel is back (the platform's
  ``return.received`` event opens it, or the desk marks the parcel received first).
* processing asks the warehouse to stop an unshipped parcel (recorded, the item stays
  open), confirms the returned parcel, and marks the refund paid out (``refunded``), which
  closes the item.

Duties (review / processing) are swappable between people (roster duties); the access
rule is the same for both: the agent holding the item, or a supervisor on any item.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.actions.closing import close_conversation
from csdesk.actions.outbox import Deps, Outbox, transaction
from csdesk.actions.routing import open_item, place
from csdesk.actions.work_items import (
    OPEN,
    ItemConflictError,
    ItemNotFoundError,
    access_item_by_id,
    add_tags,
    mark_acted,
    note,
    optional_text,
    publish_updated,
    recipients,
    required_text,
)
from csdesk.auth.current import CurrentUser
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.reads.refund_items import (
    ANY_REFUND_ITEM,
    REVIEW_ACCESS,
    refund_item_json,
    refund_json,
)
from csdesk.roles import hotline
from csdesk.roles import refund as refund_role
from csdesk.roles.base import (
    ContactFacts,
    Decision,
    Intent,
    Risk,
    ScoreFacts,
    ScoreReason,
    static_score,
)
from csdesk.roles.triage_rules import max_risk
from csdesk.routing import facts as loaded
from csdesk.storage.enums import Channel, ConversationStatus, OrderStatus, RefundKind, RefundStatus
from csdesk.storage.models import Buyer, Conversation, Order, Refund

PROCESS_ACCESS: Final = "refund.process"
REVIEW: Final = ("refund_review",)
PROCESSING: Final = ("refund_processing",)
_UNSHIPPED = (OrderStatus.CREATED, OrderStatus.PAID)
_DECIDABLE = (RefundStatus.REQUESTED, RefundStatus.RETURN_RECEIVED)
"""A review decides a request, also one whose parcel came back before anyone looked."""


async def _refund_and_order(
    session: AsyncSession, conversation: Conversation
) -> tuple[Refund, Order]:
    refund = await session.get(Refund, conversation.refund_id) if conversation.refund_id else None
    order = await session.get(Order, refund.order_id) if refund is not None else None
    if refund is None or order is None or refund.shop_id != conversation.shop_id:
        raise ItemNotFoundError(f"conversation {conversation.id}: its refund is gone")
    return refund, order


def _publish_refund(
    outbox: Outbox, conversation: Conversation, refund: Refund, actor_id: int, now: datetime
) -> None:
    outbox.publish(
        BusEvent(
            ev.REFUND_UPDATED,
            refund.shop_id,
            recipients(conversation, actor_id),
            {"refund": refund_json(refund, now), "conversation_id": conversation.id},
        )
    )


def _audit(
    session: AsyncSession,
    actor: CurrentUser,
    action: str,
    refund: Refund,
    conversation: Conversation,
    now: datetime,
    *,
    reason: str | None = None,
    **detail: Any,
) -> None:
    audit.record(
        session,
        shop_id=refund.shop_id,
        actor_id=actor.id,
        action=action,
        target_type="refund",
        target_id=refund.id,
        at=now,
        reason=reason,
        detail={"conversation_id": conversation.id, **detail},
    )


async def _open_items(
    session: AsyncSession, refund: Refund, kinds: tuple[str, ...]
) -> list[Conversation]:
    return list(
        await session.scalars(
            select(Conversation).where(
                Conversation.shop_id == refund.shop_id,
                Conversation.refund_id == refund.id,
                Conversation.kind.in_(kinds),
                Conversation.status.in_(OPEN),
            )
        )
    )


def processing_decision(
    refund: Refund, order: Order, buyer: Buyer, ctx: loaded.ShopContext, now: datetime
) -> Decision:
    """The processing task an approval hands over: pay out (and, before shipping, stop the
    parcel first: the unshipped bonus keeps that item near the top)."""
    unshipped = order.status in _UNSHIPPED
    extras: tuple[ScoreReason, ...] = ()
    if unshipped and ctx.routing.refund.unshipped_bonus:
        bonus = ctx.routing.refund.unshipped_bonus
        extras = (ScoreReason("unshipped", bonus, f"未发货: 先联系仓库拦截 +{bonus:g}"),)
    facts = ScoreFacts(
        role=refund_role.ROLE,
        intent=Intent.REFUND,
        order_amount_fen=refund.amount_fen,
        buyer_tier=buyer.tier,
        promotion=ctx.promotion,
        extras=extras,
    )
    notes = [f"duty:{refund_role.PROCESSING}"]
    if unshipped:
        notes.append("退款已同意, 订单未发货: 请先联系仓库拦截, 再办理退款")
    else:
        notes.append("退款已同意: 请办理退款")
    return Decision(
        role=refund_role.ROLE,
        kind="refund_processing",
        score=static_score(facts, ctx.routing),
        due_at=now,
        notes=tuple(notes),
    )


async def approve(
    deps: Deps, actor: CurrentUser, conversation_id: int, now: datetime, *, note_text: str = ""
) -> dict[str, Any]:
    """同意退款. Closes the review; hands the payout to processing (see the module doc)."""
    comment = optional_text(note_text, "note")
    async with transaction(deps) as (session, outbox):
        conversation = await access_item_by_id(
            session, actor, conversation_id, REVIEW_ACCESS, REVIEW
        )
        refund, order = await _refund_and_order(session, conversation)
        if refund.status not in _DECIDABLE:
            raise ItemConflictError(f"refund {refund.external_id}: is {refund.status.value}")
        late = now >= refund.deadline_at
        if refund.status is RefundStatus.REQUESTED:
            refund.status = RefundStatus.APPROVED
        mark_acted(conversation, now)
        _audit(
            session,
            actor,
            "refund.approve",
            refund,
            conversation,
            now,
            reason=comment or None,
            after_deadline=late,
            # The platform approved on its own at the deadline: the desk's decision came
            # after the fact, which is what the KPI "refunds_before_deadline" counts.
            auto_approved_by_platform_at=refund.deadline_at.isoformat() if late else None,
        )
        if late:
            note(
                session,
                conversation,
                f"超过处理时限 ({refund.deadline_at.isoformat()}): "
                "平台已自动同意退款, 此为事后确认",
                now,
            )
        note(session, conversation, "同意退款" + (f": {comment}" if comment else ""), now)
        _publish_refund(outbox, conversation, refund, actor.id, now)
        await close_conversation(
            session,
            deps.queue,
            conversation,
            "refund_approved_after_deadline" if late else "refund_approved",
            now,
            outbox,
            by=actor.id,
            tags=("after_deadline",) if late else (),
        )
        await _hand_to_processing(session, refund, order, now, outbox)
        return refund_item_json(conversation, refund, order, now)


async def _hand_to_processing(
    session: AsyncSession, refund: Refund, order: Order, now: datetime, outbox: Outbox
) -> None:
    if await _open_items(session, refund, PROCESSING):
        return  # the parcel came back first: processing already has its item
    if (
        refund.kind is RefundKind.RETURN_AND_REFUND
        and refund.status is not RefundStatus.RETURN_RECEIVED
    ):
        return  # nothing to pay out until the parcel is back (return.received opens it)
    buyer = await session.get(Buyer, refund.buyer_id)
    assert buyer is not None
    ctx = await loaded.load_shop_context(session, refund.shop_id)
    item = await open_item(
        session,
        shop_id=refund.shop_id,
        decision=processing_decision(refund, order, buyer, ctx, now),
        channel=Channel.CHAT,
        now=now,
        buyer_id=buyer.id,
        order_id=order.id,
        refund_id=refund.id,
        intent="refund",
    )
    await place(session, ctx, item, now, outbox)


async def _buyer_risk(session: AsyncSession, conversation: Conversation, now: datetime) -> Risk:
    """The highest risk the buyer showed in the last day (a refund item has none itself)."""
    if conversation.buyer_id is None:
        return Risk.LOW
    risks = await session.scalars(
        select(Conversation.risk).where(
            Conversation.shop_id == conversation.shop_id,
            Conversation.buyer_id == conversation.buyer_id,
            Conversation.opened_at >= loaded.day_ago(now),
            Conversation.risk.is_not(None),
        )
    )
    known = {risk.value for risk in Risk}
    return max_risk(*(Risk(r) for r in risks if r in known))


async def reject(
    deps: Deps, actor: CurrentUser, conversation_id: int, reason: str, now: datetime
) -> dict[str, Any]:
    """拒绝退款, with a reason the buyer will see. A buyer already showing complaint risk
    gets a proactive hotline call (``roles.refund.reject_followups``)."""
    why = required_text(reason, "reason")
    async with transaction(deps) as (session, outbox):
        conversation = await access_item_by_id(
            session, actor, conversation_id, REVIEW_ACCESS, REVIEW
        )
        refund, order = await _refund_and_order(session, conversation)
        if refund.status not in _DECIDABLE:
            raise ItemConflictError(f"refund {refund.external_id}: is {refund.status.value}")
        if now >= refund.deadline_at:
            raise ItemConflictError(
                f"refund {refund.external_id}: the platform auto-approved it at "
                f"{refund.deadline_at.isoformat()}; a rejection no longer applies"
            )
        refund.status = RefundStatus.REJECTED
        refund.resolved_at = now
        mark_acted(conversation, now)
        _audit(session, actor, "refund.reject", refund, conversation, now, reason=why)
        note(session, conversation, f"拒绝退款: {why}", now)
        _publish_refund(outbox, conversation, refund, actor.id, now)
        await close_conversation(
            session, deps.queue, conversation, "refund_rejected", now, outbox, by=actor.id
        )
        for other in await _open_items(session, refund, PROCESSING):
            await close_conversation(
                session, deps.queue, other, "refund_rejected", now, outbox, by=actor.id
            )
        await _call_if_at_risk(session, conversation, now, outbox)
        return refund_item_json(conversation, refund, order, now)


async def _call_if_at_risk(
    session: AsyncSession, conversation: Conversation, now: datetime, outbox: Outbox
) -> None:
    buyer = await session.get(Buyer, conversation.buyer_id) if conversation.buyer_id else None
    if buyer is None:
        return
    ctx = await loaded.load_shop_context(session, conversation.shop_id)
    contact = ContactFacts(
        channel=Channel.CHAT,
        intent=Intent.REFUND,
        risk=await _buyer_risk(session, conversation, now),
        at=now,
        buyer=loaded.buyer_facts(buyer),
        promotion=ctx.promotion,
    )
    for followup in refund_role.reject_followups(contact, now, ctx.routing):
        already = await session.scalar(
            select(Conversation.id)
            .where(
                Conversation.shop_id == conversation.shop_id,
                Conversation.buyer_id == buyer.id,
                Conversation.kind == followup.kind,
                Conversation.status.in_(OPEN),
            )
            .limit(1)
        )
        if already is not None:
            continue  # one proactive call per buyer at a time
        item = await open_item(
            session,
            shop_id=conversation.shop_id,
            decision=hotline.proactive_call_task(contact, followup, ctx.routing),
            channel=Channel.HOTLINE,
            now=now,
            buyer_id=buyer.id,
            order_id=conversation.order_id,
            intent=Intent.REFUND.value,
            risk=contact.risk.value,
            not_before=followup.due_at,
            note=followup.reason,
        )
        if item.status is ConversationStatus.QUEUED:
            await place(session, ctx, item, now, outbox)


async def request_intercept(
    deps: Deps, actor: CurrentUser, conversation_id: int, now: datetime, *, note_text: str = ""
) -> dict[str, Any]:
    """Ask the warehouse to stop an unshipped parcel (拦截): recorded; the item stays open
    for the payout. Either duty may ask: at 23:00 the reviewer may be alone on shift."""
    comment = optional_text(note_text, "note")
    async with transaction(deps) as (session, outbox):
        conversation = await access_item_by_id(
            session, actor, conversation_id, PROCESS_ACCESS, ANY_REFUND_ITEM
        )
        refund, order = await _refund_and_order(session, conversation)
        if refund.status in (RefundStatus.REJECTED, RefundStatus.CANCELLED, RefundStatus.REFUNDED):
            raise ItemConflictError(f"refund {refund.external_id}: is {refund.status.value}")
        if order.status not in _UNSHIPPED:
            raise ItemConflictError(
                f"order {order.external_id}: is {order.status.value}; too late to intercept"
            )
        if "intercept_requested" in conversation.tags:
            raise ItemConflictError(f"order {order.external_id}: intercept already requested")
        mark_acted(conversation, now)
        add_tags(conversation, "intercept_requested")
        _audit(
            session,
            actor,
            "refund.intercept",
            refund,
            conversation,
            now,
            reason=comment or None,
            order_id=order.id,
            order_status=order.status.value,
        )
        note(
            session,
            conversation,
            "已通知仓库拦截, 暂停发货" + (f": {comment}" if comment else ""),
            now,
        )
        await session.flush()
        publish_updated(outbox, conversation, "intercept_requested", actor.id)
        return refund_item_json(conversation, refund, order, now)


async def mark_return_received(
    deps: Deps, actor: CurrentUser, conversation_id: int, now: datetime, *, note_text: str = ""
) -> dict[str, Any]:
    """The returned parcel is in the warehouse and checked (确认收到退货). Moves the refund
    to ``return_received`` unless the platform's event already did; either way the check
    is recorded."""
    comment = optional_text(note_text, "note")
    async with transaction(deps) as (session, outbox):
        conversation = await access_item_by_id(
            session, actor, conversation_id, PROCESS_ACCESS, ANY_REFUND_ITEM
        )
        refund, order = await _refund_and_order(session, conversation)
        if refund.kind is not RefundKind.RETURN_AND_REFUND:
            raise ItemConflictError(
                f"refund {refund.external_id}: refund-only has no return parcel"
            )
        if refund.status not in (
            RefundStatus.REQUESTED,
            RefundStatus.APPROVED,
            RefundStatus.RETURN_RECEIVED,
        ):
            raise ItemConflictError(f"refund {refund.external_id}: is {refund.status.value}")
        if "return_checked" in conversation.tags:
            raise ItemConflictError(f"refund {refund.external_id}: return already confirmed")
        was = refund.status
        refund.status = RefundStatus.RETURN_RECEIVED
        mark_acted(conversation, now)
        add_tags(conversation, "return_checked")
        _audit(
            session,
            actor,
            "refund.return_received",
            refund,
            conversation,
            now,
            reason=comment or None,
            status_before=was.value,
        )
        note(session, conversation, "退货已收到并验货" + (f": {comment}" if comment else ""), now)
        await session.flush()
        if was is not RefundStatus.RETURN_RECEIVED:
            _publish_refund(outbox, conversation, refund, actor.id, now)
        publish_updated(outbox, conversation, "return_received", actor.id)
        return refund_item_json(conversation, refund, order, now)


async def mark_refunded(
    deps: Deps, actor: CurrentUser, conversation_id: int, now: datetime, *, note_text: str = ""
) -> dict[str, Any]:
    """The money went back (退款完成): refund ``refunded`` with ``resolved_at``; closes the
    processing item. Only after approval, and for a return only once the parcel is back."""
    comment = optional_text(note_text, "note")
    async with transaction(deps) as (session, outbox):
        conversation = await access_item_by_id(
            session, actor, conversation_id, PROCESS_ACCESS, PROCESSING
        )
        refund, order = await _refund_and_order(session, conversation)
        if await _open_items(session, refund, REVIEW):
            raise ItemConflictError(f"refund {refund.external_id}: not reviewed yet")
        ready = (
            RefundStatus.RETURN_RECEIVED
            if refund.kind is RefundKind.RETURN_AND_REFUND
            else RefundStatus.APPROVED
        )
        if refund.status is not ready:
            raise ItemConflictError(
                f"refund {refund.external_id}: is {refund.status.value}, must be {ready.value}"
            )
        refund.status = RefundStatus.REFUNDED
        refund.resolved_at = now
        mark_acted(conversation, now)
        _audit(session, actor, "refund.refunded", refund, conversation, now, reason=comment or None)
        note(session, conversation, "退款已完成" + (f": {comment}" if comment else ""), now)
        _publish_refund(outbox, conversation, refund, actor.id, now)
        await close_conversation(
            session, deps.queue, conversation, "refunded", now, outbox, by=actor.id
        )
        return refund_item_json(conversation, refund, order, now)


__all__ = [
    "approve",
    "mark_refunded",
    "mark_return_received",
    "processing_decision",
    "reject",
    "request_intercept",
]
