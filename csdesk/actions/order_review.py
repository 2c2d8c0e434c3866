"""订单审核 (order review) at the desk: decide a flagged paid order before it ships.

The item is an ``order_check`` task, opened only when an automatic check flagged the order
(``roles.order_review``). The reviewer ships it as is (approve: closes the item), holds it
with a reason, or corrects what the checks caught: the address, the gifts and promo items
(the seed's case: the product promises an HDMI高清线, the system attached a 旅游券), the
invoice title. Corrections keep the item open and answer with the flags still standing, so
the reviewer approves once the order is right. Every change to order data is audited with
its before and after: the audit log is the only record of what the buyer originally gave.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.actions.closing import close_conversation
from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.work_items import (
    InputError,
    ItemConflictError,
    ItemNotFoundError,
    access_item_by_id,
    add_tags,
    mark_acted,
    note,
    optional_text,
    publish_updated,
    required_text,
)
from csdesk.auth.current import CurrentUser
from csdesk.reads.order_checks import (
    ACCESS,
    INVOICE_CONFIRMED,
    KINDS,
    review_json,
    standing_flags,
)
from csdesk.roles import order_review as rules
from csdesk.roles.base import OrderFacts
from csdesk.routing import facts as loaded
from csdesk.storage.enums import OrderStatus
from csdesk.storage.models import Conversation, Order

MAX_ADDRESS_CHARS: Final = 200
MAX_GIFTS: Final = 10
MAX_GIFT_CHARS: Final = 64
MAX_INVOICE_TITLE_CHARS: Final = 200


async def _order(session: AsyncSession, conversation: Conversation) -> Order:
    order = await session.get(Order, conversation.order_id) if conversation.order_id else None
    if order is None or order.shop_id != conversation.shop_id:
        raise ItemNotFoundError(f"conversation {conversation.id}: its order is gone")
    return order


def _require_unshipped(order: Order) -> None:
    # Review happens between payment and shipping; after that the parcel is on its way
    # and a change here would not reach it.
    if order.status is not OrderStatus.PAID:
        raise ItemConflictError(
            f"order {order.external_id}: is {order.status.value}, review applies only to "
            "paid orders not yet shipped"
        )


async def approve(
    deps: Deps, actor: CurrentUser, conversation_id: int, now: datetime, *, note_text: str = ""
) -> dict[str, Any]:
    """Ship as is: closes the item. Flags still standing are recorded with the decision
    (review accuracy is judged on them later)."""
    comment = optional_text(note_text, "note")
    async with transaction(deps) as (session, outbox):
        conversation = await access_item_by_id(session, actor, conversation_id, ACCESS, KINDS)
        order = await _order(session, conversation)
        _require_unshipped(order)
        flags = await standing_flags(session, conversation, order)
        mark_acted(conversation, now)
        audit.record(
            session,
            shop_id=order.shop_id,
            actor_id=actor.id,
            action="order_review.approve",
            target_type="order",
            target_id=order.id,
            at=now,
            reason=comment or None,
            detail={
                "conversation_id": conversation.id,
                "outstanding_flags": [f.code.value for f in flags],
            },
        )
        outstanding = f" (仍有: {'、'.join(f.code.value for f in flags)})" if flags else ""
        note(session, conversation, f"审单通过, 按原样发货{outstanding}", now)
        await close_conversation(
            session,
            deps.queue,
            conversation,
            "order_approved",
            now,
            outbox,
            by=actor.id,
            tags=("approved_with_flags",) if flags else (),
        )
        return await review_json(session, conversation, order)


async def hold(
    deps: Deps, actor: CurrentUser, conversation_id: int, reason: str, now: datetime
) -> dict[str, Any]:
    """Do not ship yet (e.g. the buyer must confirm): the item stays with the reviewer,
    marked ``on_hold``, until approved or corrected."""
    why = required_text(reason, "reason")
    async with transaction(deps) as (session, outbox):
        conversation = await access_item_by_id(session, actor, conversation_id, ACCESS, KINDS)
        order = await _order(session, conversation)
        _require_unshipped(order)
        mark_acted(conversation, now)
        conversation.disposition = "on_hold"
        add_tags(conversation, "on_hold")
        audit.record(
            session,
            shop_id=order.shop_id,
            actor_id=actor.id,
            action="order_review.hold",
            target_type="order",
            target_id=order.id,
            at=now,
            reason=why,
            detail={"conversation_id": conversation.id},
        )
        note(session, conversation, f"暂停发货: {why}", now)
        publish_updated(outbox, conversation, "held", actor.id, {"reason": why})
        return await review_json(session, conversation, order)


async def _change_order(
    deps: Deps,
    actor: CurrentUser,
    conversation_id: int,
    now: datetime,
    *,
    field: str,
    value: Any,
    tag: str,
    history_line: str,
) -> dict[str, Any]:
    """Set one order field from the review, audited with before and after."""
    async with transaction(deps) as (session, outbox):
        conversation = await access_item_by_id(session, actor, conversation_id, ACCESS, KINDS)
        order = await _order(session, conversation)
        _require_unshipped(order)
        before = getattr(order, field)
        setattr(order, field, value)
        mark_acted(conversation, now)
        add_tags(conversation, tag)
        audit.record(
            session,
            shop_id=order.shop_id,
            actor_id=actor.id,
            action=f"order.{field}_corrected",
            target_type="order",
            target_id=order.id,
            at=now,
            detail={
                "conversation_id": conversation.id,
                "field": field,
                "before": before,
                "after": value,
            },
        )
        note(session, conversation, history_line, now)
        await session.flush()
        publish_updated(outbox, conversation, f"{field}_corrected", actor.id)
        return await review_json(session, conversation, order)


async def correct_address(
    deps: Deps, actor: CurrentUser, conversation_id: int, address: str, now: datetime
) -> dict[str, Any]:
    """A deliverable address for the order. Refused (400, ``address``) when the new one
    still fails the address checks: correcting to another undeliverable address helps
    nobody. The audit keeps the old address in clear (only supervisors read the audit)."""
    new_address = required_text(address, "address", max_chars=MAX_ADDRESS_CHARS)
    async with deps.sessions() as session:
        ctx = await loaded.load_shop_context(session, actor.shop_id)
    probe = OrderFacts(
        order_id=0, buyer_id=0, status=OrderStatus.PAID, amount_fen=0, created_at=now
    )
    problems = rules.check_address(dataclasses.replace(probe, address=new_address), ctx.routing)
    if problems:
        raise InputError("address", "; ".join(f.reason for f in problems))
    return await _change_order(
        deps,
        actor,
        conversation_id,
        now,
        field="address",
        value=new_address,
        tag="address_fixed",
        history_line="收货地址已更正 (审单)",
    )


def clean_gifts(gifts: Sequence[str]) -> list[str]:
    names = list(dict.fromkeys(g.strip() for g in gifts if g.strip()))
    if len(names) > MAX_GIFTS:
        raise InputError("gifts", f"at most {MAX_GIFTS} gifts")
    if any(len(g) > MAX_GIFT_CHARS for g in names):
        raise InputError("gifts", f"each gift at most {MAX_GIFT_CHARS} characters")
    return names


async def fix_gifts(
    deps: Deps, actor: CurrentUser, conversation_id: int, gifts: Sequence[str], now: datetime
) -> dict[str, Any]:
    """Replace the gifts and promo items attached to the order (an empty list removes all)."""
    names = clean_gifts(gifts)
    shown = "、".join(names) or "无"
    return await _change_order(
        deps,
        actor,
        conversation_id,
        now,
        field="gifts",
        value=names,
        tag="gifts_fixed",
        history_line=f"赠品已更正为: {shown}",
    )


async def confirm_invoice(
    deps: Deps, actor: CurrentUser, conversation_id: int, invoice_title: str, now: datetime
) -> dict[str, Any]:
    """Confirm (or correct) the invoice title (发票抬头); the "invoice requested" flag is
    then done. The 物流宝 warehouse no longer prints invoices, so the desk issues it."""
    title = required_text(invoice_title, "invoice_title", max_chars=MAX_INVOICE_TITLE_CHARS)
    return await _change_order(
        deps,
        actor,
        conversation_id,
        now,
        field="invoice_title",
        value=title,
        tag=INVOICE_CONFIRMED,
        history_line=f"发票抬头已确认: {title}",
    )


__all__ = [
    "approve",
    "confirm_invoice",
    "correct_address",
    "fix_gifts",
    "hold",
    "standing_flags",
]
