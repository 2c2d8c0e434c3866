"""The QC auto-check (自动质检): one transcript against its role's script → hits and a score.

Pure: a :class:`Transcript` and a :class:`~csdesk.qc.scripts.Script` in, a
:class:`CheckResult` out. ``csdesk qc check`` and the in-app check after a conversation
closes call :func:`check` alike, so they give the same hits.

Only the agent's messages are judged; a buyer's words never count against the agent. Text
is matched over its normalized form (:mod:`csdesk.qc.text`), so Traditional and Simplified,
full- and half-width match alike, and every span is reported in the original message.

Hits:

- ``span`` is ``[start, end)`` in the message's original text for what was said (a
  forbidden phrase, an extreme word, a promise not kept); ``[0, 0]`` when the hit is about
  the message as a whole (a missing step, a late reply).
- Missing steps point at the message where the step belonged: the greeting at the first
  agent message; closing, rating invitation and order confirmation at the last one.
- Timing rules need ``at`` on the messages involved; where an export has no times they are
  not checked (never guessed).

Score: 100 minus the points of the hits, at least 0; any ``fatal`` hit makes it 0.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from csdesk.qc import scripts as s
from csdesk.qc.forbidden_phrases import NEGATIONS, SOFTENERS, forbidden_spans, harmless, quoted
from csdesk.qc.scripts import Category, Rule, Script, Severity
from csdesk.qc.text import Automaton, Match, Normalized, build_automaton, matches, normalize
from csdesk.storage.enums import ServiceRole


class Sender(enum.StrEnum):
    BUYER = "buyer"
    AGENT = "agent"


@dataclass(frozen=True)
class Message:
    sender: Sender
    text: str
    at: datetime | None = None


@dataclass(frozen=True)
class Transcript:
    role: ServiceRole
    messages: tuple[Message, ...]


class TranscriptError(ValueError):
    """Malformed transcript input; ``field`` names the part (``messages[2].at``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Hit:
    category: Category
    rule: str
    severity: Severity
    message_index: int
    span: tuple[int, int]
    points: int
    detail: str

    def to_json(self) -> dict[str, object]:
        return {
            "category": self.category.value,
            "rule": self.rule,
            "severity": self.severity.value,
            "message_index": self.message_index,
            "span": [self.span[0], self.span[1]],
            "points": self.points,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class CheckResult:
    score: int
    script_version: str
    hits: tuple[Hit, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "score": self.score,
            "script_version": self.script_version,
            "hits": [hit.to_json() for hit in self.hits],
        }


# -- input -----------------------------------------------------------------------------------


def _parse_time(value: object, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TranscriptError(field, "expected an ISO-8601 time string")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise TranscriptError(field, f"not an ISO-8601 time: {value!r}") from None
    # An export without a zone: its times are compared with each other only, so any zone
    # does; UTC keeps them aware like every time in csdesk.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_transcript(data: object) -> Transcript:
    """``{"role", "messages": [{"from": "buyer"|"agent", "at"?: ISO-8601, "text"}]}``."""
    if not isinstance(data, dict):
        raise TranscriptError("transcript", "expected a JSON object")
    role_value = data.get("role")
    try:
        role = ServiceRole(str(role_value))
    except ValueError:
        roles = ", ".join(r.value for r in ServiceRole)
        raise TranscriptError("role", f"unknown role {role_value!r} (one of {roles})") from None
    raw_messages = data.get("messages")
    if not isinstance(raw_messages, list):
        raise TranscriptError("messages", "expected a list of messages")
    messages: list[Message] = []
    for index, raw in enumerate(raw_messages):
        field = f"messages[{index}]"
        if not isinstance(raw, dict):
            raise TranscriptError(field, "expected an object")
        sender_value = raw.get("from")
        try:
            sender = Sender(str(sender_value))
        except ValueError:
            raise TranscriptError(
                f"{field}.from", f"expected 'buyer' or 'agent', got {sender_value!r}"
            ) from None
        text = raw.get("text")
        if not isinstance(text, str):
            raise TranscriptError(f"{field}.text", "expected a string")
        at = _parse_time(raw.get("at"), f"{field}.at")
        messages.append(Message(sender, text, at))
    return Transcript(role, tuple(messages))


# -- cue phrases -------------------------------------------------------------------------------


class _Cue(enum.Enum):
    GREETING = "greeting"
    CLOSING = "closing"
    RATING = "rating"
    ORDER = "order"
    APOLOGY = "apology"
    PROMISE = "promise"
    PUSHY = "pushy"
    EXTREME = "extreme"
    DISTURB = "disturb"
    SELF_INTRO = "self_intro"


_CUE_LISTS: Mapping[_Cue, Iterable[str]] = {
    _Cue.GREETING: s.GREETINGS,
    _Cue.CLOSING: s.CLOSINGS,
    _Cue.RATING: s.RATING_INVITES,
    _Cue.ORDER: s.ORDER_CONFIRMATIONS,
    _Cue.APOLOGY: s.APOLOGIES,
    _Cue.PROMISE: s.PROMISES,
    _Cue.PUSHY: s.PUSHY,
    _Cue.EXTREME: s.EXTREME_WORDS,
    _Cue.DISTURB: s.CHASE_DISTURB,
    _Cue.SELF_INTRO: s.CHASE_SELF_INTRO,
}


@functools.cache
def _cues() -> Automaton | None:
    return build_automaton(
        (phrase, cue) for cue, phrases in _CUE_LISTS.items() for phrase in phrases
    )


@dataclass(frozen=True)
class _Agent:
    """One agent message, read once."""

    index: int
    message: Message
    norm: Normalized
    cues: Mapping[_Cue, tuple[Match, ...]]

    def has(self, cue: _Cue) -> bool:
        return bool(self.cues.get(cue))


def _read(index: int, message: Message) -> _Agent:
    norm = normalize(message.text)
    grouped: dict[_Cue, list[Match]] = {}
    for match in matches(_cues(), norm.text):
        assert isinstance(match.payload, _Cue)
        grouped.setdefault(match.payload, []).append(match)
    return _Agent(index, message, norm, {cue: tuple(found) for cue, found in grouped.items()})


# -- rules -----------------------------------------------------------------------------------


def _hit(rule: Rule, index: int, span: tuple[int, int], detail: str) -> Hit:
    return Hit(rule.category, rule.id, rule.severity, index, span, rule.points, detail)


def _clause_start(text: str, start: int) -> int:
    return text.rfind(" ", 0, start) + 1


def _greets(agent: _Agent) -> bool:
    text = agent.norm.text
    if text.lstrip().startswith("亲"):
        return True
    for match in agent.cues.get(_Cue.GREETING, ()):
        # "在的 / 在呢" greet only as a clause of their own ("现在的价格" does not).
        if match.key in ("在的", "在呢") and match.start != _clause_start(text, match.start):
            continue
        return True
    return False


def _required_steps(script: Script, agents: list[_Agent], outbound: bool) -> list[Hit]:
    hits: list[Hit] = []
    first, last = agents[0], agents[-1]
    if script.chase_opening and outbound:
        missing = [
            name
            for name, ok in (
                ("您好", any(m.key in ("您好", "你好") for m in first.cues.get(_Cue.GREETING, ()))),
                ("抱歉打扰", first.has(_Cue.DISTURB)),
                ("自报家门", first.has(_Cue.SELF_INTRO)),
            )
            if not ok
        ]
        if missing:
            hits.append(
                _hit(s.CHASE_OPENING, first.index, (0, 0), "开场缺少：" + "、".join(missing))
            )
    elif script.require_greeting and not _greets(first):
        hits.append(_hit(s.GREETING, first.index, (0, 0), "首次回复没有问候语"))
    needs_order = script.require_order_confirm or (script.chase_opening and outbound)
    if needs_order and not any(a.has(_Cue.ORDER) for a in agents):
        hits.append(_hit(s.ORDER_CONFIRM, last.index, (0, 0), "没有与买家核对订单"))
    if script.require_closing and not any(a.has(_Cue.CLOSING) for a in agents[-2:]):
        hits.append(_hit(s.CLOSING, last.index, (0, 0), "没有结束语"))
    if script.require_rating_invite and not any(a.has(_Cue.RATING) for a in agents):
        hits.append(_hit(s.RATING_INVITE, last.index, (0, 0), "没有邀请评价"))
    return hits


def _said(script: Script, agent: _Agent) -> list[Hit]:
    """Forbidden phrases and pushy chasing in one agent message."""
    hits: list[Hit] = []
    for found in forbidden_spans(agent.message.text, script.forbidden_phrases):
        rule = s.ABUSIVE if found.hit.phrase in script.abusive_phrases else s.FORBIDDEN
        detail = f"“{found.hit.phrase}”：{found.hit.reason}"
        hits.append(_hit(rule, agent.index, (found.start, found.end), detail))
    if script.check_pushy:
        for match in agent.cues.get(_Cue.PUSHY, ()):
            if harmless(agent.norm, agent.message.text, match.key, match.start, match.end):
                continue
            span = agent.norm.span(match.start, match.end)
            hits.append(
                _hit(s.PUSHY_CHASE, agent.index, span, f"“{match.key}”：{s.PUSHY_CHASE.why}")
            )
    return hits


_TIME_AFTER_FASTEST = ("今", "明", "后天", "当天", "次日", "隔天", "第二天", "一", "两", "二", "三")


def _superlatives(agent: _Agent) -> list[tuple[int, int]]:
    """ "最…" claims in normalized offsets, the non-claims (see scripts) left out."""
    text = agent.norm.text
    found: list[tuple[int, int]] = []
    for i, ch in enumerate(text):
        if ch != "最" or i + 1 >= len(text) or not text[i + 1].isalnum():
            continue
        ahead = text[i : i + 6]
        if ahead.startswith(s.SUPERLATIVE_EXEMPT):
            continue
        before = text[_clause_start(text, i) : i]
        if before.endswith((*NEGATIONS, "不敢说", "不敢说是", "不一定是")):
            continue
        if before.rstrip(SOFTENERS).endswith(s.SUPERLATIVE_EXEMPT_BEFORE) or "哪" in before:
            continue
        after = text[i + 2 :]
        if ahead.startswith("最好") and after.startswith(s.ADVICE_AFTER_BEST):
            continue
        if ahead.startswith("最快") and (
            after.startswith(_TIME_AFTER_FASTEST)
            or after[:1].isdigit()
            or before.endswith(("以", "用", "尽"))
        ):
            continue
        if quoted(agent.message.text, *agent.norm.span(i, i + 2)):
            continue  # citing the buyer ("您说的“全网最低”…"), not claiming
        found.append((i, i + 2))
    return found


def _extreme(agent: _Agent) -> list[Hit]:
    spans: list[tuple[int, int]] = []
    for match in agent.cues.get(_Cue.EXTREME, ()):
        if not harmless(agent.norm, agent.message.text, match.key, match.start, match.end):
            spans.append((match.start, match.end))
    spans.extend(_superlatives(agent))
    # Overlaps ("全网最低" and its "最低"): the longest, then the leftmost, owns the text.
    chosen: list[tuple[int, int]] = []
    for start, end in sorted(spans, key=lambda se: (se[0] - se[1], se[0])):
        if all(end <= c_start or start >= c_end for c_start, c_end in chosen):
            chosen.append((start, end))
    hits = []
    for start, end in sorted(chosen):
        span = agent.norm.span(start, end)
        word = agent.message.text[span[0] : span[1]]
        hits.append(_hit(s.EXTREME, agent.index, span, f"极限词“{word}”"))
    return hits


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (later - earlier).total_seconds()


def _timing(script: Script, messages: tuple[Message, ...], agents: list[_Agent]) -> list[Hit]:
    hits: list[Hit] = []
    by_index = {a.index: a for a in agents}
    first_buyer = next((i for i, m in enumerate(messages) if m.sender is Sender.BUYER), None)

    # slow_first_response: the first agent reply after the buyer's first message.
    if first_buyer is not None and (agents[0].index > first_buyer):
        reply = agents[0]
        waited = _seconds(reply.message.at, messages[first_buyer].at)
        if waited is not None and waited > script.first_response_s:
            hits.append(
                _hit(
                    s.SLOW_FIRST_RESPONSE,
                    reply.index,
                    (0, 0),
                    f"首次响应 {waited:.0f} 秒（目标 {script.first_response_s} 秒）",
                )
            )

    # long_gap_no_apology: a reply to a buyer who has waited too long, without an apology.
    waiting_since: int | None = None
    for index, message in enumerate(messages):
        if message.sender is Sender.BUYER:
            if waiting_since is None:
                waiting_since = index
            continue
        if waiting_since is not None:
            agent = by_index[index]
            waited = _seconds(message.at, messages[waiting_since].at)
            if waited is not None and waited > script.long_gap_s and not agent.has(_Cue.APOLOGY):
                hits.append(
                    _hit(s.LONG_GAP, index, (0, 0), f"买家等待 {waited / 60:.1f} 分钟，回复未致歉")
                )
        waiting_since = None

    # followup_missed: a promise to come back, and no agent message within the window.
    for position, agent in enumerate(agents):
        promise = _pending_promise(agent)
        if promise is None or agent.message.at is None:
            continue
        later = agents[position + 1] if position + 1 < len(agents) else None
        if later is None:
            detail = "承诺稍后回复，之后再没有回复"
        else:
            gap = _seconds(later.message.at, agent.message.at)
            if gap is None or gap <= script.followup_s:
                continue
            detail = f"承诺稍后回复，{gap / 60:.0f} 分钟后才回复"
        hits.append(_hit(s.FOLLOWUP, agent.index, agent.norm.span(*promise), detail))
    return hits


_PAST_PROMISE_BEFORE = ("让您", "让你", "久")
_PENDING_TAIL = 8
"""A promise is pending when at most this many characters follow it: "我帮您查一下哦" waits
for an answer, "稍等，已经帮您查到了，明天送达" answers at once."""


def _pending_promise(agent: _Agent) -> tuple[int, int] | None:
    text = agent.norm.text
    pending: tuple[int, int] | None = None
    for match in agent.cues.get(_Cue.PROMISE, ()):
        before = text[_clause_start(text, match.start) : match.start]
        if before.endswith(_PAST_PROMISE_BEFORE) or text[match.end : match.end + 1] == "了":
            continue  # "让您稍等了": an apology for a wait, not a promise
        if before.endswith(NEGATIONS):
            continue
        pending = (match.start, match.end)
    if pending is None:
        return None
    tail = sum(1 for ch in text[pending[1] :] if ch.isalnum())
    return pending if tail <= _PENDING_TAIL else None


def check(transcript: Transcript, script: Script) -> CheckResult:
    """Hits of one transcript under ``script`` (ordered by message, then position) and its
    score."""
    if script.role is not transcript.role:
        raise ValueError(
            f"script for {script.role.value} given a {transcript.role.value} transcript"
        )
    messages = transcript.messages
    agents = [_read(i, m) for i, m in enumerate(messages) if m.sender is Sender.AGENT]
    hits: list[Hit] = []
    if agents:
        outbound = messages[0].sender is Sender.AGENT
        hits.extend(_required_steps(script, agents, outbound))
        for agent in agents:
            hits.extend(_said(script, agent))
            if script.check_extreme_words:
                hits.extend(_extreme(agent))
        hits.extend(_timing(script, messages, agents))
    hits.sort(key=lambda h: (h.message_index, h.span, h.rule))
    if any(h.severity is Severity.FATAL for h in hits):
        score = 0
    else:
        score = max(0, 100 - sum(h.points for h in hits))
    return CheckResult(score, script.version_key, tuple(hits))
