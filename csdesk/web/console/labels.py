"""Display names of the stored vocabularies (roles, statuses, kinds ...), as msgids.

The API returns stored values (``presales``, ``shipped``); the page gets these tables in
its locale and shows the names. ``N_`` only marks a string for extraction into the
catalogs (``pybabel extract -k N_`` picks Python files up through ``babel.cfg``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    return message


TABLES: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        "role": {
            "presales": N_("Presales"),
            "order_review": N_("Order review"),
            "payment_chasing": N_("Payment chasing"),
            "aftersales_triage": N_("After-sales"),
            "refund": N_("Refunds"),
            "hotline": N_("Hotline"),
        },
        "status": {
            "online": N_("Online"),
            "busy": N_("Busy"),
            "away": N_("Away"),
            "offline": N_("Off shift"),
        },
        "kind": {
            "chat": N_("Chat"),
            "call": N_("Inbound call"),
            "callback": N_("Callback"),
            "proactive_call": N_("Proactive call"),
            "phone_chase": N_("Phone chase"),
            "notice_call": N_("Notice call"),
            "payment_chase": N_("Payment chase"),
            "order_check": N_("Order check"),
            "refund_review": N_("Refund review"),
            "refund_processing": N_("Refund processing"),
        },
        "intent": {
            "presale": N_("Pre-sale question"),
            "howto": N_("How-to"),
            "payment": N_("Payment"),
            "address_change": N_("Address change"),
            "invoice": N_("Invoice"),
            "logistics": N_("Logistics"),
            "exchange": N_("Exchange"),
            "quality": N_("Quality"),
            "refund": N_("Refund"),
            "complaint": N_("Complaint"),
            "callback": N_("Callback request"),
            "other": N_("Other"),
        },
        "risk": {"low": N_("Low risk"), "medium": N_("Medium risk"), "high": N_("High risk")},
        "promotion": {
            "double11": N_("Double 11 (双十一)"),
            "618": N_("618 mid-year sale"),
            "juhuasuan": N_("Juhuasuan (聚划算)"),
        },
        "tier": {"normal": N_("Member"), "vip": N_("VIP"), "88vip": N_("88VIP")},
        "order_status": {
            "created": N_("Awaiting payment"),
            "paid": N_("Paid, not shipped"),
            "shipped": N_("Shipped"),
            "received": N_("Received"),
            "closed": N_("Closed"),
        },
        "refund_kind": {
            "refund_only": N_("Refund only"),
            "return_and_refund": N_("Return and refund"),
        },
        "refund_status": {
            "requested": N_("Awaiting review"),
            "approved": N_("Approved"),
            "rejected": N_("Rejected"),
            "return_received": N_("Return received"),
            "refunded": N_("Refunded"),
            "cancelled": N_("Cancelled"),
        },
        "conversation_status": {
            "scheduled": N_("Scheduled"),
            "queued": N_("Queued"),
            "assigned": N_("In progress"),
            "closed": N_("Closed"),
        },
        "disposition": {
            "answered": N_("Answered"),
            "sold": N_("Sale made"),
            "follow_up": N_("Needs follow-up"),
            "refund_handled": N_("Refund handled"),
            "no_reply": N_("Buyer did not reply"),
            "invalid": N_("Not a real enquiry"),
            # Set by the system or by other workbenches (shown, not offered when closing).
            "paid": N_("Order paid"),
            "order_closed": N_("Order closed"),
            "shipped": N_("Shipped"),
            "refund_cancelled": N_("Refund cancelled"),
            "refund_processed": N_("Refund processed"),
            "chased": N_("Chased"),
            "chase_scheduled": N_("Chase scheduled"),
            "address_fixed": N_("Address corrected"),
            "order_approved": N_("Order approved"),
            "on_hold": N_("On hold"),
            "resolved": N_("Resolved"),
        },
        "login_role": {
            "agent": N_("Agent"),
            "supervisor": N_("Supervisor"),
            "qc_inspector": N_("QC inspector"),
            "trainer": N_("Trainer"),
            "owner": N_("Owner"),
            "admin": N_("Admin"),
        },
        "pii_field": {"phone": N_("Phone"), "address": N_("Address"), "name": N_("Name")},
        # 快捷短语 groups: shop-wide (supervisors edit) or the agent's own.
        "phrase_scope": {"shop": N_("Team phrases"), "personal": N_("My phrases")},
        "duty": {
            "review": N_("Refund review duty"),
            "processing": N_("Refund processing duty"),
            "designated_chaser": N_("Designated chaser"),
        },
        # 订单审核: the automatic checks a paid order can fail (roles.order_review.FlagCode).
        "flag": {
            "address_missing": N_("No delivery address"),
            "address_too_short": N_("Address too short"),
            "address_no_province": N_("Province missing"),
            "address_no_city": N_("City missing"),
            "address_no_district": N_("District missing"),
            "address_no_detail": N_("Street and number missing"),
            "address_vague": N_("Vague address"),
            "address_po_box": N_("Post-office box"),
            "receiver_incomplete": N_("Receiver incomplete"),
            "status_abnormal": N_("Order status not normal"),
            "gift_missing": N_("Promised gift missing"),
            "gift_unexpected": N_("Gift not in the campaign"),
            "campaign_mismatch": N_("Campaign not running"),
            "invoice_requested": N_("Invoice requested"),
            "duplicate_suspected": N_("Suspected duplicate order"),
        },
        # 催付: what came of one chase (actions.chase_work.OUTCOMES).
        "chase_outcome": {
            "paid_promised": N_("Promised to pay"),
            "no_answer": N_("No answer"),
            "busy": N_("Busy, try later"),
            "declined": N_("Does not want it"),
            "wrong_number": N_("Wrong contact"),
        },
        # 热线外呼: what came of one outbound call (actions.hotline_work.CALL_OUTCOMES).
        "call_outcome": {
            "reached": N_("Reached"),
            "no_answer": N_("Did not pick up"),
            "busy": N_("Line busy"),
            "wrong_number": N_("Wrong number"),
            "refused": N_("Refused to talk"),
        },
    }
)

DISPOSITIONS: Final = ("answered", "sold", "follow_up", "refund_handled", "no_reply", "invalid")
"""Offered when closing; the API accepts any short text (shops add their own)."""


def translated(gettext: Callable[[str], str]) -> dict[str, dict[str, str]]:
    return {
        table: {key: gettext(msgid) for key, msgid in entries.items()}
        for table, entries in TABLES.items()
    }
