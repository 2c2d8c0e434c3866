"""Routing writes: open an item, place it (assign or queue), requeue, fill a free agent.

Every function takes the caller's session (the caller owns the transaction) and an
:class:`Outbox` for what must happen after commit (queue index, bus events). The database
row is the truth; the queue index mirrors the rows whose status is ``queued``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import auto_suspend
from csdesk.actions.chasing import claim_buyer, claim_holder
from csdesk.actions.conversations import MessageSpec
from csdesk.actions.messages import add_message, record_line
from csdesk.actions.outbox import Outbox
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.roles.base import Decision
from csdesk.roles.config import RoutingConfig
from csdesk.roles.scoring import Score, ScoreReason, deadline_points, explain, sort_key
from csdesk.routing.assignment import ItemFacts, may_take, pick_agent
from csdesk.routing.facts import ShopContext, agent_facts, duty_holders, protection_owner
from csdesk.routing.queues.base import WorkQueue
from csdesk.storage.enums import Channel, ConversationStatus, MessageSender, ServiceRole
from csdesk.storage.models import Conversation

CHASE_KINDS = ("payment_chase", "phone_chase")
BUYER_FACING_KINDS = ("chat", "call")


async def reserved_for(
    session: AsyncSession, ctx: ShopContext, conversation: Conversation, now: datetime
) -> tuple[int, datetime] | None:
    """Who this item is kept for: the protection owner of a returning buyer (客户保护期),
    or the buyer's one chaser for a chase."""
    if conversation.buyer_id is None:
        return None
    if conversation.kind in BUYER_FACING_KINDS:
        return await protection_owner(session, ctx.shop_id, conversation.buyer_id, now)
    if conversation.kind in CHASE_KINDS:
        holder = await claim_holder(session, ctx.shop_id, conversation.buyer_id, now)
        if holder is not None:
            return holder, now + timedelta(seconds=ctx.assignment.chase_claim_s)
    return None


def stored_score(conversation: Conversation) -> Score:
    return Score.of(
        tuple(
            ScoreReason(r["factor"], float(r["points"]), r["reason"])
            for r in conversation.score_breakdown
        )
    )


def current_points(conversation: Conversation, ctx: ShopContext, now: datetime) -> float:
    """Static points plus the deadline step the item is in now (aging is in the key)."""
    deadline = deadline_points(conversation.deadline_at, now, ctx.routing)
    return conversation.priority_score + (deadline.points if deadline else 0.0)


def conversation_json(
    conversation: Conversation, ctx: ShopContext | None = None, now: datetime | None = None
) -> dict[str, object]:
    data: dict[str, object] = {
        "id": conversation.id,
        "role": conversation.role,
        "kind": conversation.kind,
        "channel": conversation.channel.value,
        "status": conversation.status.value,
        "buyer_id": conversation.buyer_id,
        "order_id": conversation.order_id,
        "refund_id": conversation.refund_id,
        "intent": conversation.intent,
        "risk": conversation.risk,
        "assigned_agent_id": conversation.assigned_agent_id,
        "opened_at": conversation.opened_at.isoformat(),
        "enqueued_at": conversation.enqueued_at.isoformat() if conversation.enqueued_at else None,
        "due_at": conversation.due_at.isoformat() if conversation.due_at else None,
        "deadline_at": conversation.deadline_at.isoformat() if conversation.deadline_at else None,
        "score": conversation.priority_score,
    }
    if ctx is not None and now is not None and conversation.enqueued_at is not None:
        full = explain(
            stored_score(conversation),
            conversation.deadline_at,
            conversation.enqueued_at,
            now,
            ctx.routing,
        )
        data["score"] = round(full.points, 2)
        data["breakdown"] = full.to_json()
    return data


def item_facts(
    conversation: Conversation,
    ctx: ShopContext,
    owner: tuple[int, datetime] | None,
    exclude: frozenset[int] = frozenset(),
    holders: frozenset[int] = frozenset(),
) -> ItemFacts:
    assert conversation.enqueued_at is not None
    return ItemFacts(
        item_id=conversation.id,
        role=conversation.role,
        channel=conversation.channel,
        enqueued_at=conversation.enqueued_at,
        required_skills=frozenset(conversation.required_skills),
        skill_fallback_s=ctx.assignment.skill_fallback_s,
        protection_owner_id=owner[0] if owner else None,
        protection_until=owner[1] if owner else None,
        excluded_agent_ids=exclude,
        duty_holders=holders,
    )


async def open_item(
    session: AsyncSession,
    *,
    shop_id: str,
    decision: Decision,
    channel: Channel,
    now: datetime,
    buyer_id: int | None = None,
    order_id: int | None = None,
    refund_id: int | None = None,
    intent: str | None = None,
    risk: str | None = None,
    required_skills: frozenset[str] = frozenset(),
    not_before: datetime | None = None,
    note: str | None = None,
    kind: str | None = None,
    last_buyer_message_at: datetime | None = None,
    sort_key_config: RoutingConfig | None = None,
    source_event_id: int | None = None,
) -> Conversation:
    """A new routable item from a role's decision (not yet placed). ``kind`` overrides the
    decision's (a buyer's chat thread stays ``chat`` whichever role answers it); its notes
    name ``source_event_id``, the platform event that opened it, if one did."""
    scheduled = not_before is not None and not_before > now
    conversation = Conversation(
        shop_id=shop_id,
        buyer_id=buyer_id,
        channel=channel,
        kind=kind or decision.kind,
        role=decision.role.value,
        status=ConversationStatus.SCHEDULED if scheduled else ConversationStatus.QUEUED,
        intent=intent,
        risk=risk,
        priority_score=decision.score.points,
        score_breakdown=decision.score.to_json(),
        order_id=order_id,
        refund_id=refund_id,
        opened_at=now,
        enqueued_at=None if scheduled else now,
        due_at=decision.due_at,
        deadline_at=decision.deadline_at,
        not_before=not_before if scheduled else None,
        required_skills=sorted(required_skills),
        tags=[],
        attempts=0,
        last_buyer_message_at=last_buyer_message_at,
    )
    if not scheduled and sort_key_config is not None:
        # Keyed before the INSERT, so queueing it needs no second write.
        deadline = deadline_points(decision.deadline_at, now, sort_key_config)
        points = decision.score.points + (deadline.points if deadline else 0.0)
        conversation.sort_key = sort_key(points, now, sort_key_config)
    session.add(conversation)
    await session.flush()
    texts = [*decision.notes, *([note] if note else [])]
    if decision.escalation is not None and decision.escalation.note:
        texts.append(decision.escalation.note)
    for text in texts:
        record_line(
            session,
            conversation,
            MessageSpec(MessageSender.SYSTEM, text, now, source_event_id=source_event_id),
        )
    return conversation


async def assign(
    session: AsyncSession,
    ctx: ShopContext,
    conversation: Conversation,
    agent_id: int,
    now: datetime,
    outbox: Outbox,
    reason: str,
) -> bool:
    """Give the item to ``agent_id`` if it is still unassigned; False if someone was faster.

    The conditional UPDATE is the claim: two processes racing for one item cannot both
    match ``status = queued``. A chase also needs the buyer's chase claim (one chaser per
    buyer): if another agent holds it, this agent does not get the item.
    """
    if conversation.kind in CHASE_KINDS and conversation.buyer_id is not None:
        holder = await claim_buyer(
            session,
            ctx.shop_id,
            conversation.buyer_id,
            agent_id,
            now,
            timedelta(seconds=ctx.assignment.chase_claim_s),
        )
        if holder != agent_id:
            return False
    # The first agent to serve a buyer owns them for the protection period; someone
    # standing in while the owner is away does not take the buyer over.
    owner_id, until = agent_id, now + timedelta(seconds=ctx.assignment.protection_s)
    if conversation.buyer_id is not None and conversation.kind in BUYER_FACING_KINDS:
        current = await protection_owner(session, ctx.shop_id, conversation.buyer_id, now)
        if current is not None and current[0] != agent_id:
            owner_id, until = current
    result = await session.execute(
        update(Conversation)
        .where(
            Conversation.id == conversation.id,
            Conversation.status.in_((ConversationStatus.QUEUED, ConversationStatus.SCHEDULED)),
        )
        .values(
            status=ConversationStatus.ASSIGNED,
            assigned_agent_id=agent_id,
            assigned_at=now,
            protection_owner_id=owner_id,
            protection_until=until,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        return False
    await session.refresh(conversation)
    outbox.remove(ctx.shop_id, conversation.role, conversation.id)
    payload = {"conversation": conversation_json(conversation), "reason": reason}
    outbox.publish(
        BusEvent(
            ev.CONVERSATION_ASSIGNED, ctx.shop_id, (ev.to_user(agent_id), ev.SUPERVISORS), payload
        )
    )
    await auto_suspend.refit(session, ctx, agent_id, now, outbox)  # 自动挂起 at N chats
    return True


async def enqueue(
    session: AsyncSession,
    ctx: ShopContext,
    conversation: Conversation,
    now: datetime,
    outbox: Outbox,
    *,
    event_type: str = ev.CONVERSATION_QUEUED,
) -> None:
    """Put the item in its role's queue, keeping its original wait (age) if it had one."""
    if conversation.enqueued_at is None:
        conversation.enqueued_at = now
    conversation.status = ConversationStatus.QUEUED
    # Only touch what changed: an UPDATE per untouched column is a round trip per event.
    if conversation.assigned_agent_id is not None:
        conversation.assigned_agent_id = None
        conversation.assigned_at = None
    conversation.sort_key = sort_key(
        current_points(conversation, ctx, now), conversation.enqueued_at, ctx.routing
    )
    await session.flush()
    outbox.push(ctx.shop_id, conversation.role, conversation.id, conversation.sort_key)
    outbox.publish(
        BusEvent(
            event_type,
            ctx.shop_id,
            (ev.to_role(conversation.role), ev.SUPERVISORS),
            {"conversation": conversation_json(conversation, ctx, now)},
        )
    )


async def place(
    session: AsyncSession,
    ctx: ShopContext,
    conversation: Conversation,
    now: datetime,
    outbox: Outbox,
    *,
    exclude: frozenset[int] = frozenset(),
    event_type: str = ev.CONVERSATION_QUEUED,
) -> int | None:
    """Assign to the best agent free now, else queue. Returns the agent id or None."""
    if conversation.enqueued_at is None:
        conversation.enqueued_at = now
    agents = await agent_facts(session, ctx.shop_id, role=conversation.role)
    pick = None
    if agents:  # nobody online: straight to the queue, no stickiness to look up
        owner = await reserved_for(session, ctx, conversation, now)
        holders = await duty_holders(session, ctx.shop_id, conversation.kind, now)
        pick = pick_agent(item_facts(conversation, ctx, owner, exclude, holders), agents, now)
    if pick is not None and await assign(
        session, ctx, conversation, pick.agent_id, now, outbox, pick.reason
    ):
        return pick.agent_id
    await enqueue(session, ctx, conversation, now, outbox, event_type=event_type)
    return None


async def rescore(
    session: AsyncSession,
    ctx: ShopContext,
    conversation: Conversation,
    decision: Decision,
    intent: str,
    risk: str,
    now: datetime,
    outbox: Outbox,
) -> None:
    """A later message can raise an open conversation's importance, never lower it: a buyer
    who turns to 退款 or threatens 差评 moves up (or over to refund) while still waiting."""
    if decision.score.points <= conversation.priority_score:
        return
    conversation.intent = intent
    conversation.risk = risk
    conversation.priority_score = decision.score.points
    conversation.score_breakdown = decision.score.to_json()
    if conversation.status is not ConversationStatus.QUEUED:
        return
    old_role = conversation.role
    if decision.role.value != old_role:
        outbox.remove(ctx.shop_id, old_role, conversation.id)
        conversation.role = decision.role.value
    await place(session, ctx, conversation, now, outbox)


async def requeue(
    session: AsyncSession,
    ctx: ShopContext,
    conversation: Conversation,
    now: datetime,
    outbox: Outbox,
    *,
    reason: str,
    exclude_agent: int | None = None,
) -> int | None:
    """Take an item back from its agent (away, unanswered, transfer) keeping its age."""
    previous = conversation.assigned_agent_id
    record_line(session, conversation, MessageSpec(MessageSender.SYSTEM, reason, now))
    conversation.status = ConversationStatus.QUEUED
    conversation.assigned_agent_id = None
    conversation.assigned_at = None
    await session.flush()
    if previous is not None:
        outbox.publish(
            BusEvent(
                ev.CONVERSATION_REQUEUED,
                ctx.shop_id,
                (ev.to_user(previous), ev.SUPERVISORS),
                {"conversation_id": conversation.id, "reason": reason},
            )
        )
    exclude = frozenset({exclude_agent}) if exclude_agent is not None else frozenset()
    return await place(
        session,
        ctx,
        conversation,
        now,
        outbox,
        exclude=exclude,
        event_type=ev.CONVERSATION_REQUEUED,
    )


async def tell_buyer_of_transfer(
    session: AsyncSession,
    ctx: ShopContext,
    conversation: Conversation,
    role: ServiceRole,
    now: datetime,
    outbox: Outbox,
) -> None:
    """转接提示: in a chat moving to another role, the buyer is told in the shop's words for
    that role (``routing.console.transfer_notices``: 您好，已为您转接至退款专员，请稍候; empty
    to say nothing). The handoff note is a separate, internal message."""
    notice = ctx.routing.console.transfer_notices.get(role, "")
    if conversation.kind != "chat" or not notice.strip():
        return
    await add_message(
        session,
        conversation,
        MessageSpec(MessageSender.AUTO, notice, now),
        outbox,
        readers=ev.conversation_readers(conversation.assigned_agent_id),
    )


async def fill_agent(
    session: AsyncSession,
    ctx: ShopContext,
    agent_id: int,
    now: datetime,
    outbox: Outbox,
    queue: WorkQueue,
) -> list[int]:
    """Give a free agent the best queued items it may take, until its capacity is full.

    Claims come from the queue index (atomic: two agents never pop the same id); each id
    is re-checked against its row, so a stale index entry never assigns a closed item.
    Items the agent may not take (skills, another owner's buyer) go straight back.
    """
    taken: list[int] = []
    skipped: list[tuple[str, int, float]] = []
    try:
        while True:
            agents = await agent_facts(session, ctx.shop_id, user_ids=[agent_id])
            if not agents:
                break
            agent = agents[0]
            if all(agent.load(c) >= agent.capacity(c) for c in Channel):
                break
            exclude = frozenset(item_id for _, item_id, _ in skipped)
            claimed = await queue.claim(ctx.shop_id, sorted(agent.roles), exclude=exclude)
            if claimed is None:
                break
            conversation = await session.get(Conversation, claimed.item_id)
            if conversation is None or conversation.status is not ConversationStatus.QUEUED:
                continue  # stale index entry: the row moved on
            owner = await reserved_for(session, ctx, conversation, now)
            # Only a chase is strictly reserved (one chaser per buyer); a returning buyer's
            # chat was offered to the owner on arrival and is fair game once queued.
            reserved = (
                owner is not None and owner[0] != agent_id and conversation.kind in CHASE_KINDS
            )
            holders = await duty_holders(session, ctx.shop_id, conversation.kind, now)
            facts = item_facts(conversation, ctx, None, holders=holders)
            if reserved or not may_take(agent, facts, now):
                skipped.append((claimed.role, claimed.item_id, claimed.sort_key))
                continue
            if await assign(
                session, ctx, conversation, agent_id, now, outbox, "队列最优 / best queued"
            ):
                taken.append(conversation.id)
                outbox.took(ctx.shop_id, claimed.role, claimed.item_id, claimed.sort_key)
    finally:
        # Still queued in the database: back into the index at once, not after commit.
        for role, item_id, key in skipped:
            await queue.push(ctx.shop_id, role, item_id, key)
    return taken
