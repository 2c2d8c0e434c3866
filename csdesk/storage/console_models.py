"""Console tables: the quick-reply library (快捷短语: shop-wide and personal groups, phrases,
their uses and the agent's hotkeys), uploaded images, and teams with their supervisors.

Imported by :mod:`csdesk.storage.models` so one ``Base.metadata`` holds every table. Writes
go through ``csdesk.actions.quick_replies``, ``csdesk.actions.media`` and
``csdesk.actions.teams``; every table carries ``shop_id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from csdesk.storage.models import Base, shop_fk
from csdesk.storage.types import BigIntPK


class MediaFile(Base):
    """An uploaded image (a quick reply's picture). Kept in the database so every web
    process serves it; size and type were checked on upload (``actions/media.py``)."""

    __tablename__ = "media_file"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    uploaded_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(120))
    """A safe file name (letters, digits, ``.-_`` and CJK), for Content-Disposition."""
    content_type: Mapped[str] = mapped_column(String(32))
    """From the decoded image (``image/png`` ...), never from what the browser claimed."""
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class QuickReplyGroup(Base):
    """A named group of quick replies (欢迎语, 催付 ...): shop-wide (``owner_id`` None, edited
    by supervisors) or one agent's own."""

    __tablename__ = "quick_reply_group"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(32))
    roles: Mapped[list[Any]] = mapped_column(default=list)
    """Service roles that see a shop-wide group; empty: every role."""
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_quick_reply_group_owner", "shop_id", "owner_id"),)


class QuickReply(Base):
    """One phrase: a shortcut code typed after ``/``, the text with its {variables}, an
    optional image, and how often it was sent (``use_count``)."""

    __tablename__ = "quick_reply"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    group_id: Mapped[int] = mapped_column(
        ForeignKey("quick_reply_group.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    """The group's owner (None: shop-wide), kept here so the picker reads one table."""
    code: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    image_id: Mapped[int | None] = mapped_column(ForeignKey("media_file.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    use_count: Mapped[int] = mapped_column(Integer, default=0)
    last_used_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    __table_args__ = (Index("ix_quick_reply_owner", "shop_id", "owner_id"),)


class QuickReplyUse(Base):
    """A quick reply sent: by whom, in which conversation, and whether it was edited first
    (the library page counts these per phrase)."""

    __tablename__ = "quick_reply_use"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    quick_reply_id: Mapped[int] = mapped_column(ForeignKey("quick_reply.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation.id", ondelete="SET NULL")
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    used_at: Mapped[datetime]

    __table_args__ = (Index("ix_quick_reply_use_phrase", "quick_reply_id", "used_at"),)


class QuickReplyHotkey(Base):
    """One of an agent's favourite phrases, on Alt+``slot`` (1-9)."""

    __tablename__ = "quick_reply_hotkey"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    quick_reply_id: Mapped[int] = mapped_column(ForeignKey("quick_reply.id", ondelete="CASCADE"))

    __table_args__ = (
        UniqueConstraint("user_id", "quick_reply_id", name="uq_quick_reply_hotkey_phrase"),
    )


class Team(Base):
    """A team (班组) of the shop, e.g. 售前一组, led by its supervisors."""

    __tablename__ = "team"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("shop_id", "name", name="uq_team_shop_name"),)


class TeamMember(Base):
    """Who is in a team; ``lead`` marks its supervisors (组长/主管)."""

    __tablename__ = "team_member"
    team_id: Mapped[int] = mapped_column(
        ForeignKey("team.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    shop_id: Mapped[str] = shop_fk()
    lead: Mapped[bool] = mapped_column(Boolean, default=False)
