"""Pure routing decisions per second, against normalising the same text (same run).

A decision is what the engine computes for a buyer message once facts are loaded:
triage (normalise, phrase match, intent and risk), the role's intake and the static score.
The baseline is the unavoidable first step alone (Traditional → Simplified conversion), so
the ratio says how much the decision logic costs on top of reading the text at all.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from csdesk.ingest.engine import decide_contact
from csdesk.roles.base import BuyerFacts, ContactFacts, Intent, Risk
from csdesk.roles.config import RoutingConfig
from csdesk.roles.triage import classify, default_rules, normalize
from csdesk.routing.assignment import AssignmentConfig
from csdesk.routing.facts import ShopContext
from csdesk.storage.enums import BuyerTier, Channel

TEXTS = [
    "这个保温杯有货吗",
    "東西壞了 直接給我退款吧",
    "再不处理我就给差评",
    "快递到哪了 怎么还没到",
    "怎么安装啊😂",
    "我要开发票 抬头是公司",
    "地址写错了 帮我改一下",
    "麻烦给我回个电话",
    "tk tk 快点",
    "质量太差了 要换货",
]


def _timed(fn: Any, seconds: float) -> float:
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for text in TEXTS:
            fn(text)
        count += len(TEXTS)
    return count / (time.perf_counter() - started)


def run_routing(seconds: float = 1.0) -> dict[str, Any]:
    config = RoutingConfig()
    ctx = ShopContext("bench", config, AssignmentConfig(), None)
    rules = default_rules()
    now = datetime.now(UTC)

    def decide(text: str) -> None:
        triage = classify(text, rules)
        contact = ContactFacts(
            channel=Channel.CHAT,
            intent=Intent(triage.intent),
            risk=Risk(triage.risk),
            at=now,
            buyer=BuyerFacts(1, BuyerTier.VIP),
        )
        decide_contact(contact, ctx, now)

    def baseline(text: str) -> None:
        normalize(text, rules)

    _timed(decide, 0.1)
    _timed(baseline, 0.1)
    base = _timed(baseline, seconds)
    ours = _timed(decide, seconds)
    return {
        "bench": "routing_decisions",
        "baseline_per_s": round(base, 1),
        "csdesk_per_s": round(ours, 1),
        "ratio": round(ours / base, 3),
    }
