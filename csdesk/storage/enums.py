"""Closed vocabularies of the data model. Values are stored as text and are public API."""

from __future__ import annotations

import enum


class UserRole(enum.StrEnum):
    """Login roles (contract: ``csdesk user add --role``)."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    QC_INSPECTOR = "qc_inspector"
    TRAINER = "trainer"
    OWNER = "owner"
    ADMIN = "admin"


class ServiceRole(enum.StrEnum):
    """The six service roles of seeds/003 part II (what a conversation routes to)."""

    PRESALES = "presales"  # 售前接待
    ORDER_REVIEW = "order_review"  # 订单审核
    PAYMENT_CHASING = "payment_chasing"  # 订单催付
    AFTERSALES_TRIAGE = "aftersales_triage"  # 售后接待
    REFUND = "refund"  # 退款审核 + 退款处理
    HOTLINE = "hotline"  # 热线


class BuyerTier(enum.StrEnum):
    NORMAL = "normal"
    VIP = "vip"
    VIP88 = "88vip"


class OrderStatus(enum.StrEnum):
    CREATED = "created"  # placed, unpaid
    PAID = "paid"
    SHIPPED = "shipped"
    RECEIVED = "received"
    CLOSED = "closed"


class RefundKind(enum.StrEnum):
    REFUND_ONLY = "refund_only"  # 仅退款
    RETURN_AND_REFUND = "return_and_refund"  # 退货退款


class RefundStatus(enum.StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"  # refund-only: money goes back; return: waiting for the parcel
    REJECTED = "rejected"
    RETURN_RECEIVED = "return_received"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


class Channel(enum.StrEnum):
    CHAT = "chat"  # 旺旺
    HOTLINE = "hotline"  # 400 line


class ConversationStatus(enum.StrEnum):
    SCHEDULED = "scheduled"  # a task not due yet (a chase waits, quiet hours)
    QUEUED = "queued"
    ASSIGNED = "assigned"
    CLOSED = "closed"


class MessageSender(enum.StrEnum):
    BUYER = "buyer"
    AGENT = "agent"
    SYSTEM = "system"  # the desk's own record (routing, handoff notes): staff only
    AUTO = "auto"  # 自动消息: the desk wrote to the buyer (转接提示); not an agent's answer
    NOTE = "note"  # 内部备注: a private note by staff (author_id); the buyer never sees it


class EventStatus(enum.StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"


class AgentStatus(enum.StrEnum):
    ONLINE = "online"  # 在线
    BUSY = "busy"  # 忙碌 / 挂起: keeps current chats, takes no new ones
    AWAY = "away"  # 离开
    OFFLINE = "offline"
