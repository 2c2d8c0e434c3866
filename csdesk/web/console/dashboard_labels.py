"""Names of the owner dashboard's figures and of the columns of their lists, as msgids
(``reads.dashboard_metrics`` names them by key; the page and the exports show these)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from csdesk.web.console.labels import N_

METRIC_TITLES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "refunds.pending": N_("Pending refunds"),
        "refunds.by_kind": N_("Pending refunds by kind"),
        "refunds.by_reason": N_("Pending refunds by reason"),
        "refunds.due_1h": N_("Auto-approved within 1 hour if nobody acts"),
        "refunds.due_4h": N_("Auto-approved within 4 hours if nobody acts"),
        "refunds.overdue": N_("Past the deadline (auto-approved)"),
        "refunds.decided_today": N_("Decided today"),
        "refunds.intercepts": N_("Warehouse intercepts asked today"),
        "queues.queued": N_("Queued"),
        "queues.sla_breaches": N_("SLA breaches"),
        "queues.arrivals_60m": N_("Arrivals in the last hour"),
        "queues.handled_24h": N_("Handled in the last 24 hours"),
        "chasing.chased": N_("Chased today"),
        "chasing.per_chaser": N_("Chasing per chaser"),
        "kpi.inquiry_conversion": N_("Inquiry conversion"),
        "kpi.first_response": N_("First response"),
        "kpi.response_rate_3m": N_("3-minute response rate"),
        "staffing.on_shift": N_("Agents on shift"),
        "staffing.needed": N_("Agents needed (Erlang C)"),
    }
)

COLUMNS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "id": N_("ID"),
        "refund": N_("Refund number"),
        "order": N_("Order number"),
        "buyer": N_("Buyer"),
        "kind": N_("Kind"),
        "reason": N_("Reason"),
        "status": N_("Status"),
        "amount_fen": N_("Amount (yuan)"),
        "order_amount_fen": N_("Order amount (yuan)"),
        "recovered_fen": N_("Recovered (yuan)"),
        "requested_at": N_("Requested at"),
        "deadline_at": N_("Platform deadline"),
        "order_status": N_("Order status"),
        "role": N_("Role"),
        "enqueued_at": N_("Waiting since"),
        "score": N_("Priority score"),
        "opened_at": N_("Opened at"),
        "due_at": N_("Response due at"),
        "assigned_at": N_("Taken at"),
        "closed_at": N_("Closed at"),
        "handle_s": N_("Handle time (s)"),
        "agent": N_("Agent"),
        "attempts": N_("Attempts"),
        "asked_at": N_("Asked at"),
        "paid_at": N_("Paid at"),
        "first_response_at": N_("First response at"),
        "response_s": N_("First response (s)"),
        "conversation_id": N_("Conversation"),
        "reply_at": N_("Replied at"),
        "wait_s": N_("Wait (s)"),
        "arrivals_60m": N_("Arrivals in the last 60 min"),
        "aht_s": N_("Average handle time (s)"),
        "aht_samples": N_("Handled items measured"),
        "answer_within_s": N_("Answer within (s)"),
        "service_level_target": N_("Service level target"),
        "traffic_erlangs": N_("Traffic (Erlang)"),
        "agents_needed": N_("Agents needed"),
        "service_level": N_("Service level reached"),
        "asa_s": N_("Average speed of answer (s)"),
        "occupancy": N_("Occupancy"),
        "agents_on_shift": N_("Agents on shift"),
    }
)

FLAG_TITLES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "refunds.intercepts": N_("Intercepts that succeeded"),
        "chasing.chased": N_("Paid after the chase"),
        "chasing.per_chaser": N_("Paid after the chase"),
        "kpi.inquiry_conversion": N_("Buyers who paid after asking"),
        "kpi.response_rate_3m": N_("Rounds answered within 3 minutes"),
    }
)
