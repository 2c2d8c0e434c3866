"""Score triage on labelled examples through the real entry point (``triage.classify``).

``python -m csdesk.roles.classifier.evaluate [heldout|train]`` prints the report that
docs/triage.md quotes. An intent is right when it is the label or the acceptable
alternative; a role is right when it is the role of either.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from csdesk.roles.classifier import corpus
from csdesk.roles.classifier.corpus import Example
from csdesk.roles.triage import TriageResult, TriageRules, classify, default_rules
from csdesk.roles.triage_rules import Intent, Risk


@dataclass
class Report:
    n: int = 0
    intent_right: int = 0
    intent_strict: int = 0
    role_right: int = 0
    high_true: int = 0
    high_flagged: int = 0
    high_caught: int = 0
    not_high: int = 0
    false_alarms: int = 0
    predicted: Counter[Intent] = field(default_factory=Counter)
    labelled: Counter[Intent] = field(default_factory=Counter)
    correct: Counter[Intent] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)

    @property
    def intent_accuracy(self) -> float:
        return self.intent_right / self.n

    @property
    def strict_intent_accuracy(self) -> float:
        return self.intent_strict / self.n

    @property
    def role_accuracy(self) -> float:
        return self.role_right / self.n

    @property
    def high_recall(self) -> float:
        return self.high_caught / self.high_true if self.high_true else 1.0

    @property
    def high_precision(self) -> float:
        return self.high_caught / self.high_flagged if self.high_flagged else 1.0

    @property
    def false_alarm_rate(self) -> float:
        """Share of buyers who are not high risk but were flagged high."""
        return self.false_alarms / self.not_high if self.not_high else 0.0

    def merge(self, other: Report) -> None:
        """Add ``other``'s counts (cross-validation folds)."""
        for name in (
            "n",
            "intent_right",
            "intent_strict",
            "role_right",
            "high_true",
            "high_flagged",
            "high_caught",
            "not_high",
            "false_alarms",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.predicted.update(other.predicted)
        self.labelled.update(other.labelled)
        self.correct.update(other.correct)
        self.misses.extend(other.misses)

    def table(self) -> str:
        lines = [
            "| intent | n | precision | recall |",
            "|---|---:|---:|---:|",
        ]
        for intent in Intent:
            n = self.labelled[intent]
            predicted = self.predicted[intent]
            precision = self.correct[intent] / predicted if predicted else 0.0
            recall = self.correct[intent] / n if n else 0.0
            lines.append(f"| {intent.value} | {n} | {precision:.1%} | {recall:.1%} |")
        return "\n".join(lines)

    def summary(self) -> str:
        return "\n".join(
            [
                f"examples {self.n}",
                f"intent accuracy {self.intent_accuracy:.1%}"
                f" (label only: {self.strict_intent_accuracy:.1%})",
                f"role accuracy {self.role_accuracy:.1%}",
                f"high risk: recall {self.high_recall:.1%} ({self.high_caught}/{self.high_true}),"
                f" precision {self.high_precision:.1%} ({self.high_caught}/{self.high_flagged}),"
                f" false alarms {self.false_alarm_rate:.1%} ({self.false_alarms}/{self.not_high})",
            ]
        )


def evaluate(
    examples: Sequence[Example],
    rules: TriageRules | None = None,
    triage: Callable[[str, TriageRules], TriageResult] = classify,
) -> Report:
    rules = rules or default_rules()
    report = Report()
    for ex in examples:
        got = triage(ex.text, rules)
        report.n += 1
        report.labelled[ex.intent] += 1
        report.predicted[got.intent] += 1
        right = ex.accepts(got.intent)
        # Precision and recall per intent credit the acceptable alternative to the label.
        if right:
            report.correct[ex.intent if got.intent is ex.alt else got.intent] += 1
            report.predicted[got.intent] -= 1
            report.predicted[ex.intent] += 1
        report.intent_right += right
        report.intent_strict += got.intent is ex.intent
        roles = {rules.role_for(ex.intent)} | ({rules.role_for(ex.alt)} if ex.alt else set())
        report.role_right += got.role in roles
        high, flagged = ex.risk is Risk.HIGH, got.risk is Risk.HIGH
        report.high_true += high
        report.high_flagged += flagged
        report.high_caught += high and flagged
        report.not_high += not high
        report.false_alarms += flagged and not high
        if not right or high != flagged:
            report.misses.append(
                f"{ex.text}\twant {ex.intent.value}/{ex.risk.value}"
                f"\tgot {got.intent.value}/{got.risk.value}"
            )
    return report


def main(argv: Sequence[str] = ()) -> int:
    which = argv[0] if argv else "heldout"
    examples = corpus.load_heldout() if which == "heldout" else corpus.load_train()
    report = evaluate(examples)
    print(report.summary())
    print()
    print(report.table())
    if "--misses" in argv:
        print()
        print("\n".join(report.misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
