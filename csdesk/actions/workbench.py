"""What agents do to their work: status, replies, closing, transfers, chase outcomes.

A reply using one of the shop's forbidden phrases (服务态度提醒,
``routing.console.forbidden_phrases``) is held: nothing is stored and
:class:`ReplyHeldError` names the phrases, until the agent rewrites it or sends it anyway,
which the audit log records (``reply.forbidden_override``).

Every function owns its transaction and flushes the outbox after commit. Capacity freed
(closing, coming online) is filled from the queue at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit, auto_suspend, quick_replies
from csdesk.actions.closing import close_conversation, free_capacity
from csdesk.actions.conversations import MessageSpec
from csdesk.actions.messages import add_message, record_line
from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.quick_replies import PhraseSent
from csdesk.actions.routing import (
    assign,
    fill_agent,
    let_go_of_buyers,
    requeue,
    tell_buyer_of_transfer,
)
from csdesk.actions.triage_corrections import learn_from_transfer
from csdesk.auth.access import require
from csdesk.auth.current import CurrentUser
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.errors import BadInputError, ConflictError
from csdesk.qc.forbidden_phrases import PhraseHit, find_forbidden
from csdesk.reads.conversations import conversation_json, message_json
from csdesk.reads.quick_replies import image_json
from csdesk.roles import payment_chasing
from csdesk.roles.scoring import ROLE_ZH
from csdesk.roles.triage_rules import Intent
from csdesk.routing import facts as loaded
from csdesk.storage.console_models import MediaFile
from csdesk.storage.enums import AgentStatus, ConversationStatus, MessageSender, ServiceRole
from csdesk.storage.models import AgentProfile, Buyer, Conversation, Message, Order, User

WORKBENCH_ACCESS: Final = "workbench.use"


class WorkError(ConflictError):
    """The requested change does not apply (not yours, already closed, unknown role): 409."""


class ReplyHeldError(ValueError):
    """服务态度提醒: the reply uses forbidden phrases; it was not sent."""

    def __init__(self, hits: Sequence[PhraseHit]) -> None:
        self.hits = tuple(hits)
        names = "、".join(f"“{hit.phrase}”" for hit in self.hits)
        super().__init__(f"text: held, uses {names} (服务态度提醒)")


class BuyerWroteError(ValueError):
    """Collision (Freshdesk's traffic cop): the buyer wrote after the agent's draft began;
    the reply was not sent. ``messages`` are the buyer's new lines, oldest first."""

    def __init__(self, messages: Sequence[Message]) -> None:
        # As JSON now: the transaction rolls back and its rows expire.
        self.messages = tuple(message_json(m) for m in messages)
        super().__init__(
            f"text: held, the buyer wrote {len(self.messages)} new message(s) after your "
            "draft began: read them, then send again or edit"
        )


async def buyer_lines_after(
    session: AsyncSession, conversation_id: int, after_id: int
) -> list[Message]:
    """The buyer's messages in a conversation with ids above ``after_id``, oldest first."""
    return list(
        await session.scalars(
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.sender == MessageSender.BUYER,
                Message.id > after_id,
            )
            .order_by(Message.id)
        )
    )


def image_attachment(media: MediaFile) -> dict[str, object]:
    """A picture as a message carries it (and outbound delivery sends it)."""
    return {"type": "image", **image_json(media), "sha256": media.sha256}


async def access_own_conversation_by_id(
    session: AsyncSession, actor: CurrentUser, conversation_id: int
) -> Conversation:
    """The open conversation ``actor`` holds (409 if it is not open or not theirs: what the
    agent sees in their list can change under them)."""
    return await _held_by(session, actor.shop_id, actor.id, conversation_id)


async def _held_by(
    session: AsyncSession, shop_id: str, agent_id: int, conversation_id: int
) -> Conversation:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.shop_id != shop_id:
        raise WorkError(f"conversation {conversation_id}: not found")
    if conversation.status is not ConversationStatus.ASSIGNED:
        raise WorkError(f"conversation {conversation_id}: is {conversation.status.value}")
    if conversation.assigned_agent_id != agent_id:
        raise WorkError(f"conversation {conversation_id}: assigned to someone else")
    return conversation


async def set_agent_status(
    deps: Deps,
    shop_id: str,
    agent_id: int,
    status: AgentStatus,
    now: datetime,
    *,
    service_roles: Sequence[ServiceRole] | None = None,
) -> list[int]:
    """Change status (and, going on shift, the roles held). Away/offline hands unanswered
    items back to the queue keeping their age; offline also ends the agent's chase claims
    (the buyers' next chases go to whoever is on shift); online pulls the best queued
    work, unless the agent's open chats are at the 自动挂起 limit (then busy, announced as
    such)."""
    async with transaction(deps) as (session, outbox):
        profile = await session.get(AgentProfile, agent_id)
        if profile is None or profile.shop_id != shop_id:
            raise WorkError(f"user {agent_id}: has no agent profile in this shop")
        profile.status = status
        profile.status_changed_at = now
        profile.auto_suspended = False  # chosen by the agent, so not undone by itself
        if service_roles is not None:
            profile.service_roles = [ServiceRole(r).value for r in service_roles]
        ctx = await loaded.load_shop_context(session, shop_id)
        outbox.publish(
            BusEvent(
                ev.AGENT_STATUS,
                shop_id,
                (ev.to_user(agent_id), ev.SUPERVISORS),
                {"agent_id": agent_id, "status": status.value},
            )
        )
        if status is AgentStatus.OFFLINE:
            await let_go_of_buyers(session, shop_id, agent_id, now, outbox)
        if status in (AgentStatus.AWAY, AgentStatus.OFFLINE):
            unanswered = list(
                await session.scalars(
                    select(Conversation).where(
                        Conversation.shop_id == shop_id,
                        Conversation.assigned_agent_id == agent_id,
                        Conversation.status == ConversationStatus.ASSIGNED,
                        Conversation.first_response_at.is_(None),
                    )
                )
            )
            for item in unanswered:
                await requeue(
                    session,
                    ctx,
                    item,
                    now,
                    outbox,
                    exclude_agent=agent_id,
                    reason=f"接待人{'离开' if status is AgentStatus.AWAY else '下线'}, 回到队列",
                )
            return [item.id for item in unanswered]
        if status is AgentStatus.ONLINE:
            await auto_suspend.refit(session, ctx, agent_id, now, outbox)
            if profile.status is AgentStatus.ONLINE:
                await session.flush()
                return await fill_agent(session, ctx, agent_id, now, outbox, deps.queue)
    return []


MAX_AUTO_SUSPEND_AT = 50


async def set_auto_suspend(
    deps: Deps, shop_id: str, agent_id: int, limit: int | None, now: datetime
) -> list[int]:
    """自动挂起 at ``limit`` open chats (None: as the shop says, 0: off). Applies at once:
    at or over the new limit the agent goes busy; suspended and now below it, back online
    taking queued work (returns those items)."""
    if limit is not None and not 0 <= limit <= MAX_AUTO_SUSPEND_AT:
        raise WorkError(f"auto_suspend_at: must be from 0 to {MAX_AUTO_SUSPEND_AT} or null")
    async with transaction(deps) as (session, outbox):
        profile = await session.get(AgentProfile, agent_id)
        if profile is None or profile.shop_id != shop_id:
            raise WorkError(f"user {agent_id}: has no agent profile in this shop")
        profile.auto_suspend_at = limit
        ctx = await loaded.load_shop_context(session, shop_id)
        if await auto_suspend.refit(session, ctx, agent_id, now, outbox) is AgentStatus.ONLINE:
            await session.flush()
            return await fill_agent(session, ctx, agent_id, now, outbox, deps.queue)
    return []


async def reply(
    deps: Deps,
    actor: CurrentUser,
    conversation_id: int,
    text: str,
    now: datetime,
    *,
    send_anyway: bool = False,
    image_id: int | None = None,
    quick_reply: PhraseSent | None = None,
    seen_message_id: int | None = None,
) -> int:
    """Send a reply to the buyer in a conversation ``actor`` holds, with an optional image
    (``media_file``) of the shop. Held (:class:`ReplyHeldError`) while it uses a forbidden
    phrase, unless ``send_anyway``: then it is sent and the override audited. Held
    (:class:`BuyerWroteError`) when ``seen_message_id`` is given and the buyer wrote after
    it (the draft began before those lines). ``quick_reply`` counts the phrase it came
    from. Returns the message id."""
    require(actor, WORKBENCH_ACCESS)
    if not text.strip() and image_id is None:
        raise WorkError("text: must not be empty")
    shop_id, agent_id = actor.shop_id, actor.id
    async with transaction(deps) as (session, outbox):
        conversation = await access_own_conversation_by_id(session, actor, conversation_id)
        if seen_message_id is not None:
            newer = await buyer_lines_after(session, conversation.id, seen_message_id)
            if newer:
                raise BuyerWroteError(newer)
        ctx = await loaded.load_shop_context(session, shop_id)
        hits = find_forbidden(text, ctx.routing.console.active_forbidden_phrases)
        if hits and not send_anyway:
            raise ReplyHeldError(hits)
        attachments: tuple[dict[str, object], ...] = ()
        if image_id is not None:
            media = await session.get(MediaFile, image_id)
            if media is None or media.shop_id != shop_id:
                raise BadInputError("image_id", f"image {image_id}: not found")
            attachments = (image_attachment(media),)
        message_id = await add_message(
            session,
            conversation,
            MessageSpec(
                MessageSender.AGENT,
                text,
                now,
                author_id=agent_id,
                kind="image" if attachments else "text",
                attachments=attachments,
            ),
            outbox,
            readers=(ev.to_user(agent_id), ev.SUPERVISORS),
        )
        assert message_id is not None  # announced, so written now
        if quick_reply is not None:
            await quick_replies.record_use(
                session,
                actor,
                quick_reply,
                now,
                conversation_id=conversation.id,
                message_id=message_id,
            )
        if conversation.first_response_at is None:
            conversation.first_response_at = now
        if hits:
            audit.record(
                session,
                shop_id=shop_id,
                actor_id=agent_id,
                action="reply.forbidden_override",
                target_type="message",
                target_id=message_id,
                at=now,
                reason="仍然发送 / sent anyway",
                detail={
                    "conversation_id": conversation.id,
                    "phrases": [hit.phrase for hit in hits],
                },
            )
        return message_id


async def close(
    deps: Deps,
    actor: CurrentUser,
    conversation_id: int,
    now: datetime,
    *,
    disposition: str,
    tags: Sequence[str] = (),
) -> None:
    """接待结束: close a conversation ``actor`` holds; their next queued item comes at once."""
    require(actor, WORKBENCH_ACCESS)
    if not disposition.strip():
        raise WorkError("disposition: is required")
    async with transaction(deps) as (session, outbox):
        conversation = await access_own_conversation_by_id(session, actor, conversation_id)
        await close_conversation(
            session, deps.queue, conversation, disposition, now, outbox, by=actor.id, tags=tags
        )


async def transfer(
    deps: Deps,
    actor: CurrentUser,
    conversation_id: int,
    to_role: str,
    note: str,
    now: datetime,
    *,
    to_agent_id: int | None = None,
    intent: Intent | None = None,
) -> int | None:
    """转接: to another role with a required note; history and age go along. In a chat the
    buyer is told, in the shop's words for the target role (``routing.console
    .transfer_notices``: 您好，已为您转接至退款专员，请稍候). With ``to_agent_id`` it goes
    to that colleague (on shift in the role, online or busy, below their chat capacity)
    instead of the role's queue. Returns the new holder, if any.
    The transfer teaches the shop's triage model what the buyer wanted (``intent``, or the
    target role's only intent): ``actions.triage_learning.learn_from_transfer``."""
    require(actor, WORKBENCH_ACCESS)
    try:
        role = ServiceRole(to_role)
    except ValueError:
        raise WorkError(f"to_role: unknown role {to_role!r}") from None
    if not note.strip():
        raise WorkError("note: a handoff note is required")
    async with transaction(deps) as (session, outbox):
        conversation = await access_own_conversation_by_id(session, actor, conversation_id)
        ctx = await loaded.load_shop_context(session, actor.shop_id)
        if to_agent_id is not None:
            await _check_colleague(session, actor, to_agent_id, role)
        await learn_from_transfer(session, ctx, conversation, role, actor.id, now, intent)
        conversation.role = role.value
        await tell_buyer_of_transfer(session, ctx, conversation, role, now, outbox)
        if to_agent_id is None:
            new_agent = await requeue(
                session,
                ctx,
                conversation,
                now,
                outbox,
                exclude_agent=actor.id,
                reason=f"转接到{ROLE_ZH[role]}: {note}",
            )
        else:
            reason = f"转接给同事({ROLE_ZH[role]}): {note}"
            conversation.status = ConversationStatus.QUEUED  # what assign() claims from
            conversation.enqueued_at = conversation.enqueued_at or now
            record_line(session, conversation, MessageSpec(MessageSender.SYSTEM, reason, now))
            await session.flush()
            if not await assign(session, ctx, conversation, to_agent_id, now, outbox, reason):
                raise WorkError(f"conversation {conversation_id}: changed meanwhile")
            outbox.publish(
                BusEvent(
                    ev.CONVERSATION_REASSIGNED,
                    actor.shop_id,
                    (ev.to_user(actor.id), ev.to_user(to_agent_id), ev.SUPERVISORS),
                    {
                        "conversation_id": conversation.id,
                        "from_agent_id": actor.id,
                        "to_agent_id": to_agent_id,
                        "status": conversation.status.value,
                        "by": actor.id,
                        "reason": reason,
                    },
                )
            )
            new_agent = to_agent_id
        await free_capacity(session, deps.queue, actor.shop_id, actor.id, now, outbox, ctx=ctx)
        return new_agent


async def _check_colleague(
    session: AsyncSession, actor: CurrentUser, agent_id: int, role: ServiceRole
) -> AgentProfile:
    """A colleague a chat may be handed to: on shift in ``role``, working, with room."""
    if agent_id == actor.id:
        raise BadInputError("to_agent_id", "is you: choose a colleague")
    profile = await session.get(AgentProfile, agent_id)
    user = await session.get(User, agent_id)
    if profile is None or profile.shop_id != actor.shop_id or user is None or not user.is_active:
        raise BadInputError("to_agent_id", f"user {agent_id} is not an agent of this shop")
    if role.value not in profile.service_roles:
        raise WorkError(f"to_agent_id: {user.display_name} is not on shift as {role.value}")
    if profile.status not in (AgentStatus.ONLINE, AgentStatus.BUSY):
        raise WorkError(f"to_agent_id: {user.display_name} is {profile.status.value}")
    load = await session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(
            Conversation.assigned_agent_id == agent_id,
            Conversation.status == ConversationStatus.ASSIGNED,
        )
    )
    if int(load or 0) >= profile.chat_capacity:
        raise WorkError(f"to_agent_id: {user.display_name} is full ({load} open chats)")
    return profile


MAX_SNOOZE_MINUTES: Final = 240


async def snooze(
    deps: Deps, actor: CurrentUser, conversation_id: int, minutes: int, now: datetime
) -> datetime | None:
    """稍后处理: put a chat I hold aside for ``minutes`` (0: wake it now). Its row sinks and
    stays quiet until then, or until the buyer writes; it stays mine. Returns until when."""
    require(actor, WORKBENCH_ACCESS)
    if not 0 <= minutes <= MAX_SNOOZE_MINUTES:
        raise BadInputError("minutes", f"must be from 0 to {MAX_SNOOZE_MINUTES}")
    async with transaction(deps) as (session, outbox):
        conversation = await access_own_conversation_by_id(session, actor, conversation_id)
        until = now + timedelta(minutes=minutes) if minutes else None
        conversation.snoozed_at = now if until else None
        conversation.snoozed_until = until
        outbox.publish(
            BusEvent(
                ev.CONVERSATION_UPDATED,
                actor.shop_id,
                (ev.to_user(actor.id), ev.SUPERVISORS),
                {
                    "conversation": conversation_json(conversation),
                    "change": "snoozed" if until else "woken",
                    "by": actor.id,
                    "snoozed_until": until.isoformat() if until else None,
                },
            )
        )
        return until


async def record_chase_attempt(
    deps: Deps,
    shop_id: str,
    agent_id: int,
    conversation_id: int,
    outcome: str,
    now: datetime,
) -> datetime | None:
    """A chase was made and the buyer has not paid: count it and schedule the next one
    (quiet hours, at most N in 24 h) or close the chase. Returns the next chase time."""
    async with transaction(deps) as (session, outbox):
        conversation = await _held_by(session, shop_id, agent_id, conversation_id)
        if conversation.kind not in ("payment_chase", "phone_chase"):
            raise WorkError(f"conversation {conversation_id}: is not a chase")
        ctx = await loaded.load_shop_context(session, shop_id)
        conversation.attempts += 1
        conversation.last_attempt_at = now
        if conversation.first_response_at is None:
            conversation.first_response_at = now
        await add_message(
            session,
            conversation,
            MessageSpec(MessageSender.SYSTEM, f"催付结果: {outcome}", now),
            outbox,
        )
        order = await session.get(Order, conversation.order_id) if conversation.order_id else None
        buyer = await session.get(Buyer, conversation.buyer_id) if conversation.buyer_id else None
        decision = None
        if order is not None and buyer is not None:
            decision = payment_chasing.plan_chase(
                loaded.order_facts(order),
                loaded.buyer_facts(buyer),
                conversation.attempts,
                now,
                now,
                ctx.routing,
                ctx.promotion,
            )
        if decision is None or decision.due_at is None:
            await close_conversation(
                session,
                deps.queue,
                conversation,
                f"chase_{outcome}",
                now,
                outbox,
                by=agent_id,
                ctx=ctx,
            )
            return None
        # Back to scheduled; the buyer's chase claim keeps it with this chaser. It leaves
        # the agent's list as a close would (the console drops it), and frees the slot.
        conversation.status = ConversationStatus.SCHEDULED
        conversation.assigned_agent_id = None
        conversation.assigned_at = None
        conversation.not_before = decision.due_at
        conversation.enqueued_at = None
        outbox.publish(
            BusEvent(
                ev.CONVERSATION_CLOSED,
                shop_id,
                (ev.to_user(agent_id), ev.SUPERVISORS),
                {"conversation_id": conversation.id, "disposition": "chase_scheduled"},
            )
        )
        await free_capacity(session, deps.queue, shop_id, agent_id, now, outbox, ctx=ctx)
        return decision.due_at


__all__ = [
    "BuyerWroteError",
    "ReplyHeldError",
    "WorkError",
    "close",
    "record_chase_attempt",
    "reply",
    "set_agent_status",
    "set_auto_suspend",
    "snooze",
    "transfer",
]
