"""The QC auto-check, rule by rule: tables of tricky cases (near-misses matter as much as
hits), spans in the original text, timing, scoring, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from csdesk.qc.check import (
    Message,
    Sender,
    Transcript,
    TranscriptError,
    check,
    parse_transcript,
)
from csdesk.qc.forbidden_phrases import find_forbidden, forbidden_spans
from csdesk.qc.scripts import Category, Severity, default_script
from csdesk.roles.config import RoutingConfig
from csdesk.storage.enums import ServiceRole

DEFAULTS = RoutingConfig().console.active_forbidden_phrases
T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)

GOOD_OPENING = "您好，欢迎光临"
GOOD_CLOSING = "感谢您的咨询，麻烦给个评价，祝您生活愉快"


def chat(role: ServiceRole, *turns: tuple[str, float | None, str]) -> Transcript:
    return Transcript(
        role,
        tuple(
            Message(
                Sender.BUYER if who == "b" else Sender.AGENT,
                text,
                None if at is None else T0 + timedelta(seconds=at),
            )
            for who, at, text in turns
        ),
    )


def hits_of(transcript: Transcript, category: Category) -> list[tuple[int, str]]:
    result = check(transcript, default_script(transcript.role))
    return [
        (h.message_index, transcript.messages[h.message_index].text[h.span[0] : h.span[1]])
        for h in result.hits
        if h.category is category
    ]


# -- forbidden phrases ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我也不知道", ["不知道"]),
        ("這個我也不知道啦", ["不知道"]),  # Traditional
        ("我们真的沒辦法！", ["沒辦法"]),  # the span is the original characters
        ("我们这边没有办法发顺丰", ["没有办法"]),  # a variant of 没办法
        ("这个我不晓得", ["不晓得"]),
        ("你自己看详情页", ["自己看"]),
        ("不归我管", ["不归我管"]),
        # near-misses
        ("不知道您对这个订单需要了解什么", []),  # seeds/003 hotline script
        ("不知道您對這個訂單需要了解一些什麼內容", []),
        ("不知道是否方便提供订单号", []),
        ("不知道亲这边方便什么时候收货", []),
        ("如果您不知道怎么操作，我教您", []),
        ("您也不知道的话没关系", []),
        ("不是没办法，是要等仓库", []),
        ("如果您那边没办法在家等，可以自己寄回", []),
        ("实在没办法的话，我们安排上门", []),
        ("我自己看过实物", []),
        ("不用您自己去，快递上门", []),
        ("您说的“没办法”是指哪一步", []),
        ("之前客服讲「不归我管」，非常抱歉", []),
        ("不，知道了", []),  # punctuation breaks a phrase
    ],
)
def test_forbidden_phrases_in_context(text: str, expected: list[str]) -> None:
    spans = forbidden_spans(text, DEFAULTS)
    assert [text[s.start : s.end] for s in spans] == expected


def test_spans_map_back_through_expanding_characters() -> None:
    text = "㈱ＡＢ，我也不知道"  # ㈱ folds to three characters, full-width letters to half-width
    (span,) = forbidden_spans(text, DEFAULTS)
    assert (span.start, span.end) == (6, 9)
    assert text[span.start : span.end] == "不知道"


@pytest.mark.parametrize(
    "text",
    [
        "我也不知道",
        "不知道您需要什么",
        "这个我也不知道，你自己看详情页吧",
        "您说的“没办法”是指哪一步",
        "爱买不买",
        "我们这边没有办法",
    ],
)
def test_pre_send_and_qc_agree(text: str) -> None:
    transcript = chat(ServiceRole.PRESALES, ("b", None, "在吗"), ("a", None, text))
    qc = [
        h.detail.split("”")[0].lstrip("“")
        for h in check(transcript, default_script(ServiceRole.PRESALES)).hits
        if h.category is Category.FORBIDDEN_PHRASE
    ]
    assert qc == [hit.phrase for hit in find_forbidden(text, DEFAULTS)]


def test_a_shops_phrases_are_the_scripts_phrases() -> None:
    config = RoutingConfig.from_overrides(
        {"console": {"forbidden_phrases": {"不知道": None, "随便": "敷衍买家"}}}
    )
    script = default_script(ServiceRole.PRESALES, config)
    transcript = chat(ServiceRole.PRESALES, ("b", None, "在吗"), ("a", None, "您好，不知道，随便"))
    found = [h.detail for h in check(transcript, script).hits if h.category == "forbidden_phrase"]
    assert found == ["“随便”：敷衍买家"]


# -- extreme words ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("这是我们店最好的面膜", ["最好"]),
        ("我们家的质量是最好的！", ["最好"]),
        ("這是最頂級的材質，國家級認證", ["最頂", "國家級"]),
        ("全网最低价", ["全网最低"]),
        ("销量NO.1哦", ["NO.1"]),
        ("国内第一品牌，送礼首选", ["第一品牌", "首选"]),
        ("这款最适合学生，也是最近最火的款", ["最适", "最火"]),
        # near-misses: time, quantity, service attitude, advice, questions, names, quotes
        ("最近有满减，最新款也参加", []),
        ("这是最后一件了，最晚后天发货，最早明天", []),
        ("每人最多买两件，最少一件起", []),
        ("我们会尽最大努力，最大程度满足您", []),
        ("您最好先量一下尺寸", []),
        ("最快明天到", []),
        ("以最快的速度为您处理", []),
        ("您最喜欢什么颜色？您看哪款最合适", []),
        ("支持全网通的", []),
        ("第一时间为您发货，第一次购买送礼品", []),
        ("不敢说是最好的，但性价比很高", []),
        ("您说的“全网最低”我们不能保证", []),
    ],
)
def test_extreme_words(text: str, expected: list[str]) -> None:
    transcript = chat(ServiceRole.PRESALES, ("b", None, "在吗"), ("a", None, text))
    assert [word for _, word in hits_of(transcript, Category.EXTREME_WORDS)] == expected


@pytest.mark.parametrize(
    ("role", "counted"),
    [
        (ServiceRole.PRESALES, True),
        (ServiceRole.PAYMENT_CHASING, True),
        (ServiceRole.HOTLINE, True),
        (ServiceRole.REFUND, False),
        (ServiceRole.AFTERSALES_TRIAGE, False),
        (ServiceRole.ORDER_REVIEW, False),
    ],
)
def test_extreme_words_only_in_selling_roles(role: ServiceRole, counted: bool) -> None:
    transcript = chat(role, ("b", None, "在吗"), ("a", None, "您好，这是最好的处理方式"))
    assert bool(hits_of(transcript, Category.EXTREME_WORDS)) is counted


def test_the_buyers_words_never_count() -> None:
    transcript = chat(
        ServiceRole.PRESALES,
        ("b", 0, "你们是全网最低吗？我不知道，没办法，爱买不买"),
        ("a", 10, GOOD_OPENING + "，我们价格实惠"),
        ("b", 20, "好"),
        ("a", 30, GOOD_CLOSING),
    )
    result = check(transcript, default_script(ServiceRole.PRESALES))
    assert result.hits == ()
    assert result.score == 100


# -- required steps ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_reply", "greets"),
    [
        ("您好，有货的", True),
        ("親，有貨的", True),
        ("Hi亲~有货哦", True),
        ("在的，请说", True),
        ("亲亲，在的哦", True),
        ("现在的价格是99元", False),
        ("有货", False),
        ("this is fine", False),  # "hi" inside "this" is not a greeting
    ],
)
def test_greeting_in_the_first_reply(first_reply: str, greets: bool) -> None:
    transcript = chat(
        ServiceRole.PRESALES,
        ("b", None, "在吗"),
        ("a", None, first_reply),
        ("a", None, GOOD_CLOSING),
    )
    assert (hits_of(transcript, Category.GREETING_MISSING) == []) is greets


def test_missing_steps_point_at_where_they_belonged() -> None:
    transcript = chat(
        ServiceRole.REFUND,
        ("b", None, "退款"),
        ("a", None, "好"),
        ("b", None, "？"),
        ("a", None, "已经退了"),
    )
    result = check(transcript, default_script(ServiceRole.REFUND))
    assert sorted((h.category.value, h.message_index, h.span) for h in result.hits) == [
        ("closing_missing", 3, (0, 0)),
        ("greeting_missing", 1, (0, 0)),
        ("order_confirm_missing", 3, (0, 0)),
        ("rating_invite_missing", 3, (0, 0)),
    ]
    assert result.score == 100 - 5 - 5 - 5 - 3


@pytest.mark.parametrize(
    ("opening", "missing"),
    [
        ("您好，非常抱歉，打扰您了，我这边是小米旗舰店的客服，我看您拍了一个电视机的订单", False),
        ("您好，非常抱歉，打擾您了，我這邊是某某店的客服，我看您拍了一個訂單", False),
        ("您好，您拍的订单还没付款，需要帮忙吗", True),  # no apology, no self-introduction
        ("喂，我是客服，打扰了，你订单还没付", True),  # no 您好
    ],
)
def test_hotline_phone_chase_opening(opening: str, missing: bool) -> None:
    transcript = chat(
        ServiceRole.HOTLINE, ("a", None, opening), ("b", None, "哦"), ("a", None, "感谢您，再见")
    )
    assert bool(hits_of(transcript, Category.GREETING_MISSING)) is missing


def test_an_inbound_call_needs_no_chase_opening() -> None:
    transcript = chat(
        ServiceRole.HOTLINE,
        ("b", None, "喂，我想问下安装"),
        ("a", None, "您好，请问有什么可以帮您"),
        ("a", None, "明天上门，感谢来电"),
    )
    assert check(transcript, default_script(ServiceRole.HOTLINE)).hits == ()


def test_pushy_chasing() -> None:
    transcript = chat(
        ServiceRole.PAYMENT_CHASING,
        ("a", None, "您好，您的订单还没付款，赶紧付款吧"),
        ("b", None, "再想想"),
        ("a", None, "不用赶紧付款哦，方便时再付，感谢支持"),
    )
    assert hits_of(transcript, Category.FORBIDDEN_PHRASE) == [(0, "赶紧付款")]


# -- timing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("reply_at", "slow"), [(30, False), (31, True), (None, False)])
def test_slow_first_response(reply_at: float | None, slow: bool) -> None:
    transcript = chat(
        ServiceRole.PRESALES,
        ("b", 0, "在吗"),
        ("a", reply_at, GOOD_OPENING),
        ("a", 40, GOOD_CLOSING),
    )
    assert bool(hits_of(transcript, Category.SLOW_FIRST_RESPONSE)) is slow


def test_the_first_response_target_is_the_roles() -> None:
    # The hotline answers within 20 s (routing.sla.first_response_s).
    transcript = chat(
        ServiceRole.HOTLINE, ("b", 0, "喂"), ("a", 25, "您好，这里是客服"), ("a", 40, "感谢来电")
    )
    assert hits_of(transcript, Category.SLOW_FIRST_RESPONSE) == [(1, "")]


def test_an_outbound_first_message_is_not_a_slow_response() -> None:
    transcript = chat(
        ServiceRole.PAYMENT_CHASING,
        ("a", 0, "亲，您好，您拍下的订单还没付款哦"),
        ("b", 600, "好"),
        ("a", 610, "感谢支持"),
    )
    assert check(transcript, default_script(ServiceRole.PAYMENT_CHASING)).hits == ()


@pytest.mark.parametrize(
    ("reply_at", "reply", "hit"),
    [
        (200, "99元", False),  # exactly 3 minutes after the question
        (201, "99元", True),
        (400, "不好意思让您久等了，99元", False),
        (400, "抱歉，99元", False),
        (400, "感謝您的耐心，99元", True),  # thanks are not an apology
        (None, "99元", False),
    ],
)
def test_a_long_gap_needs_an_apology(reply_at: float | None, reply: str, hit: bool) -> None:
    transcript = chat(
        ServiceRole.PRESALES,
        ("b", 0, "在吗"),
        ("a", 10, GOOD_OPENING),
        ("b", 20, "价格多少"),
        ("a", reply_at, reply),
        ("a", 500, GOOD_CLOSING),
    )
    assert bool(hits_of(transcript, Category.LONG_GAP_NO_APOLOGY)) is hit


@pytest.mark.parametrize(
    ("promise", "next_at", "missed"),
    [
        ("我帮您查一下", 10 + 900, False),
        ("我帮您查一下", 10 + 901, True),
        ("我帮您查一下", None, False),  # no time on the answer: not judged
        ("请稍等", "never", True),
        ("稍等，已经帮您查到了，明天送达", "never", False),  # answered at once
        ("让您稍等了，红色有货", "never", False),  # an apology for a wait, not a promise
        ("我幫您查一下", 2000, True),  # Traditional
    ],
)
def test_followup_missed(promise: str, next_at: float | str | None, missed: bool) -> None:
    turns: list[tuple[str, float | None, str]] = [("b", 0, "到哪了"), ("a", 10, "您好，" + promise)]
    if not isinstance(next_at, str):
        turns.append(("a", next_at, "让您久等了，明天到，" + GOOD_CLOSING))
    found = hits_of(chat(ServiceRole.PRESALES, *turns), Category.FOLLOWUP_MISSED)
    assert bool(found) is missed
    if missed:
        index, said = found[0]
        assert index == 1
        assert said
        assert said in promise


# -- score, output, input ---------------------------------------------------------------------


def test_a_fatal_hit_zeroes_the_score() -> None:
    transcript = chat(
        ServiceRole.PRESALES,
        ("b", None, "贵"),
        ("a", None, "您好，爱买不买"),
        ("a", None, GOOD_CLOSING),
    )
    result = check(transcript, default_script(ServiceRole.PRESALES))
    assert [(h.category, h.severity, h.points) for h in result.hits] == [
        (Category.FORBIDDEN_PHRASE, Severity.FATAL, 100)
    ]
    assert result.score == 0


def test_the_score_is_floored_at_zero_and_names_its_script() -> None:
    text = "不知道，没办法，不归我管，自己看，你自己去"
    transcript = chat(ServiceRole.PRESALES, *[("a", None, text) for _ in range(3)])
    result = check(transcript, default_script(ServiceRole.PRESALES))
    assert sum(h.points for h in result.hits) > 100
    assert result.score == 0
    assert result.script_version == "presales.v1"


def test_no_agent_message_no_hits() -> None:
    transcript = chat(ServiceRole.PRESALES, ("b", 0, "在吗"))
    assert check(transcript, default_script(ServiceRole.PRESALES)).to_json() == {
        "score": 100,
        "script_version": "presales.v1",
        "hits": [],
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], "transcript"),
        ({"messages": []}, "role"),
        ({"role": "janitor", "messages": []}, "role"),
        ({"role": "presales"}, "messages"),
        ({"role": "presales", "messages": ["hi"]}, "messages[0]"),
        ({"role": "presales", "messages": [{"from": "bot", "text": "x"}]}, "messages[0].from"),
        ({"role": "presales", "messages": [{"from": "agent"}]}, "messages[0].text"),
        (
            {"role": "presales", "messages": [{"from": "agent", "text": "x", "at": "soon"}]},
            "messages[0].at",
        ),
        (
            {"role": "presales", "messages": [{"from": "agent", "text": "x", "at": 5}]},
            "messages[0].at",
        ),
    ],
)
def test_bad_transcripts_name_the_field(data: object, field: str) -> None:
    with pytest.raises(TranscriptError) as error:
        parse_transcript(data)
    assert error.value.field == field


def test_times_with_and_without_a_zone() -> None:
    transcript = parse_transcript(
        {
            "role": "presales",
            "messages": [
                {"from": "buyer", "at": "2026-12-07T10:00:00+08:00", "text": "在吗"},
                {"from": "agent", "at": "2026-12-07T02:00:45Z", "text": "您好"},
                {"from": "agent", "at": "2026-12-07 02:01:00", "text": "x"},
            ],
        }
    )
    assert [m.at for m in transcript.messages] == [
        T0,
        T0 + timedelta(seconds=45),
        T0 + timedelta(seconds=60),
    ]
    assert hits_of(transcript, Category.SLOW_FIRST_RESPONSE) == [(1, "")]


def test_the_contracts_categories_keep_their_names() -> None:
    assert [c.value for c in Category][:8] == [
        "greeting_missing",
        "closing_missing",
        "rating_invite_missing",
        "forbidden_phrase",
        "extreme_words",
        "slow_first_response",
        "long_gap_no_apology",
        "followup_missed",
    ]


@pytest.mark.parametrize("role", list(ServiceRole))
def test_every_role_has_a_script_whose_rules_are_sound(role: ServiceRole) -> None:
    script = default_script(role)
    data = script.to_json()
    assert data["version_key"] == f"{role.value}.v1"
    assert data["forbidden_phrases"] == dict(DEFAULTS)
    for rule in script.rules.values():
        assert rule.points > 0
        assert rule.why
        assert (rule.severity is Severity.FATAL) == (rule.points >= 100)
