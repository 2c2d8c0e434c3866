"""Generated transcripts carry exactly the QC flaws their tags claim.

``detect_flaws`` is a reference reading of the contract's QC categories, written from the
marker vocabulary and the timing limits alone (not from how the builder works), so a tag
is only trusted when the text and timing really show it. The integration test runs the
same check over a seeded database.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pytest

from csdesk.seed import scripts
from csdesk.seed.scripts import SCENARIOS, Check, Scenario
from csdesk.seed.transcripts import (
    APOLOGY_MARKERS,
    CLOSING_MARKERS,
    EXTREME_WORDS,
    FOLLOWUP_WINDOW_S,
    FORBIDDEN_PHRASES,
    GOOD_TAG,
    GREETING_MARKERS,
    LONG_GAP_S,
    PROMISE_MARKERS,
    QC_TAG_PREFIX,
    RATING_MARKERS,
    SLOW_FIRST_RESPONSE_S,
    Flaw,
    ScriptContext,
    Transcript,
    applicable_flaws,
    build_transcript,
    buyer_style,
    contains_any,
    draw_flaws,
    tags_for,
)
from csdesk.storage.enums import ServiceRole


@dataclass(frozen=True)
class Said:
    speaker: str
    """``buyer`` or ``agent``."""
    text: str
    at_s: float


def detect_flaws(messages: Sequence[Said]) -> set[Flaw]:
    """The contract's QC categories, read off a transcript's text and timing."""
    found: set[Flaw] = set()
    agent = [m for m in messages if m.speaker == "agent"]
    if not agent or not contains_any(agent[0].text, GREETING_MARKERS):
        found.add(Flaw.GREETING_MISSING)
    if not any(contains_any(m.text, CLOSING_MARKERS) for m in agent):
        found.add(Flaw.CLOSING_MISSING)
    if not any(contains_any(m.text, RATING_MARKERS) for m in agent):
        found.add(Flaw.RATING_INVITE_MISSING)
    if any(contains_any(m.text, FORBIDDEN_PHRASES) for m in agent):
        found.add(Flaw.FORBIDDEN_PHRASE)
    if any(contains_any(m.text, EXTREME_WORDS) for m in agent):
        found.add(Flaw.EXTREME_WORDS)
    first_buyer = next((i for i, m in enumerate(messages) if m.speaker == "buyer"), None)
    if first_buyer is not None:
        reply = next((m for m in messages[first_buyer:] if m.speaker == "agent"), None)
        if reply is not None and reply.at_s - messages[first_buyer].at_s > SLOW_FIRST_RESPONSE_S:
            found.add(Flaw.SLOW_FIRST_RESPONSE)
    waiting_since: float | None = None
    for m in messages:
        if m.speaker == "buyer":
            waiting_since = m.at_s if waiting_since is None else waiting_since
            continue
        waited = m.at_s - waiting_since if waiting_since is not None else 0.0
        if waited > LONG_GAP_S and not contains_any(m.text, APOLOGY_MARKERS):
            found.add(Flaw.LONG_GAP_NO_APOLOGY)
        waiting_since = None
    for i, m in enumerate(messages):
        if m.speaker == "agent" and contains_any(m.text, PROMISE_MARKERS):
            later = next((n for n in messages[i + 1 :] if n.speaker == "agent"), None)
            if later is None or later.at_s - m.at_s > FOLLOWUP_WINDOW_S:
                found.add(Flaw.FOLLOWUP_MISSED)
    return found


def flaws_in_tags(tags: Iterable[str]) -> set[Flaw]:
    """The flaws ``qc:<category>`` tags name (``qc:good`` names none)."""
    return {
        Flaw(tag.removeprefix(QC_TAG_PREFIX))
        for tag in tags
        if tag.startswith(QC_TAG_PREFIX) and tag != GOOD_TAG
    }


def said(transcript: Transcript) -> list[Said]:
    return [Said(u.speaker, u.text, u.at_s) for u in transcript.utterances]


CONTEXT = ScriptContext(
    shop="演示旗舰店",
    agent="小芳",
    agent_no="1023",
    product="65英寸电视Q65",
    order_tail="4821",
    phone_tail="6789",
    invoice="杭州某某科技有限公司",
)

CASES = [
    (key, flaw)
    for key, scenario in sorted(SCENARIOS.items())
    for flaw in sorted(applicable_flaws(scenario))
]


@pytest.mark.parametrize(("key", "flaw"), CASES)
def test_a_requested_flaw_is_present_and_nothing_else(key: str, flaw: Flaw) -> None:
    for seed in range(6):
        transcript = build_transcript(random.Random(seed), SCENARIOS[key], CONTEXT, {flaw})
        assert flaw in transcript.flaws
        assert detect_flaws(said(transcript)) == set(transcript.flaws)


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_good_service_greets_closes_and_invites_a_rating(key: str) -> None:
    for seed in range(10):
        transcript = build_transcript(random.Random(seed), SCENARIOS[key], CONTEXT)
        assert transcript.flaws == frozenset()
        assert transcript.tags[0] == GOOD_TAG
        agent = [u.text for u in transcript.utterances if u.speaker == "agent"]
        assert contains_any(agent[0], GREETING_MARKERS)
        assert any(contains_any(text, CLOSING_MARKERS) for text in agent)
        assert any(contains_any(text, RATING_MARKERS) for text in agent)
        assert detect_flaws(said(transcript)) == set()


def test_random_mixes_of_flaws_are_labelled_exactly() -> None:
    rng = random.Random(42)
    scenarios = sorted(SCENARIOS.values(), key=lambda s: s.key)
    for _ in range(3000):
        scenario = rng.choice(scenarios)
        wanted = draw_flaws(rng, scenario, sloppiness=0.9)
        context = ScriptContext(
            shop="演示旗舰店", agent="小美", agent_no="1001", traditional=rng.random() < 0.2
        )
        transcript = build_transcript(rng, scenario, context, wanted)
        assert wanted <= transcript.flaws, scenario.key
        assert detect_flaws(said(transcript)) == set(transcript.flaws), scenario.key


@pytest.mark.parametrize(
    ("key", "flaw"),
    [
        ("chase_reminder", Flaw.SLOW_FIRST_RESPONSE),  # the agent spoke first
        ("presales_price", Flaw.FOLLOWUP_MISSED),  # nothing to come back to
        ("hotline_install", Flaw.LONG_GAP_NO_APOLOGY),  # calls are live
        ("refund_regret", Flaw.EXTREME_WORDS),  # extreme words are a pre-sales claim
    ],
)
def test_a_flaw_the_scenario_cannot_show_is_left_out(key: str, flaw: Flaw) -> None:
    transcript = build_transcript(random.Random(1), SCENARIOS[key], CONTEXT, {flaw})
    assert flaw not in transcript.flaws
    assert detect_flaws(said(transcript)) == set(transcript.flaws)


def test_followup_missed_waits_past_the_window_or_never_comes_back() -> None:
    outcomes = set()
    for seed in range(40):
        transcript = build_transcript(
            random.Random(seed), SCENARIOS["triage_logistics"], CONTEXT, {Flaw.FOLLOWUP_MISSED}
        )
        outcomes.add(Flaw.CLOSING_MISSING in transcript.flaws)
    assert outcomes == {True, False}


@pytest.mark.parametrize(
    ("flaws", "tags"),
    [
        ((), (GOOD_TAG,)),
        ((Flaw.GREETING_MISSING,), ("qc:greeting_missing",)),
        (
            (Flaw.SLOW_FIRST_RESPONSE, Flaw.CLOSING_MISSING),
            ("qc:closing_missing", "qc:slow_first_response"),
        ),
    ],
)
def test_tags_name_the_flaws(flaws: tuple[Flaw, ...], tags: tuple[str, ...]) -> None:
    assert tags_for(flaws) == tags


def test_the_same_seed_gives_the_same_transcript() -> None:
    scenario = SCENARIOS["presales_stock"]
    first = build_transcript(random.Random(7), scenario, CONTEXT, {Flaw.LONG_GAP_NO_APOLOGY})
    again = build_transcript(random.Random(7), scenario, CONTEXT, {Flaw.LONG_GAP_NO_APOLOGY})
    assert first == again


def test_buyers_write_short_with_typos_emoji_and_some_traditional_characters() -> None:
    rng = random.Random(3)
    styled = [buyer_style(rng, "这个现在可以发货吗？", traditional=False) for _ in range(200)]
    assert any(text != "这个现在可以发货吗？" for text in styled)
    assert any(not text.endswith("？") for text in styled)
    assert buyer_style(random.Random(1), "这个电视怎么安装", traditional=True, chat=False) == (
        "這個電視怎麼安裝"
    )


# --- every line of the script pools, checked against the QC vocabulary ------------------

QC_MARKERS = (
    *GREETING_MARKERS,
    *CLOSING_MARKERS,
    *RATING_MARKERS,
    *FORBIDDEN_PHRASES,
    *EXTREME_WORDS,
)
NEAR_MISSES = ("最", "第一", "不清楚", "随便")
"""Words a stricter QC list may carry: good lines keep clear of them too."""


def _agent_lines(scenario: Scenario) -> tuple[list[str], list[str], list[str]]:
    """(body lines, promises, follow-up results) of a scenario."""
    body: list[str] = []
    promises: list[str] = []
    results: list[str] = []
    for step in scenario.steps:
        if isinstance(step, Check):
            promises += step.promises
            results += step.results
        elif step.speaker == "agent":
            body += step.variants
    return body, promises, results


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_good_lines_carry_no_qc_marker(key: str) -> None:
    body, promises, results = _agent_lines(SCENARIOS[key])
    for line in body + results + [*scripts.COMPLIANT_CLAIMS]:
        hits = [m for m in (*QC_MARKERS, *PROMISE_MARKERS, *NEAR_MISSES, "稍后") if m in line]
        assert not hits, (line, hits)
    for line in promises:
        assert contains_any(line, PROMISE_MARKERS), line
        assert not contains_any(line, QC_MARKERS + NEAR_MISSES), line
    for line in [CONTEXT.fill(template) for template in body + promises + results]:
        assert "{" not in line


@pytest.mark.parametrize(
    ("pool", "must", "must_not"),
    [
        (scripts.CHAT_GREETINGS, GREETING_MARKERS, CLOSING_MARKERS + RATING_MARKERS),
        (scripts.CHAT_OUTBOUND_GREETINGS, GREETING_MARKERS, CLOSING_MARKERS + RATING_MARKERS),
        (scripts.CALL_GREETINGS, GREETING_MARKERS, CLOSING_MARKERS + RATING_MARKERS),
        (scripts.CALL_OUTBOUND_GREETINGS, GREETING_MARKERS, CLOSING_MARKERS + RATING_MARKERS),
        (scripts.CHAT_CLOSINGS, CLOSING_MARKERS, RATING_MARKERS + FORBIDDEN_PHRASES),
        (scripts.CALL_CLOSINGS, CLOSING_MARKERS, RATING_MARKERS + FORBIDDEN_PHRASES),
        (scripts.CALL_OUTBOUND_CLOSINGS, CLOSING_MARKERS, RATING_MARKERS + FORBIDDEN_PHRASES),
        (scripts.CHAT_RATING_INVITES, RATING_MARKERS, CLOSING_MARKERS + PROMISE_MARKERS),
        (scripts.CALL_RATING_INVITES, RATING_MARKERS, CLOSING_MARKERS + PROMISE_MARKERS),
        (scripts.CALL_RUDE_REPLIES, FORBIDDEN_PHRASES, EXTREME_WORDS + CLOSING_MARKERS),
        (
            tuple(line for lines in scripts.RUDE_REPLIES.values() for line in lines),
            FORBIDDEN_PHRASES,
            EXTREME_WORDS + CLOSING_MARKERS + RATING_MARKERS + APOLOGY_MARKERS,
        ),
        (scripts.EXTREME_CLAIMS, ("最好", "第一", "全网最低", "国家级"), FORBIDDEN_PHRASES),
    ],
)
def test_script_pieces_say_what_they_are_for(
    pool: tuple[str, ...], must: tuple[str, ...], must_not: tuple[str, ...]
) -> None:
    for line in pool:
        assert contains_any(line, must), line
        assert not contains_any(line, must_not + PROMISE_MARKERS), line


def test_pickups_without_greeting_really_lack_one() -> None:
    for line in scripts.CALL_PICKUPS_WITHOUT_GREETING:
        assert not contains_any(line, GREETING_MARKERS)


def test_every_role_has_scripts() -> None:
    assert {s.role for s in SCENARIOS.values()} == set(ServiceRole)
    assert set(scripts.RUDE_REPLIES) == set(ServiceRole) - {ServiceRole.HOTLINE}
