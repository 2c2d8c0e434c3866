"""Pure routing decisions per second, against normalising the same text (same run).

A decision is what the engine computes for a buyer message once facts are loaded:
triage (normalise, phrase match, intent and risk), the role's intake and the static score.
The baseline is the unavoidable first step alone (Traditional → Simplified conversion), so
the ratio says how much the decision logic costs on top of reading the text at all.

Trials are interleaved (baseline, decisions, baseline, ...) and the median ratio is
reported: this machine kind's speed drifts within seconds. Beside the ratio, the CPU cost
per utterance of ``classify`` and of the learned model alone (``TriageModel.predict``,
given the rules' verdict) over the held-out corpus, a realistic mix of short and long
messages (docs/triage.md quotes it).
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


def _cpu_us(fn: Any, items: list[Any], rounds: int) -> float:
    """Best of ``rounds`` passes over ``items``: CPU µs per item."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for item in items:
            fn(item)
        best = min(best, time.process_time() - started)
    return best / len(items) * 1e6


def per_utterance(rounds: int = 3) -> dict[str, float]:
    """CPU µs per held-out utterance: ``classify``, the rules alone, the model alone."""
    from csdesk.roles.classifier import corpus
    from csdesk.roles.classifier.features import rule_tokens
    from csdesk.roles.triage import classify_rules

    rules = default_rules()
    model = rules.model
    assert model is not None
    texts = [ex.text for ex in corpus.load_heldout()]
    verdicts = [classify_rules(text, rules) for text in texts]
    model_inputs = [(v.text, rule_tokens(v.intent.value, v.risk.value)) for v in verdicts]
    for text in texts[:200]:
        classify(text, rules)
    return {
        "utterances": len(texts),
        "classify_us": round(_cpu_us(lambda t: classify(t, rules), texts, rounds), 1),
        "rules_us": round(_cpu_us(lambda t: classify_rules(t, rules), texts, rounds), 1),
        "model_us": round(_cpu_us(lambda a: model.predict(a[0], a[1]), model_inputs, rounds), 1),
    }


def run_routing(seconds: float = 1.0, trials: int = 5) -> dict[str, Any]:
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
    runs = []
    for _ in range(trials):
        base = _timed(baseline, seconds / trials)
        ours = _timed(decide, seconds / trials)
        runs.append((ours / base, base, ours))
    ratio, base, ours = sorted(runs)[(len(runs) - 1) // 2]
    return {
        "bench": "routing_decisions",
        "baseline_per_s": round(base, 1),
        "csdesk_per_s": round(ours, 1),
        "ratio": round(ratio, 4),
        "trials": {"of": "ratio", "values": [round(r, 4) for r, _, _ in runs]},
        "per_utterance": per_utterance(),
    }
