"""The quick-reply library (快捷短语): shop-wide groups edited by supervisors, each agent's
personal phrases, images, hotkeys for up to nine favourites, and the count of each send.

A shop starts on the built-in library (``reads/quick_reply_library.py``); the first change
to it, a hotkey on a built-in phrase, or a built-in phrase sent, stores the built-ins as the
shop's own rows (:func:`store_builtin_library`), so from then on the shop edits and counts
its own copy. Shop-wide changes are audited (``quick_reply.*``); personal ones are the
agent's own business.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions import audit
from csdesk.auth.access import can, require
from csdesk.auth.current import CurrentUser
from csdesk.errors import BadInputError, ConflictError, ForbiddenError, NotFoundError
from csdesk.reads.quick_replies import MAX_HOTKEYS, builtin_groups, has_stored_library
from csdesk.storage.console_models import (
    MediaFile,
    QuickReply,
    QuickReplyGroup,
    QuickReplyHotkey,
    QuickReplyUse,
)
from csdesk.storage.engine import SessionFactory
from csdesk.storage.enums import ServiceRole

USE: Final = "quick_replies.use"
EDIT: Final = "quick_replies.edit"
MAX_GROUP_CHARS: Final = 32
MAX_CODE_CHARS: Final = 16
MAX_PHRASE_CHARS: Final = 500
MAX_GROUPS: Final = 50
MAX_PHRASES_PER_GROUP: Final = 200
PERSONAL_GROUP: Final = "我的短语"
"""The personal group a phrase goes to when the agent names none."""
_CODE: Final = re.compile(r"[0-9a-z]+")


@dataclass(frozen=True)
class PhraseRef:
    """A phrase as the console names it: its id, or (a built-in not stored yet) its code."""

    id: int | None = None
    code: str | None = None


@dataclass(frozen=True)
class PhraseSent:
    """A reply made from a quick reply: which one, and whether the agent changed it."""

    ref: PhraseRef
    edited: bool = False


# -- checks -----------------------------------------------------------------------------------


def check_group_name(raw: str) -> str:
    name = raw.strip()
    if not name:
        raise BadInputError("name", "is required (必填)")
    if len(name) > MAX_GROUP_CHARS:
        raise BadInputError("name", f"must be at most {MAX_GROUP_CHARS} characters")
    return name


def check_code(raw: str) -> str:
    code = raw.strip().lower().lstrip("/")
    if not code:
        raise BadInputError("code", "is required (必填)")
    if len(code) > MAX_CODE_CHARS or not _CODE.fullmatch(code):
        raise BadInputError(
            "code", f"must be 1 to {MAX_CODE_CHARS} letters or digits, e.g. hy or cf2"
        )
    return code


def check_text(raw: str) -> str:
    text = raw.strip()
    if not text:
        raise BadInputError("text", "is required (必填)")
    if len(text) > MAX_PHRASE_CHARS:
        raise BadInputError("text", f"must be at most {MAX_PHRASE_CHARS} characters")
    return text


def check_roles(raw: Iterable[str]) -> list[str]:
    roles: list[str] = []
    for value in raw:
        try:
            role = ServiceRole(value).value
        except ValueError:
            choices = ", ".join(r.value for r in ServiceRole)
            raise BadInputError("roles", f"unknown role {value!r} (one of {choices})") from None
        if role not in roles:
            roles.append(role)
    return roles


def check_slot(slot: int) -> int:
    if isinstance(slot, bool) or not isinstance(slot, int) or not 1 <= slot <= MAX_HOTKEYS:
        raise BadInputError("slot", f"must be a whole number from 1 to {MAX_HOTKEYS}")
    return slot


# -- loading with access ---------------------------------------------------------------------


async def store_builtin_library(session: AsyncSession, shop_id: str, now: datetime) -> bool:
    """Copy the built-in library into the shop's rows, once; True when it did."""
    if await has_stored_library(session, shop_id):
        return False
    for position, group in enumerate(builtin_groups()):
        row = QuickReplyGroup(
            shop_id=shop_id,
            owner_id=None,
            name=group.name,
            roles=sorted(group.roles),
            position=position,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
        for index, phrase in enumerate(group.phrases):
            session.add(
                QuickReply(
                    shop_id=shop_id,
                    group_id=row.id,
                    owner_id=None,
                    code=phrase.code,
                    text=phrase.text,
                    position=index,
                    use_count=0,
                    created_at=now,
                    updated_at=now,
                )
            )
    await session.flush()
    return True


async def store_library(sessions: SessionFactory, actor: CurrentUser, now: datetime) -> bool:
    """A supervisor is about to edit the built-in library: keep it as the shop's own."""
    require(actor, EDIT)
    async with sessions.begin() as session:
        copied = await store_builtin_library(session, actor.shop_id, now)
        if copied:
            audit.record(
                session,
                shop_id=actor.shop_id,
                actor_id=actor.id,
                action="quick_reply.library_stored",
                target_type="shop",
                target_id=actor.shop_id,
                at=now,
            )
        return copied


def _may_change(actor: CurrentUser, owner_id: int | None) -> None:
    """Shop-wide rows: supervisors and up; personal rows: their owner only."""
    if owner_id is None:
        if not can(actor, EDIT):
            raise ForbiddenError("only supervisors change the shop's quick replies (无权限)")
    elif owner_id != actor.id:
        raise NotFoundError("quick reply: not found")


async def _group(session: AsyncSession, actor: CurrentUser, group_id: int) -> QuickReplyGroup:
    group = await session.get(QuickReplyGroup, group_id, with_for_update=True)
    if group is None or group.shop_id != actor.shop_id:
        raise NotFoundError(f"group {group_id}: not found", field="group_id")
    if group.owner_id is not None and group.owner_id != actor.id:
        raise NotFoundError(f"group {group_id}: not found", field="group_id")
    return group


async def _phrase(session: AsyncSession, actor: CurrentUser, phrase_id: int) -> QuickReply:
    phrase = await session.get(QuickReply, phrase_id, with_for_update=True)
    if phrase is None or phrase.shop_id != actor.shop_id:
        raise NotFoundError(f"quick reply {phrase_id}: not found", field="phrase_id")
    if phrase.owner_id is not None and phrase.owner_id != actor.id:
        raise NotFoundError(f"quick reply {phrase_id}: not found", field="phrase_id")
    return phrase


async def resolve_phrase(
    session: AsyncSession, actor: CurrentUser, ref: PhraseRef, now: datetime
) -> QuickReply:
    """The phrase ``ref`` names that ``actor`` sees (a built-in's code stores the library)."""
    if ref.id is not None:
        return await _phrase(session, actor, ref.id)
    if not ref.code:
        raise BadInputError("quick_reply", "give the phrase's id or code")
    await store_builtin_library(session, actor.shop_id, now)
    phrase = await session.scalar(
        select(QuickReply)
        .where(
            QuickReply.shop_id == actor.shop_id,
            QuickReply.owner_id.is_(None),
            QuickReply.code == ref.code,
        )
        .order_by(QuickReply.id)
        .limit(1)
    )
    if phrase is None:
        raise NotFoundError(f"quick reply /{ref.code}: not found", field="quick_reply")
    return phrase


async def _image(session: AsyncSession, actor: CurrentUser, image_id: int | None) -> int | None:
    if image_id is None:
        return None
    media = await session.get(MediaFile, image_id)
    if media is None or media.shop_id != actor.shop_id:
        raise BadInputError("image_id", f"image {image_id}: not found")
    return media.id


async def _code_taken(
    session: AsyncSession, shop_id: str, owner_id: int | None, code: str, *, but: int | None
) -> bool:
    owner = QuickReply.owner_id.is_(None) if owner_id is None else QuickReply.owner_id == owner_id
    query = select(QuickReply.id).where(
        QuickReply.shop_id == shop_id, owner, QuickReply.code == code
    )
    if but is not None:
        query = query.where(QuickReply.id != but)
    return (await session.scalar(query.limit(1))) is not None


def _audit(
    session: AsyncSession,
    actor: CurrentUser,
    action: str,
    target_type: str,
    target_id: int,
    now: datetime,
    detail: dict[str, object],
) -> None:
    audit.record(
        session,
        shop_id=actor.shop_id,
        actor_id=actor.id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        at=now,
        detail=detail,
    )


# -- groups -----------------------------------------------------------------------------------


async def add_group(
    sessions: SessionFactory,
    actor: CurrentUser,
    name: str,
    now: datetime,
    *,
    personal: bool,
    roles: Sequence[str] = (),
) -> int:
    """A new group at the end: shop-wide (supervisors) or mine."""
    require(actor, USE)
    name = check_group_name(name)
    owner_id = actor.id if personal else None
    _may_change(actor, owner_id)
    checked = [] if personal else check_roles(roles)
    async with sessions.begin() as session:
        if not personal:
            await store_builtin_library(session, actor.shop_id, now)
        owner = (
            QuickReplyGroup.owner_id.is_(None)
            if owner_id is None
            else QuickReplyGroup.owner_id == owner_id
        )
        names = list(
            await session.scalars(
                select(QuickReplyGroup.name).where(QuickReplyGroup.shop_id == actor.shop_id, owner)
            )
        )
        if name in names:
            raise ConflictError(f"group {name!r} already exists", field="name")
        if len(names) >= MAX_GROUPS:
            raise ConflictError(f"at most {MAX_GROUPS} groups", field="name")
        group = QuickReplyGroup(
            shop_id=actor.shop_id,
            owner_id=owner_id,
            name=name,
            roles=checked,
            position=len(names),
            created_at=now,
            updated_at=now,
        )
        session.add(group)
        await session.flush()
        if owner_id is None:
            _audit(
                session,
                actor,
                "quick_reply.group_added",
                "quick_reply_group",
                group.id,
                now,
                {"name": name, "roles": checked},
            )
        return group.id


async def update_group(
    sessions: SessionFactory,
    actor: CurrentUser,
    group_id: int,
    now: datetime,
    *,
    name: str | None = None,
    roles: Sequence[str] | None = None,
) -> None:
    require(actor, USE)
    async with sessions.begin() as session:
        group = await _group(session, actor, group_id)
        _may_change(actor, group.owner_id)
        changed: dict[str, object] = {}
        if name is not None:
            checked = check_group_name(name)
            if checked != group.name:
                clash = await session.scalar(
                    select(QuickReplyGroup.id).where(
                        QuickReplyGroup.shop_id == actor.shop_id,
                        QuickReplyGroup.owner_id.is_(None)
                        if group.owner_id is None
                        else QuickReplyGroup.owner_id == group.owner_id,
                        QuickReplyGroup.name == checked,
                    )
                )
                if clash is not None:
                    raise ConflictError(f"group {checked!r} already exists", field="name")
                changed["name"] = [group.name, checked]
                group.name = checked
        if roles is not None and group.owner_id is None:
            checked_roles = check_roles(roles)
            changed["roles"] = [list(group.roles), checked_roles]
            group.roles = checked_roles
        group.updated_at = now
        if group.owner_id is None and changed:
            _audit(
                session,
                actor,
                "quick_reply.group_changed",
                "quick_reply_group",
                group.id,
                now,
                changed,
            )


async def delete_group(
    sessions: SessionFactory, actor: CurrentUser, group_id: int, now: datetime
) -> None:
    """The group and its phrases go (their hotkeys with them)."""
    require(actor, USE)
    async with sessions.begin() as session:
        group = await _group(session, actor, group_id)
        _may_change(actor, group.owner_id)
        count = await session.scalar(
            select(func.count()).select_from(QuickReply).where(QuickReply.group_id == group.id)
        )
        phrase_ids = select(QuickReply.id).where(QuickReply.group_id == group.id)
        await session.execute(
            delete(QuickReplyHotkey).where(QuickReplyHotkey.quick_reply_id.in_(phrase_ids))
        )
        await session.execute(
            delete(QuickReplyUse).where(QuickReplyUse.quick_reply_id.in_(phrase_ids))
        )
        await session.execute(delete(QuickReply).where(QuickReply.group_id == group.id))
        if group.owner_id is None:
            _audit(
                session,
                actor,
                "quick_reply.group_deleted",
                "quick_reply_group",
                group.id,
                now,
                {"name": group.name, "phrases": int(count or 0)},
            )
        await session.delete(group)


# -- phrases ----------------------------------------------------------------------------------


async def _personal_group(
    session: AsyncSession, actor: CurrentUser, name: str, now: datetime
) -> QuickReplyGroup:
    group = await session.scalar(
        select(QuickReplyGroup).where(
            QuickReplyGroup.shop_id == actor.shop_id,
            QuickReplyGroup.owner_id == actor.id,
            QuickReplyGroup.name == name,
        )
    )
    if group is not None:
        return group
    count = await session.scalar(
        select(func.count())
        .select_from(QuickReplyGroup)
        .where(QuickReplyGroup.shop_id == actor.shop_id, QuickReplyGroup.owner_id == actor.id)
    )
    group = QuickReplyGroup(
        shop_id=actor.shop_id,
        owner_id=actor.id,
        name=name,
        roles=[],
        position=int(count or 0),
        created_at=now,
        updated_at=now,
    )
    session.add(group)
    await session.flush()
    return group


async def add_phrase(
    sessions: SessionFactory,
    actor: CurrentUser,
    now: datetime,
    *,
    code: str,
    text: str,
    group_id: int | None = None,
    personal_group: str | None = None,
    image_id: int | None = None,
) -> int:
    """A phrase at the end of a group: ``group_id`` (shop-wide or mine), or my personal
    group named ``personal_group`` (made when missing; default 我的短语)."""
    require(actor, USE)
    code = check_code(code)
    text = check_text(text)
    async with sessions.begin() as session:
        if group_id is not None:
            group = await _group(session, actor, group_id)
        else:
            name = check_group_name(personal_group or PERSONAL_GROUP)
            group = await _personal_group(session, actor, name, now)
        _may_change(actor, group.owner_id)
        if await _code_taken(session, actor.shop_id, group.owner_id, code, but=None):
            raise ConflictError(f"code /{code} is already used", field="code")
        count = int(
            await session.scalar(
                select(func.count()).select_from(QuickReply).where(QuickReply.group_id == group.id)
            )
            or 0
        )
        if count >= MAX_PHRASES_PER_GROUP:
            raise ConflictError(f"at most {MAX_PHRASES_PER_GROUP} phrases in a group")
        phrase = QuickReply(
            shop_id=actor.shop_id,
            group_id=group.id,
            owner_id=group.owner_id,
            code=code,
            text=text,
            image_id=await _image(session, actor, image_id),
            position=count,
            use_count=0,
            created_at=now,
            updated_at=now,
            updated_by=actor.id,
        )
        session.add(phrase)
        await session.flush()
        if group.owner_id is None:
            _audit(
                session,
                actor,
                "quick_reply.added",
                "quick_reply",
                phrase.id,
                now,
                {"code": code, "group": group.name},
            )
        return phrase.id


async def update_phrase(
    sessions: SessionFactory,
    actor: CurrentUser,
    phrase_id: int,
    now: datetime,
    *,
    code: str | None = None,
    text: str | None = None,
    group_id: int | None = None,
    set_image: bool = False,
    image_id: int | None = None,
) -> None:
    """Change a phrase's code, text, group (within its scope) or, with ``set_image``, its
    image (``image_id`` None removes it)."""
    require(actor, USE)
    async with sessions.begin() as session:
        phrase = await _phrase(session, actor, phrase_id)
        _may_change(actor, phrase.owner_id)
        changed: dict[str, object] = {}
        if code is not None:
            checked = check_code(code)
            if checked != phrase.code:
                if await _code_taken(
                    session, actor.shop_id, phrase.owner_id, checked, but=phrase.id
                ):
                    raise ConflictError(f"code /{checked} is already used", field="code")
                changed["code"] = [phrase.code, checked]
                phrase.code = checked
        if text is not None:
            checked_text = check_text(text)
            if checked_text != phrase.text:
                changed["text"] = [phrase.text, checked_text]
                phrase.text = checked_text
        if group_id is not None and group_id != phrase.group_id:
            group = await _group(session, actor, group_id)
            if group.owner_id != phrase.owner_id:
                raise BadInputError("group_id", "a phrase stays shop-wide or personal")
            changed["group_id"] = [phrase.group_id, group.id]
            phrase.group_id = group.id
        if set_image:
            new_image = await _image(session, actor, image_id)
            if new_image != phrase.image_id:
                changed["image_id"] = [phrase.image_id, new_image]
                phrase.image_id = new_image
        phrase.updated_at = now
        phrase.updated_by = actor.id
        if phrase.owner_id is None and changed:
            _audit(session, actor, "quick_reply.changed", "quick_reply", phrase.id, now, changed)


async def delete_phrase(
    sessions: SessionFactory, actor: CurrentUser, phrase_id: int, now: datetime
) -> None:
    require(actor, USE)
    async with sessions.begin() as session:
        phrase = await _phrase(session, actor, phrase_id)
        _may_change(actor, phrase.owner_id)
        await session.execute(
            delete(QuickReplyHotkey).where(QuickReplyHotkey.quick_reply_id == phrase.id)
        )
        await session.execute(
            delete(QuickReplyUse).where(QuickReplyUse.quick_reply_id == phrase.id)
        )
        if phrase.owner_id is None:
            _audit(
                session,
                actor,
                "quick_reply.deleted",
                "quick_reply",
                phrase.id,
                now,
                {"code": phrase.code, "text": phrase.text, "uses": phrase.use_count},
            )
        await session.delete(phrase)


# -- hotkeys and uses -------------------------------------------------------------------------


async def set_hotkey(
    sessions: SessionFactory, actor: CurrentUser, slot: int, ref: PhraseRef | None, now: datetime
) -> int | None:
    """Put a phrase I see on Alt+``slot`` (None empties the slot). A phrase has one slot:
    moving it frees the old one. Returns the phrase id."""
    require(actor, USE)
    slot = check_slot(slot)
    async with sessions.begin() as session:
        await session.execute(
            delete(QuickReplyHotkey).where(
                QuickReplyHotkey.user_id == actor.id, QuickReplyHotkey.slot == slot
            )
        )
        if ref is None:
            return None
        phrase = await resolve_phrase(session, actor, ref, now)
        await session.execute(
            delete(QuickReplyHotkey).where(
                QuickReplyHotkey.user_id == actor.id, QuickReplyHotkey.quick_reply_id == phrase.id
            )
        )
        session.add(
            QuickReplyHotkey(
                user_id=actor.id, slot=slot, shop_id=actor.shop_id, quick_reply_id=phrase.id
            )
        )
        return phrase.id


async def record_use(
    session: AsyncSession,
    actor: CurrentUser,
    sent: PhraseSent,
    now: datetime,
    *,
    conversation_id: int,
    message_id: int,
) -> QuickReply | None:
    """Count a send of a quick reply (in the reply's transaction). A phrase deleted since it
    was picked is not counted; the reply goes out all the same."""
    try:
        phrase = await resolve_phrase(session, actor, sent.ref, now)
    except (NotFoundError, BadInputError):
        return None
    phrase.use_count = QuickReply.use_count + 1
    phrase.last_used_at = now
    session.add(
        QuickReplyUse(
            shop_id=actor.shop_id,
            quick_reply_id=phrase.id,
            agent_id=actor.id,
            conversation_id=conversation_id,
            message_id=message_id,
            edited=sent.edited,
            used_at=now,
        )
    )
    return phrase


__all__ = [
    "PERSONAL_GROUP",
    "PhraseRef",
    "PhraseSent",
    "add_group",
    "add_phrase",
    "delete_group",
    "delete_phrase",
    "record_use",
    "resolve_phrase",
    "set_hotkey",
    "store_builtin_library",
    "store_library",
    "update_group",
    "update_phrase",
]
