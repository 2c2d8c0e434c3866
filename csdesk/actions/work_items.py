"""What every role action on one work item shares: finding it for the actor, refusing what
does not apply, notes, tags and events about it (closing is ``actions.closing``).

Errors are ``csdesk.errors`` classes the web layer maps one to one: :class:`ItemNotFoundError`
(404), :class:`InputError` (400, naming the field), :class:`ItemConflictError` (409, the
item's state does not allow it); access refusals are the access table's
``AccessDeniedError`` (403). The order of the checks is part of the contract: not in your
shop (404) before not yours (403) before the wrong kind or state (409).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions.conversations import MessageSpec
from csdesk.actions.messages import record_line
from csdesk.actions.outbox import Outbox
from csdesk.actions.workbench import WorkError
from csdesk.auth.access import only_own, require
from csdesk.auth.current import CurrentUser
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.errors import BadInputError, NotFoundError
from csdesk.reads.conversations import conversation_json
from csdesk.reads.queues import queue_depths
from csdesk.storage.enums import ConversationStatus, MessageSender
from csdesk.storage.kinds import OPEN
from csdesk.storage.models import Conversation

MAX_REASON_CHARS: Final = 200


class ItemNotFoundError(NotFoundError):
    """No such item (or agent, or order) in the actor's shop."""


class ItemConflictError(WorkError):
    """The item's state does not allow the change: closed, queued, the wrong kind."""


class InputError(BadInputError):
    """A bad argument; ``field`` names it (``reason``, ``shifts[2].ends_at``)."""


def required_text(value: str | None, field: str, *, max_chars: int = MAX_REASON_CHARS) -> str:
    """A trimmed, non-empty text of at most ``max_chars`` (a reason, a note, an address)."""
    text = (value or "").strip()
    if not text:
        raise InputError(field, "is required (必填)")
    if len(text) > max_chars:
        raise InputError(field, f"must be at most {max_chars} characters")
    return text


def optional_text(value: str | None, field: str, *, max_chars: int = MAX_REASON_CHARS) -> str:
    text = (value or "").strip()
    if len(text) > max_chars:
        raise InputError(field, f"must be at most {max_chars} characters")
    return text


async def access_item_by_id(
    session: AsyncSession,
    actor: CurrentUser,
    conversation_id: int,
    access: str,
    kinds: Sequence[str] | None,
    *,
    allow_closed: bool = False,
    lock: bool = True,
) -> Conversation:
    """The item ``actor`` may act on under ``access``, locked for this transaction (a
    concurrent action on it waits, then sees the state this one left).

    ``kinds`` None accepts any kind. Agents (own-only roles) act only on items assigned to
    them: an item nobody holds is a state problem (take it first, 409); an item another
    agent holds is not theirs (403).
    """
    conversation = await session.get(
        Conversation, conversation_id, with_for_update=True if lock else None
    )
    if conversation is None or conversation.shop_id != actor.shop_id:
        raise ItemNotFoundError(f"conversation {conversation_id}: not found")
    if only_own(actor, access) and conversation.assigned_agent_id is None:
        raise ItemConflictError(
            f"conversation {conversation_id}: not assigned to you (it is "
            f"{conversation.status.value})"
        )
    require(actor, access, conversation)
    if kinds is not None and conversation.kind not in kinds:
        raise ItemConflictError(
            f"conversation {conversation_id}: is a {conversation.kind} item, "
            f"not {' / '.join(kinds)}"
        )
    if conversation.status is ConversationStatus.CLOSED and not allow_closed:
        raise ItemConflictError(
            f"conversation {conversation_id}: already closed ({conversation.disposition})"
        )
    return conversation


def note(session: AsyncSession, conversation: Conversation, text: str, now: datetime) -> None:
    """A system line in the item's history: what was decided, by the desk, and why (not
    announced; written with the transaction's flush, see ``messages.add_message``)."""
    record_line(session, conversation, MessageSpec(MessageSender.SYSTEM, text, now))


def mark_acted(conversation: Conversation, now: datetime) -> None:
    """A task's first action is its first response (SLA, and the board's "silent" count)."""
    if conversation.first_response_at is None:
        conversation.first_response_at = now


def add_tags(conversation: Conversation, *tags: str) -> None:
    conversation.tags = sorted(set(conversation.tags) | set(tags))


def recipients(conversation: Conversation, *also: int | None) -> tuple[str, ...]:
    """The holder of the item, anyone else named, and the supervisors."""
    users = dict.fromkeys(
        user for user in (conversation.assigned_agent_id, *also) if user is not None
    )
    return (*(ev.to_user(user) for user in users), ev.SUPERVISORS)


def publish_updated(
    outbox: Outbox,
    conversation: Conversation,
    change: str,
    actor_id: int,
    detail: dict[str, Any] | None = None,
) -> None:
    outbox.publish(
        BusEvent(
            ev.CONVERSATION_UPDATED,
            conversation.shop_id,
            recipients(conversation, actor_id),
            {
                "conversation": conversation_json(conversation),
                "change": change,
                "by": actor_id,
                **(detail or {}),
            },
        )
    )


async def publish_queue_depths(
    session: AsyncSession, shop_id: str, roles: Iterable[str], outbox: Outbox
) -> None:
    """``queue.changed`` for each role touched (bulk moves, campaigns): depth as committed."""
    wanted = sorted(set(roles))
    if not wanted:
        return
    await session.flush()
    depths = {role: d.depth for role, d in (await queue_depths(session, shop_id, wanted)).items()}
    for role, depth in depths.items():
        outbox.publish(
            BusEvent(
                ev.QUEUE_CHANGED,
                shop_id,
                (ev.to_role(role), ev.SUPERVISORS),
                {"role": role, "depth": depth},
            )
        )


__all__ = [
    "OPEN",
    "InputError",
    "ItemConflictError",
    "ItemNotFoundError",
    "access_item_by_id",
    "add_tags",
    "mark_acted",
    "note",
    "optional_text",
    "publish_queue_depths",
    "publish_updated",
    "recipients",
    "required_text",
]
