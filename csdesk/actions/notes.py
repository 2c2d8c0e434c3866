"""Private notes (内部备注) on a conversation, with @mentions that notify colleagues.

A note is a message with sender ``note``: staff read it in the transcript, the buyer never
does, and it is not an answer (waiting clocks and the first response ignore it). Agents
write notes in conversations assigned to them, supervisors and up in any of the shop
(``conversations.note``). ``@username`` names an active user of the shop; each one
mentioned (other than the author) gets a ``note.mentioned`` event addressed to them alone,
saying whether they may open the conversation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from csdesk.actions.conversations import MessageSpec
from csdesk.actions.messages import add_message
from csdesk.actions.outbox import Deps, transaction
from csdesk.actions.users import as_current_user
from csdesk.actions.work_items import InputError, ItemNotFoundError
from csdesk.auth.access import can_read_conversation, require
from csdesk.auth.current import CurrentUser
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.storage.enums import MessageSender
from csdesk.storage.models import Buyer, Conversation, User

MAX_NOTE_CHARS = 2000


def _continues_name(ch: str) -> bool:
    """Whether a Latin username could go on with ``ch`` (then ``@lead2`` is not ``@lead``)."""
    return ch.isascii() and (ch.isalnum() or ch in "_.:@-")


def mentioned(text: str, usernames: Iterable[str]) -> list[str]:
    """The usernames ``@mentioned`` in ``text``, in order, each once. At each ``@`` the
    longest known username that follows counts (case does not matter), so "@xiaomei请看"
    mentions xiaomei; a Latin name must end there ("@lead2" is not lead), and an ``@``
    inside a Latin word is an address, not a mention (mail@lead)."""
    names = sorted({name.lower() for name in usernames if name}, key=len, reverse=True)
    folded = text.lower()
    found: list[str] = []
    at = folded.find("@")
    while at >= 0:
        if at > 0 and folded[at - 1].isascii() and folded[at - 1].isalnum():
            at = folded.find("@", at + 1)
            continue
        rest = folded[at + 1 :]
        for name in names:
            if not rest.startswith(name):
                continue
            after = rest[len(name) : len(name) + 1]
            if after and _continues_name(name[-1]) and _continues_name(after):
                continue
            if name not in found:
                found.append(name)
            break
        at = folded.find("@", at + 1)
    return found


@dataclass(frozen=True)
class Note:
    message: dict[str, Any]
    mentioned: list[dict[str, Any]]
    """``{id, username, display_name}`` of each user notified."""


async def add_note(
    deps: Deps, actor: CurrentUser, conversation_id: int, text: str, now: datetime
) -> Note:
    """Write a private note; notify the users it mentions."""
    if not text.strip():
        raise InputError("text", "is required (必填)")
    if len(text) > MAX_NOTE_CHARS:
        raise InputError("text", f"must be at most {MAX_NOTE_CHARS} characters")
    async with transaction(deps) as (session, outbox):
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None or conversation.shop_id != actor.shop_id:
            raise ItemNotFoundError(f"conversation {conversation_id}: not found")
        require(actor, "conversations.note", conversation)
        users = list(
            await session.scalars(
                select(User).where(User.shop_id == actor.shop_id, User.is_active.is_(True))
            )
        )
        by_name = {user.username.lower(): user for user in users}
        named = [by_name[name] for name in mentioned(text, by_name) if name in by_name]
        notified = [user for user in named if user.id != actor.id]
        readers = {ev.to_user(actor.id), *ev.conversation_readers(conversation.assigned_agent_id)}
        await add_message(
            session,
            conversation,
            MessageSpec(MessageSender.NOTE, text, now, author_id=actor.id),
            outbox,
            readers=tuple(sorted(readers)),
            extra={"author_name": actor.display_name, "mentions": [u.id for u in notified]},
        )
        created = outbox.events[-1]  # the note as add_message announced it
        note: dict[str, Any] = created.payload["message"]
        buyer = await session.get(Buyer, conversation.buyer_id) if conversation.buyer_id else None
        for user in notified:
            outbox.publish(
                BusEvent(
                    ev.NOTE_MENTIONED,
                    actor.shop_id,
                    (ev.to_user(user.id),),
                    {
                        "conversation_id": conversation.id,
                        "buyer_nick": buyer.nick if buyer else None,
                        "message": note,
                        "by": {"id": actor.id, "display_name": actor.display_name},
                        "can_open": can_read_conversation(as_current_user(user), conversation),
                    },
                )
            )
        return Note(
            message=note,
            mentioned=[
                {"id": user.id, "username": user.username, "display_name": user.display_name}
                for user in notified
            ],
        )


__all__ = ["MAX_NOTE_CHARS", "Note", "add_note", "mentioned"]
