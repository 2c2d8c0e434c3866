"""The data model. Every table carries ``shop_id``: an owner often runs several shops.

Money is stored in fen (integer cents of CNY); times are timezone-aware UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from csdesk.storage.enums import (
    AgentStatus,
    BuyerTier,
    Channel,
    ConversationStatus,
    EventStatus,
    MessageSender,
    OrderStatus,
    RefundKind,
    RefundStatus,
    UserRole,
)
from csdesk.storage.types import BigIntPK, UTCDateTime, str_enum

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONDict = dict[str, Any]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        JSONDict: JSON(),
        list[Any]: JSON(),
    }


def shop_fk() -> Mapped[str]:
    return mapped_column(String(64), ForeignKey("shop.id", ondelete="CASCADE"), index=True)


class Shop(Base):
    """A storefront (天猫店). ``id`` is the marketplace's shop id, as events carry it."""

    __tablename__ = "shop"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    config: Mapped[JSONDict] = mapped_column(default=dict)
    """Per-shop overrides of routing, SLA and QC defaults (merged over the built-ins)."""
    created_at: Mapped[datetime]
    # Secrets are kept as they are, not hashed: an HMAC is checked (inbound) and made
    # (outbound) with the secret itself. Never shown again after ``csdesk shop add`` /
    # ``channel set`` print them, and left out of every read, API answer and export.
    webhook_secret: Mapped[str | None] = mapped_column(String(128))
    """Inbound: the key of ``X-Csdesk-Signature`` on ``POST /api/v1/events`` for this shop
    (None: ``CSDESK_WEBHOOK_SECRET``)."""
    webhook_secret_previous: Mapped[str | None] = mapped_column(String(128))
    """The secret before the last rotation, still valid until ``webhook_previous_until``."""
    webhook_previous_until: Mapped[datetime | None]
    channel_url: Mapped[str | None] = mapped_column(Text)
    """Outbound: where buyer-visible messages go (``csdesk channel set``); None: nowhere."""
    outbound_secret: Mapped[str | None] = mapped_column(String(128))
    """The HMAC key csdesk signs outbound deliveries to ``channel_url`` with."""


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[UserRole] = mapped_column(str_enum(UserRole))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    """A one-time password set by an admin: the console asks for a new one before anything else."""


class AgentProfile(Base):
    """What an agent can take: service roles held, capacity per channel, status, skills."""

    __tablename__ = "agent_profile"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    shop_id: Mapped[str] = shop_fk()
    service_roles: Mapped[list[Any]] = mapped_column(default=list)
    skills: Mapped[list[Any]] = mapped_column(default=list)
    chat_capacity: Mapped[int] = mapped_column(Integer, default=5)
    hotline_capacity: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[AgentStatus] = mapped_column(str_enum(AgentStatus), default=AgentStatus.OFFLINE)
    status_changed_at: Mapped[datetime | None]
    auto_suspend_at: Mapped[int | None] = mapped_column(Integer)
    """自动挂起: at this many open chats the agent goes busy (挂起) until below it again;
    None follows the shop (``assignment.auto_suspend_at``), 0 is off."""
    auto_suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    """Busy because of ``auto_suspend_at`` (not by choice): comes back online by itself."""
    trainee: Mapped[bool] = mapped_column(Boolean, default=False)
    """In training (新人): QC and training see it; routing treats the agent as any other."""


class RosterShift(Base):
    """排班: who holds which service role on which shift."""

    __tablename__ = "roster_shift"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    service_role: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    duty: Mapped[str | None] = mapped_column(String(32))
    """A named duty inside the role, e.g. ``review`` / ``processing`` for refund, ``night``."""

    __table_args__ = (Index("ix_roster_shift_window", "shop_id", "starts_at", "ends_at"),)


class Buyer(Base):
    __tablename__ = "buyer"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    nick: Mapped[str] = mapped_column(String(64))
    tier: Mapped[BuyerTier] = mapped_column(str_enum(BuyerTier), default=BuyerTier.NORMAL)
    name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    """PII: masked in the console, revealed with a reason (audited)."""
    address: Mapped[str | None] = mapped_column(Text)
    """PII, like ``phone``."""
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("shop_id", "nick", name="uq_buyer_shop_nick"),)


class Product(Base):
    __tablename__ = "product"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    sku: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64))
    price_fen: Mapped[int] = mapped_column(Integer)
    gifts: Mapped[list[Any]] = mapped_column(default=list)
    """Gifts the current campaign promises with this item (e.g. ``["HDMI高清线"]``)."""

    __table_args__ = (UniqueConstraint("shop_id", "sku", name="uq_product_shop_sku"),)


class Order(Base):
    __tablename__ = "shop_order"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    external_id: Mapped[str] = mapped_column(String(64))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyer.id", ondelete="CASCADE"), index=True)
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus))
    amount_fen: Mapped[int] = mapped_column(Integer)
    items: Mapped[list[Any]] = mapped_column(default=list)
    """``[{"sku", "title", "qty", "price_fen"}]`` as ordered (prices frozen at purchase)."""
    gifts: Mapped[list[Any]] = mapped_column(default=list)
    """Gifts and promo items the system attached to the order (checked by order review)."""
    campaign: Mapped[str | None] = mapped_column(String(64))
    invoice_title: Mapped[str | None] = mapped_column(String(200))
    """Set when the buyer asked for an invoice (发票抬头)."""
    receiver_name: Mapped[str | None] = mapped_column(String(64))
    receiver_phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("shop_id", "external_id", name="uq_shop_order_external"),
        Index("ix_shop_order_status_created", "shop_id", "status", "created_at"),
        # The dashboard's series: orders placed / paid per minute of the last 24 h.
        Index("ix_shop_order_created", "shop_id", "created_at"),
        Index("ix_shop_order_paid", "shop_id", "paid_at", postgresql_include=["buyer_id"]),
    )


class Refund(Base):
    __tablename__ = "refund"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    external_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int] = mapped_column(
        ForeignKey("shop_order.id", ondelete="CASCADE"), index=True
    )
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyer.id", ondelete="CASCADE"), index=True)
    kind: Mapped[RefundKind] = mapped_column(str_enum(RefundKind))
    status: Mapped[RefundStatus] = mapped_column(str_enum(RefundStatus))
    amount_fen: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime]
    deadline_at: Mapped[datetime]
    """When the platform auto-approves if the shop has not acted."""
    resolved_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("shop_id", "external_id", name="uq_refund_shop_external"),
        # The dashboard: pending refunds and their auto-approve windows; requests per minute.
        Index(
            "ix_refund_status_deadline",
            "shop_id",
            "status",
            "deadline_at",
            postgresql_include=["amount_fen", "kind", "reason"],
        ),
        Index("ix_refund_requested", "shop_id", "requested_at", postgresql_include=["kind"]),
    )


OPEN_CHAT_STATUSES: tuple[str, ...] = (
    ConversationStatus.SCHEDULED.value,
    ConversationStatus.QUEUED.value,
    ConversationStatus.ASSIGNED.value,
)
OPEN_CHAT = text(
    "kind = 'chat' AND status IN (" + ", ".join(f"'{s}'" for s in OPEN_CHAT_STATUSES) + ")"
)
"""The predicate of ``uq_conversation_open_chat`` (an ``ON CONFLICT`` names it to match)."""
QUEUED = text("status = 'queued'")
UNANSWERED = text("status IN ('queued', 'assigned') AND first_response_at IS NULL")


class Conversation(Base):
    """One routable item: a buyer chat or call, or a task (chase, order check, refund duty)."""

    __tablename__ = "conversation"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyer.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    kind: Mapped[str] = mapped_column(String(32), default="chat")
    """``chat``, ``call`` or a task kind (``payment_chase``, ``order_check``, ...)."""
    role: Mapped[str] = mapped_column(String(32))
    status: Mapped[ConversationStatus] = mapped_column(str_enum(ConversationStatus))
    intent: Mapped[str | None] = mapped_column(String(32))
    risk: Mapped[str | None] = mapped_column(String(16))
    priority_score: Mapped[float] = mapped_column(Float, default=0.0)
    score_breakdown: Mapped[list[Any]] = mapped_column(default=list)
    """``[{"factor", "points", "reason"}]``: why the item stands where it stands."""
    order_id: Mapped[int | None] = mapped_column(ForeignKey("shop_order.id", ondelete="SET NULL"))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refund.id", ondelete="SET NULL"))
    assigned_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    protection_owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    protection_until: Mapped[datetime | None]
    """客户保护期: the owner gets this buyer back until then."""
    opened_at: Mapped[datetime]
    enqueued_at: Mapped[datetime | None]
    """Start of the wait that ages the item; kept across transfers and requeues."""
    assigned_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    last_buyer_message_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    disposition: Mapped[str | None] = mapped_column(String(64))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    sort_key: Mapped[float | None] = mapped_column(Float)
    """Queue order (higher first) with linear aging folded in; the queue index mirrors it."""
    required_skills: Mapped[list[Any]] = mapped_column(default=list)
    not_before: Mapped[datetime | None]
    """A task that is not due yet (a chase waits 15 min, and never runs in quiet hours)."""
    deadline_at: Mapped[datetime | None]
    """A hard external deadline (the platform auto-approves a refund then)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None]
    recovered_fen: Mapped[int | None] = mapped_column(Integer)
    """Payment chasing: the amount paid after this chase (credited to the chaser)."""
    converted_at: Mapped[datetime | None]
    """A buyer chat: the buyer's first payment (``paid_at``) at or after it opened, stamped
    when the payment is applied (询单转化率 reads it instead of searching orders)."""
    snoozed_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    """稍后处理 (snooze): the holder put the chat aside until then; its row sinks and stays
    quiet until that time or until the buyer writes after ``snoozed_at``."""

    __table_args__ = (
        Index("ix_conversation_queue", "shop_id", "status", "role"),
        Index("ix_conversation_due", "status", "not_before"),
        Index("ix_conversation_buyer", "shop_id", "buyer_id", "opened_at"),
        # Each placement asks every candidate agent's last assignment and open load (one
        # covering seek per agent each): without them, scans of every conversation the shop
        # ever had, or of all it has open.
        Index("ix_conversation_agent", "assigned_agent_id", "assigned_at"),
        Index("ix_conversation_agent_load", "assigned_agent_id", "status", "channel"),
        # The dashboard's windows of one shop: opened today / in the last hour (arrivals,
        # chases, first responses, contacts per minute), closed in the last 24 h (AHT).
        Index(
            "ix_conversation_opened",
            "shop_id",
            "opened_at",
            postgresql_include=[
                "kind",
                "role",
                "status",
                "buyer_id",
                "assigned_at",
                "first_response_at",
            ],
        ),
        Index(
            "ix_conversation_closed",
            "shop_id",
            "closed_at",
            postgresql_include=["role", "status", "assigned_at", "refund_id", "disposition"],
        ),
        # The queues per role and their oldest item; open items nobody answered (SLA).
        Index(
            "ix_conversation_queued",
            "shop_id",
            "role",
            "enqueued_at",
            sqlite_where=QUEUED,
            postgresql_where=QUEUED,
        ),
        Index(
            "ix_conversation_unanswered",
            "shop_id",
            "due_at",
            postgresql_include=["role"],
            sqlite_where=UNANSWERED,
            postgresql_where=UNANSWERED,
        ),
        # 询单转化率: the pre-sales chats of the last N days, their buyer and first payment.
        Index(
            "ix_conversation_asks",
            "shop_id",
            "kind",
            "role",
            "opened_at",
            postgresql_include=["buyer_id", "converted_at"],
        ),
        # Today's chases per chaser.
        Index(
            "ix_conversation_kind_opened",
            "shop_id",
            "kind",
            "opened_at",
            postgresql_include=["assigned_agent_id", "attempts", "recovered_fen"],
        ),
        # One open chat thread per buyer, whichever process applies their message: a buyer's
        # messages sent at once to two web processes must meet in one conversation. Calls
        # and work items (chases, order checks, refund duties) may legitimately be several.
        Index(
            "uq_conversation_open_chat",
            "shop_id",
            "buyer_id",
            unique=True,
            sqlite_where=OPEN_CHAT,
            postgresql_where=OPEN_CHAT,
        ),
    )


class Message(Base):
    __tablename__ = "message"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversation.id", ondelete="CASCADE"), index=True
    )
    sender: Mapped[MessageSender] = mapped_column(str_enum(MessageSender))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime]
    source_event_id: Mapped[int | None] = mapped_column(BigIntPK)
    """The platform event (``platform_event.id``) that brought a buyer message in: where a
    message came from, and the key that matches a batch of inserted messages to their ids."""
    kind: Mapped[str] = mapped_column(String(16), default="text", server_default="text")
    """``text``, ``image`` (text and a picture) or ``card`` (订单核对, 催付, an item, a coupon)."""
    attachments: Mapped[list[Any]] = mapped_column(default=list, server_default=sql_text("'[]'"))
    """What goes with the text: ``{"type": "image", "media_id", "url", ...}`` or
    ``{"type": "card", "card", "title", "fields": [...]}``; outbound delivery sends them."""

    # The dashboard's reply rounds (3-minute response rate) and asks (询单转化率) of a window.
    __table_args__ = (
        Index(
            "ix_message_shop_sent",
            "shop_id",
            "sent_at",
            postgresql_include=["sender", "conversation_id", "id"],
        ),
    )


OPEN_ROUND = text("answered_at IS NULL")


class ResponseRound(Base):
    """A reply round of a conversation (3 分钟响应率): it begins with a buyer message that
    follows nothing or an agent's reply, and ends with the next agent reply. Written as
    the messages are (``actions.messages``): a buyer message opens one unless one is open,
    an agent reply closes the open one; so the dashboard counts rows, not message pairs."""

    __tablename__ = "response_round"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    """The buyer message that began the round (``message.id``)."""
    # No index of its own on shop_id: ix_response_round_asked leads with it.
    shop_id: Mapped[str] = mapped_column(String(64), ForeignKey("shop.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    asked_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    __table_args__ = (
        Index("ix_response_round_asked", "shop_id", "asked_at", postgresql_include=["answered_at"]),
        # At most one open round a conversation: the one a reply closes.
        Index(
            "uq_response_round_open",
            "conversation_id",
            unique=True,
            sqlite_where=OPEN_ROUND,
            postgresql_where=OPEN_ROUND,
        ),
    )


class PlatformEvent(Base):
    """Every accepted marketplace event; the unique key makes delivery idempotent."""

    __tablename__ = "platform_event"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # No index of its own: the unique (shop_id, event_id) serves lookups by shop, and every
    # accepted event would pay for a second one.
    shop_id: Mapped[str] = mapped_column(String(64), ForeignKey("shop.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
    payload: Mapped[JSONDict] = mapped_column(default=dict)
    status: Mapped[EventStatus] = mapped_column(str_enum(EventStatus))
    error: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    """What a processed event did not do, and why (a rating with no conversation to rate)."""
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    body_hash: Mapped[str | None] = mapped_column(String(64))
    """``platform_events.fingerprint`` of the event as accepted: the same ``event_id`` with
    other content is a conflict (409), not a duplicate."""

    __table_args__ = (
        UniqueConstraint("shop_id", "event_id", name="uq_platform_event_shop_event"),
        Index("ix_platform_event_status", "status", "received_at"),
    )


class ApiToken(Base):
    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the token: tokens are random, so a slow hash adds nothing."""
    name: Mapped[str | None] = mapped_column(String(100))
    """What the owner calls it (``ERP sync``), so they know which one to revoke."""
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WebSession(Base):
    __tablename__ = "web_session"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[JSONDict] = mapped_column(default=dict)
    at: Mapped[datetime]

    __table_args__ = (Index("ix_audit_log_shop_at", "shop_id", "at"),)


class BuyerClaim(Base):
    """An exclusive, expiring claim on a buyer (one chaser per buyer: no 抢单)."""

    __tablename__ = "buyer_claim"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyer.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    claimed_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("shop_id", "buyer_id", "kind", name="uq_buyer_claim_buyer_kind"),
    )


class WebhookSubscription(Base):
    """An integrator's endpoint for the desk's own events (conversation opened, refund
    decided, QC finding...), signed with its own secret."""

    __tablename__ = "webhook_subscription"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(128))
    event_types: Mapped[list[Any]] = mapped_column(default=list)
    description: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]


class Delivery(Base):
    """The durable outbox: one signed POST to make, until a 2xx or the dead letter.

    A buyer-visible message's row is written in the message's own transaction
    (``kind='message'``); an integrator webhook's when its event is seen
    (``kind='webhook'``). ``delivery_id`` is the public id a receiver dedupes on, the
    same on every attempt."""

    __tablename__ = "delivery"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    shop_id: Mapped[str] = shop_fk()
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    """``message`` (to the shop's channel) or ``webhook`` (to a subscription)."""
    event_type: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[int | None] = mapped_column(BigIntPK)
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_subscription.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    """The JSON sent, byte for byte the same on every attempt."""
    state: Mapped[str] = mapped_column(String(16))
    """``sending`` (pending or retrying), ``delivered``, ``failed`` (dead letter)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    """Due then; a claim moves it a lease ahead, so a sender that died is retried."""
    window_started_at: Mapped[datetime]
    """Retries stop (dead letter) once this is ``max_age`` old; a manual retry restarts it."""
    last_attempt_at: Mapped[datetime | None]
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_delivery_due", "state", "next_attempt_at"),
        Index("ix_delivery_shop_state", "shop_id", "state"),
    )


# The QC, alert and promotion-schedule tables live in their own modules; imported here so
# Base.metadata holds them all. So do the console's (quick replies, images, teams).
from csdesk.storage import alert_models as _alert_models  # noqa: E402, F401
from csdesk.storage import console_models as _console_models  # noqa: E402, F401
from csdesk.storage import qc_models as _qc_models  # noqa: E402, F401
from csdesk.storage import rating_models as _rating_models  # noqa: E402, F401
from csdesk.storage import training_models as _training_models  # noqa: E402, F401
from csdesk.storage import triage_models as _triage_models  # noqa: E402, F401
