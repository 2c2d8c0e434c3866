"""The pre-send forbidden-phrase check (服务态度提醒) and its per-shop configuration."""

from __future__ import annotations

import pytest

from csdesk.qc.forbidden_phrases import find_forbidden
from csdesk.roles.config import ConfigError, RoutingConfig

DEFAULTS = RoutingConfig().console.active_forbidden_phrases


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("亲，有货的，今天下单今天发", []),
        ("我也不知道", ["不知道"]),
        ("这个我也不知道，你自己看详情页吧", ["不知道", "自己看"]),
        ("你自己去找快递吧，没办法", ["你自己去", "没办法"]),
        ("爱买不买", ["爱买不买"]),
        ("這個沒辦法！", ["没办法"]),  # Traditional characters, full-width "!"
        ("不知道不知道", ["不知道"]),  # each phrase once
        ("不，知道了", []),  # punctuation breaks a phrase
        ("", []),
    ],
)
def test_default_phrases(text: str, expected: list[str]) -> None:
    assert [hit.phrase for hit in find_forbidden(text, DEFAULTS)] == expected


def test_every_default_phrase_says_why() -> None:
    assert set(DEFAULTS) >= {"不知道", "自己看", "爱买不买", "没办法", "你自己去"}
    assert all(reason.strip() for reason in DEFAULTS.values())


def test_shops_edit_the_list() -> None:
    console = RoutingConfig.from_overrides(
        {"console": {"forbidden_phrases": {"不知道": None, "随便": "敷衍买家", "ABC": "x"}}}
    ).console
    phrases = console.active_forbidden_phrases
    assert "不知道" not in phrases
    assert [h.to_json() for h in find_forbidden("随便吧", phrases)] == [
        {"phrase": "随便", "reason": "敷衍买家"}
    ]
    assert [h.phrase for h in find_forbidden("abc", phrases)] == ["ABC"]  # case folded
    assert find_forbidden("我不知道", phrases) == []
    assert find_forbidden("不知道", {}) == []


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"forbidden_phrases": {"滚": ""}}, "console.forbidden_phrases.滚"),
        ({"forbidden_phrases": {"滚": 3}}, "console.forbidden_phrases.滚"),
        ({"forbidden_phrases": ["滚"]}, "console.forbidden_phrases"),
        ({"transfer_notices": {"warehouse": "x"}}, "console.transfer_notices.warehouse"),
        ({"transfer_notices": {"refund": "x" * 201}}, "console.transfer_notices.refund"),
    ],
)
def test_bad_overrides_name_the_key(overrides: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as error:
        RoutingConfig.from_overrides({"console": overrides})
    assert error.value.key == key
