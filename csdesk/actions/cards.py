"""Send a one-click card (订单核对, 催付, 推荐商品, 优惠券) from the order panel.

The card is filled on the server from the stored row, never from what the page shows: the
order must be the conversation's buyer's, the product and the coupon the shop's. It goes
out like any reply, through ``actions/messages.add_message`` (kind ``card``, the card as
an attachment), so outbound delivery picks it up; it answers the buyer (first response).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from csdesk.actions.conversations import MessageSpec
from csdesk.actions.messages import add_message
from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.workbench import WORKBENCH_ACCESS, access_own_conversation_by_id
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.bus import events as ev
from csdesk.errors import BadInputError, ConflictError, NotFoundError
from csdesk.reads import cards
from csdesk.reads.conversations import shop_zone
from csdesk.routing import facts as loaded
from csdesk.storage.enums import MessageSender, OrderStatus
from csdesk.storage.models import Order, Product


@dataclass(frozen=True)
class CardRequest:
    card: str
    """One of ``reads.cards.KINDS``."""
    order_id: int | None = None
    product_id: int | None = None
    coupon_code: str | None = None


@dataclass(frozen=True)
class CardSent:
    message_id: int
    card: cards.Card


async def send_card(
    deps: Deps, actor: CurrentUser, conversation_id: int, request: CardRequest, now: datetime
) -> CardSent:
    """Build the card from the stored data and send it in a conversation ``actor`` holds."""
    require(actor, WORKBENCH_ACCESS)
    if request.card not in cards.KINDS:
        raise BadInputError("card", f"must be one of {', '.join(cards.KINDS)}")
    async with transaction(deps) as (session, outbox):
        conversation = await access_own_conversation_by_id(session, actor, conversation_id)
        card: cards.Card
        if request.card in (cards.ORDER_CHECK, cards.PAYMENT_REMINDER):
            if request.order_id is None:
                raise BadInputError("order_id", "is required for this card")
            order = await session.get(Order, request.order_id)
            if (
                order is None
                or order.shop_id != actor.shop_id
                or order.buyer_id != conversation.buyer_id
            ):
                raise NotFoundError(
                    f"order {request.order_id}: not an order of this buyer", field="order_id"
                )
            if request.card == cards.PAYMENT_REMINDER:
                if not cards.unpaid(order):
                    raise ConflictError(
                        f"order {order.external_id}: is {order.status.value}, not unpaid",
                        field="order_id",
                    )
                card = cards.payment_reminder(order, await shop_zone(session, actor.shop_id))
            else:
                if order.status is OrderStatus.CLOSED:
                    raise ConflictError(f"order {order.external_id}: is closed", field="order_id")
                card = cards.order_check(order)
        elif request.card == cards.PRODUCT:
            if request.product_id is None:
                raise BadInputError("product_id", "is required for this card")
            item = await session.get(Product, request.product_id)
            if item is None or item.shop_id != actor.shop_id:
                raise NotFoundError(f"product {request.product_id}: not found", field="product_id")
            card = cards.product(item)
        else:
            ctx = await loaded.load_shop_context(session, actor.shop_id)
            found = [c for c in ctx.routing.console.coupons if c.code == request.coupon_code]
            if not found:
                raise NotFoundError(
                    f"coupon {request.coupon_code!r}: not one of the shop's", field="coupon_code"
                )
            card = cards.coupon(found[0])
        message_id = await add_message(
            session,
            conversation,
            MessageSpec(
                MessageSender.AGENT,
                card.text,
                now,
                author_id=actor.id,
                kind="card",
                attachments=(card.attachment(),),
            ),
            outbox,
            readers=(ev.to_user(actor.id), ev.SUPERVISORS),
        )
        assert message_id is not None  # announced, so written now
        if conversation.first_response_at is None:
            conversation.first_response_at = now
        return CardSent(message_id, card)


__all__ = ["CardRequest", "CardSent", "send_card"]
