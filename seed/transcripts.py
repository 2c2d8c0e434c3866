"""Timed chat and call transcripts, good service and bad, labelled with their QC flaws.

A good transcript follows the script (``csdesk.seed.scripts``): greet, answer, close,
invite a rating, reply within seconds, come back when promised. Bad service is made by
dropping or inserting exactly one kind of thing per flaw, so every transcript knows which
QC categories (contract: ``greeting_missing`` … ``followup_missed``) it really contains.
``Transcript.tags`` carries them as ``qc:<category>`` (``qc:good`` when none): the labels
QC calibration uses.

The marker tuples below are the vocabulary the labels were made with: a transcript tagged
with a category contains its marker (or its timing), and one not tagged does not.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from csdesk.seed.catalog import TV_GIFT, WRONG_TV_GIFT
from csdesk.seed.scripts import (
    BUYER_AFTER_CLOSING,
    BUYER_COMPARE_QUESTIONS,
    BUYER_OPENERS,
    BUYER_PUSHES,
    CALL_BUYER_PUSHES,
    CALL_CLOSINGS,
    CALL_GREETINGS,
    CALL_OUTBOUND_CLOSINGS,
    CALL_OUTBOUND_GREETINGS,
    CALL_PICKUPS_WITHOUT_GREETING,
    CALL_RATING_INVITES,
    CALL_RUDE_REPLIES,
    CHAT_CLOSINGS,
    CHAT_GREETINGS,
    CHAT_OUTBOUND_GREETINGS,
    CHAT_RATING_INVITES,
    COMPLIANT_CLAIMS,
    EXTREME_CLAIMS,
    FOLLOWUP_LATE,
    FOLLOWUP_ON_TIME,
    GAP_APOLOGY,
    RUDE_REPLIES,
    SCENARIOS,
    Check,
    Scenario,
    Speaker,
)
from csdesk.storage.enums import ServiceRole


class Flaw(enum.StrEnum):
    """QC hit categories of the contract that a generated transcript can carry."""

    GREETING_MISSING = "greeting_missing"
    CLOSING_MISSING = "closing_missing"
    RATING_INVITE_MISSING = "rating_invite_missing"
    FORBIDDEN_PHRASE = "forbidden_phrase"
    EXTREME_WORDS = "extreme_words"
    SLOW_FIRST_RESPONSE = "slow_first_response"
    LONG_GAP_NO_APOLOGY = "long_gap_no_apology"
    FOLLOWUP_MISSED = "followup_missed"


QC_TAG_PREFIX = "qc:"
GOOD_TAG = "qc:good"
SCRIPT_TAG_PREFIX = "script:"

SLOW_FIRST_RESPONSE_S = 30
LONG_GAP_S = 180
FOLLOWUP_WINDOW_S = 15 * 60

GREETING_MARKERS = ("您好", "你好", "欢迎光临", "很高兴为您服务", "在的")
CLOSING_MARKERS = ("还有其他", "祝您", "再见")
RATING_MARKERS = ("评价", "打分")
APOLOGY_MARKERS = ("抱歉", "不好意思", "久等", "对不起")
FORBIDDEN_PHRASES = (
    "不知道", "你自己看", "没办法", "爱买不买", "不归我管",
    "听不懂", "找别人", "这是规定", "看着办",
)  # fmt: skip
EXTREME_WORDS = ("最好", "第一", "全网最低", "国家级", "最便宜", "顶级", "绝对")
PROMISE_MARKERS = ("稍后回复您", "稍后给您回复", "稍后给您答复")


def contains_any(text: str, markers: Iterable[str]) -> bool:
    return any(marker in text for marker in markers)


def tags_for(flaws: Iterable[Flaw]) -> tuple[str, ...]:
    """``("qc:good",)`` for flawless service, else ``qc:<category>`` per flaw, sorted."""
    names = sorted(f"{QC_TAG_PREFIX}{flaw.value}" for flaw in set(flaws))
    return tuple(names) or (GOOD_TAG,)


# ----------------------------------------------------------------------------------------
# Buyer style: short, typos, emoji, sometimes Traditional characters

_TYPOS = (
    ("什么", "啥"), ("怎么", "咋"), ("的", "滴"), ("吗", "嘛"), ("这个", "这各"),
    ("没有", "木有"), ("现在", "现再"), ("可以", "可已"), ("谢谢", "3q"), ("好的", "好滴"),
)  # fmt: skip
_EMOJI = ("😂", "🙏", "😭", "👍", "😅", "🤔", "[微笑]", "[流泪]", "[抓狂]", "~", "！！")


@cache
def _traditional_converter() -> object:
    import opencc

    return opencc.OpenCC("s2t")


def to_traditional(text: str) -> str:
    converter = _traditional_converter()
    converted: str = converter.convert(text)  # type: ignore[attr-defined]
    return converted


def buyer_style(rng: random.Random, text: str, *, traditional: bool, chat: bool = True) -> str:
    """How a buyer types it: typos, dropped punctuation, emoji; Traditional for some buyers."""
    if chat:
        for standard, typo in _TYPOS:
            if standard in text and rng.random() < 0.12:
                text = text.replace(standard, typo, 1)
        if text.endswith(("。", "？")) and rng.random() < 0.4:
            text = text[:-1]
        if rng.random() < 0.15:
            text = text.replace("？", "??")
        if rng.random() < 0.28:
            text += rng.choice(_EMOJI)
    if traditional:
        text = to_traditional(text)
    return text


# ----------------------------------------------------------------------------------------
# Assembly


@dataclass(frozen=True)
class ScriptContext:
    """What the words talk about."""

    shop: str
    agent: str
    """The agent's 花名 (小芳)."""
    agent_no: str
    product: str = "这款"
    order_tail: str = "0000"
    phone_tail: str = "0000"
    gift: str = TV_GIFT
    wrong_gift: str = WRONG_TV_GIFT
    invoice: str = "个人"
    traditional: bool = False
    """The buyer writes Traditional characters (台港 buyers, or a phone set up that way)."""

    def fill(self, template: str) -> str:
        return template.format(
            shop=self.shop,
            agent=self.agent,
            agent_no=self.agent_no,
            product=self.product,
            order_tail=self.order_tail,
            phone_tail=self.phone_tail,
            gift=self.gift,
            wrong_gift=self.wrong_gift,
            invoice=self.invoice,
        )


@dataclass(frozen=True)
class Utterance:
    speaker: Speaker
    text: str
    at_s: int
    """Seconds after the first message."""


@dataclass(frozen=True)
class Transcript:
    scenario: Scenario
    utterances: tuple[Utterance, ...]
    flaws: frozenset[Flaw]

    @property
    def tags(self) -> tuple[str, ...]:
        return (*tags_for(self.flaws), f"{SCRIPT_TAG_PREFIX}{self.scenario.key}")

    @property
    def duration_s(self) -> int:
        return self.utterances[-1].at_s if self.utterances else 0


Part = Literal[
    "greeting", "opener", "body", "promise", "result", "rude", "claim", "closing", "rating", "buyer"
]


@dataclass
class _Line:
    speaker: Speaker
    text: str
    part: Part
    long_gap: bool = False
    apologized_gap: bool = False
    late_followup: bool = False


@dataclass
class _Builder:
    rng: random.Random
    scenario: Scenario
    ctx: ScriptContext
    lines: list[_Line] = field(default_factory=list)
    applied: set[Flaw] = field(default_factory=set)

    def buyer(self, template: str) -> None:
        text = buyer_style(
            self.rng,
            self.ctx.fill(template),
            traditional=self.ctx.traditional,
            chat=not self.scenario.is_call,
        )
        self.lines.append(_Line("buyer", text, "buyer"))

    def agent(self, template: str, part: Part) -> None:
        self.lines.append(_Line("agent", self.ctx.fill(template), part))


def applicable_flaws(scenario: Scenario) -> frozenset[Flaw]:
    """The flaws a transcript of this scenario can show."""
    flaws = {
        Flaw.GREETING_MISSING,
        Flaw.CLOSING_MISSING,
        Flaw.RATING_INVITE_MISSING,
        Flaw.FORBIDDEN_PHRASE,
    }
    if scenario.role is ServiceRole.PRESALES:
        flaws.add(Flaw.EXTREME_WORDS)
    if not scenario.is_call:
        # Calls are answered live: waiting and "I'll come back" happen in chats.
        flaws.add(Flaw.LONG_GAP_NO_APOLOGY)
        if not scenario.outbound:
            flaws.add(Flaw.SLOW_FIRST_RESPONSE)
        if scenario.has_check:
            flaws.add(Flaw.FOLLOWUP_MISSED)
    return frozenset(flaws)


def build_transcript(
    rng: random.Random, scenario: Scenario, ctx: ScriptContext, flaws: Iterable[Flaw] = ()
) -> Transcript:
    """One conversation of ``scenario``, showing exactly the requested ``flaws`` it can show.

    A requested flaw the scenario cannot show (a slow first reply in an outbound chase) is
    left out; ``Transcript.flaws`` is what the transcript really contains.
    """
    wanted = set(flaws) & applicable_flaws(scenario)
    builder = _Builder(rng, scenario, ctx)
    # Some missed follow-ups never come back at all: the chat ends on the promise.
    abandoned = wanted == {Flaw.FOLLOWUP_MISSED} and rng.random() < 0.35
    _open(builder, wanted)
    _body(builder, wanted, abandoned=abandoned)
    if abandoned:
        builder.applied |= {Flaw.FOLLOWUP_MISSED, Flaw.CLOSING_MISSING, Flaw.RATING_INVITE_MISSING}
    else:
        _insert_pairs(builder, wanted)
        _close(builder, wanted)
        _mark_gaps(builder, wanted)
    utterances = _timed(builder, slow_first=Flaw.SLOW_FIRST_RESPONSE in wanted)
    if Flaw.SLOW_FIRST_RESPONSE in wanted:
        builder.applied.add(Flaw.SLOW_FIRST_RESPONSE)
    return Transcript(scenario, tuple(utterances), frozenset(builder.applied))


def _open(builder: _Builder, wanted: set[Flaw]) -> None:
    rng, scenario = builder.rng, builder.scenario
    skip = Flaw.GREETING_MISSING in wanted
    if skip:
        builder.applied.add(Flaw.GREETING_MISSING)
    if scenario.outbound:
        return  # the greeting is prefixed to the opener in _body
    if scenario.is_call:
        greeting = rng.choice(CALL_PICKUPS_WITHOUT_GREETING if skip else CALL_GREETINGS)
        builder.agent(greeting, "greeting")
        return
    if rng.random() < 0.3:
        builder.buyer(rng.choice(BUYER_OPENERS))


def _outbound_greeting(builder: _Builder) -> str:
    pool = CALL_OUTBOUND_GREETINGS if builder.scenario.is_call else CHAT_OUTBOUND_GREETINGS
    return builder.rng.choice(pool)


def _answering(rng: random.Random, options: tuple[str, ...], asked: tuple[int, int] | None) -> int:
    """Index of the answer: the one matching the question when the pools line up."""
    if asked is not None and asked[1] == len(options):
        return asked[0]
    return rng.randrange(len(options))


def _body(builder: _Builder, wanted: set[Flaw], *, abandoned: bool) -> None:
    rng, scenario = builder.rng, builder.scenario
    inbound_chat = not scenario.outbound and not scenario.is_call
    greeted = Flaw.GREETING_MISSING in wanted
    # (variant index, pool size) of the buyer's last question: scripts list answers in the
    # order of the questions they answer.
    asked: tuple[int, int] | None = None
    for index, step in enumerate(scenario.steps):
        if isinstance(step, Check):
            promise = _answering(rng, step.promises, asked)
            builder.agent(step.promises[promise], "promise")
            if abandoned:
                return
            late = Flaw.FOLLOWUP_MISSED in wanted
            prefix = FOLLOWUP_LATE if late else FOLLOWUP_ON_TIME
            result = _answering(rng, step.results, (promise, len(step.promises)))
            builder.agent(prefix + step.results[result], "result")
            builder.lines[-1].late_followup = late
            if late:
                builder.applied.add(Flaw.FOLLOWUP_MISSED)
            asked = None
            continue
        choice = _answering(rng, step.variants, asked if step.speaker == "agent" else None)
        template = step.variants[choice]
        if step.speaker == "buyer":
            asked = (choice, len(step.variants))
            builder.buyer(template)
            next_step = scenario.steps[index + 1] if index + 1 < len(scenario.steps) else None
            if inbound_chat and not greeted and next_step is not None:
                # The first reply of a good chat greets before it answers.
                builder.agent(rng.choice(CHAT_GREETINGS), "greeting")
                greeted = True
            continue
        asked = None
        if scenario.outbound and index == 0:
            opener = (
                template
                if Flaw.GREETING_MISSING in wanted
                else (_outbound_greeting(builder) + template)
            )
            builder.agent(opener, "opener")
            continue
        builder.agent(template, "body")


def _insert_pairs(builder: _Builder, wanted: set[Flaw]) -> None:
    """Insert a buyer question and the agent's bad (or, sometimes, compliant) answer."""
    rng, scenario = builder.rng, builder.scenario
    agent_positions = _answer_positions(builder.lines)
    if not agent_positions:
        return
    pairs: list[tuple[str, str, Part]] = []
    if Flaw.FORBIDDEN_PHRASE in wanted:
        if scenario.is_call:
            pairs.append((rng.choice(CALL_BUYER_PUSHES), rng.choice(CALL_RUDE_REPLIES), "rude"))
        else:
            pairs.append(
                (rng.choice(BUYER_PUSHES), rng.choice(RUDE_REPLIES[scenario.role]), "rude")
            )
        builder.applied.add(Flaw.FORBIDDEN_PHRASE)
    if Flaw.EXTREME_WORDS in wanted:
        pairs.append((rng.choice(BUYER_COMPARE_QUESTIONS), rng.choice(EXTREME_CLAIMS), "claim"))
        builder.applied.add(Flaw.EXTREME_WORDS)
    elif scenario.role is ServiceRole.PRESALES and rng.random() < 0.3:
        pairs.append((rng.choice(BUYER_COMPARE_QUESTIONS), rng.choice(COMPLIANT_CLAIMS), "claim"))
    for question, answer, part in pairs:
        after = rng.choice(agent_positions) + 1
        asked = _Line(
            "buyer",
            buyer_style(
                rng, question, traditional=builder.ctx.traditional, chat=not scenario.is_call
            ),
            "buyer",
        )
        builder.lines[after:after] = [asked, _Line("agent", builder.ctx.fill(answer), part)]
        agent_positions = _answer_positions(builder.lines)


def _answer_positions(lines: Sequence[_Line]) -> list[int]:
    """Agent answers a buyer's follow-up question can come after (mid-conversation first)."""
    answers = [i for i, line in enumerate(lines) if line.part in {"body", "opener", "result"}]
    followed = [i for i in answers if i + 1 < len(lines) and lines[i + 1].speaker == "buyer"]
    return followed or answers


def _close(builder: _Builder, wanted: set[Flaw]) -> None:
    rng, scenario = builder.rng, builder.scenario
    closing_missing = Flaw.CLOSING_MISSING in wanted
    rating_missing = Flaw.RATING_INVITE_MISSING in wanted
    closings: tuple[str, ...]
    invites: tuple[str, ...]
    if scenario.is_call:
        closings = CALL_OUTBOUND_CLOSINGS if scenario.outbound else CALL_CLOSINGS
        invites = CALL_RATING_INVITES
    else:
        closings, invites = CHAT_CLOSINGS, CHAT_RATING_INVITES
    closing = "" if closing_missing else rng.choice(closings)
    invite = "" if rating_missing else rng.choice(invites)
    if closing_missing:
        builder.applied.add(Flaw.CLOSING_MISSING)
    if rating_missing:
        builder.applied.add(Flaw.RATING_INVITE_MISSING)
    if scenario.is_call:
        # On the phone the survey is announced before the goodbye.
        if invite:
            builder.agent(invite, "rating")
        if closing:
            builder.agent(closing, "closing")
        return
    if closing and invite and rng.random() < 0.5:
        builder.agent(f"{closing} {invite}", "closing")
    else:
        if closing:
            builder.agent(closing, "closing")
        if invite:
            builder.agent(invite, "rating")
    if rng.random() < 0.35:
        builder.buyer(rng.choice(BUYER_AFTER_CLOSING))


def _mark_gaps(builder: _Builder, wanted: set[Flaw]) -> None:
    """Pick the reply that comes after a long wait: without apology (flaw) or with one."""
    rng = builder.rng
    if builder.scenario.is_call:
        return
    # The first reply to the buyer is the slow-first-response case; long gaps come later.
    first_buyer = next(i for i, line in enumerate(builder.lines) if line.speaker == "buyer")
    first_reply = next(
        i for i, line in enumerate(builder.lines) if i > first_buyer and line.speaker == "agent"
    )
    candidates = [
        i
        for i, line in enumerate(builder.lines)
        if i > first_reply
        and line.speaker == "agent"
        and line.part in {"body", "rude", "claim", "promise", "closing", "rating"}
        and builder.lines[i - 1].speaker == "buyer"
        and not contains_any(line.text, APOLOGY_MARKERS)
    ]
    if not candidates:
        return
    if Flaw.LONG_GAP_NO_APOLOGY in wanted:
        builder.lines[rng.choice(candidates)].long_gap = True
        builder.applied.add(Flaw.LONG_GAP_NO_APOLOGY)
    elif rng.random() < 0.1:
        # A long wait handled well: the reply apologises. A hard negative for QC.
        line = builder.lines[rng.choice(candidates)]
        line.apologized_gap = True
        line.text = GAP_APOLOGY + line.text


def _timed(builder: _Builder, *, slow_first: bool) -> list[Utterance]:
    """Give each line a time: typing speeds, reply delays, and the waits the flaws call for."""
    rng = builder.rng
    call = builder.scenario.is_call
    utterances: list[Utterance] = []
    now = 0
    first_unanswered: int | None = None
    agent_has_replied = False
    for index, line in enumerate(builder.lines):
        if index > 0:
            previous = builder.lines[index - 1]
            if call:
                now += rng.randint(2, 10)
            elif line.speaker == "buyer":
                now += rng.randint(3, 15) if previous.speaker == "buyer" else rng.randint(8, 60)
            elif line.part == "result":
                now += rng.randint(16 * 60, 45 * 60) if line.late_followup else rng.randint(60, 480)
            elif previous.speaker == "agent":
                now += rng.randint(3, 20)
            else:
                assert first_unanswered is not None
                if line.long_gap:
                    wait = rng.randint(LONG_GAP_S + 20, 900)
                elif line.apologized_gap:
                    wait = rng.randint(LONG_GAP_S + 20, 600)
                elif not agent_has_replied and slow_first:
                    wait = rng.randint(SLOW_FIRST_RESPONSE_S + 15, LONG_GAP_S - 10)
                elif not agent_has_replied:
                    wait = rng.randint(4, 15)
                else:
                    wait = rng.randint(5, 25)
                now = max(now + 2, first_unanswered + wait)
        if line.speaker == "buyer":
            if first_unanswered is None:
                first_unanswered = now
        else:
            first_unanswered = None
            agent_has_replied = agent_has_replied or any(
                earlier.speaker == "buyer" for earlier in builder.lines[:index]
            )
        utterances.append(Utterance(line.speaker, line.text, now))
    return utterances


def scenarios_for(role: ServiceRole) -> tuple[Scenario, ...]:
    return tuple(s for s in SCENARIOS.values() if s.role is role)


FLAW_WEIGHTS: dict[Flaw, float] = {
    Flaw.GREETING_MISSING: 1.0,
    Flaw.CLOSING_MISSING: 1.0,
    Flaw.RATING_INVITE_MISSING: 1.2,
    Flaw.FORBIDDEN_PHRASE: 0.8,
    Flaw.EXTREME_WORDS: 1.2,
    Flaw.SLOW_FIRST_RESPONSE: 1.0,
    Flaw.LONG_GAP_NO_APOLOGY: 0.9,
    Flaw.FOLLOWUP_MISSED: 1.2,
}


def draw_flaws(rng: random.Random, scenario: Scenario, sloppiness: float) -> frozenset[Flaw]:
    """No flaw with probability ``1 - sloppiness``; otherwise one, sometimes two."""
    if rng.random() >= sloppiness:
        return frozenset()
    options: Sequence[Flaw] = sorted(applicable_flaws(scenario))
    weights = [FLAW_WEIGHTS[flaw] for flaw in options]
    count = 2 if rng.random() < 0.3 else 1
    chosen = {rng.choices(options, weights)[0] for _ in range(count)}
    return frozenset(chosen)
