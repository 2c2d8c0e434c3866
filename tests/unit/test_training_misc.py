"""Reminders, the script-change update course, safe Markdown and the shop's training
settings (csdesk.training), pure, by tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csdesk.qc.scripts import default_script
from csdesk.storage.enums import ServiceRole
from csdesk.training.courses import CourseError, parse_content
from csdesk.training.markdown import asset_names, render
from csdesk.training.reminders import Notice, notices_due
from csdesk.training.script_diff import ChangeKind, diff_scripts, update_course
from csdesk.training.settings import parse_training_settings

DUE = datetime(2026, 12, 10, 18, 0, tzinfo=UTC)
LEAD = timedelta(hours=24)


@pytest.mark.parametrize(
    ("hours_before_due", "open_", "sent", "owed"),
    [
        (48, True, set(), []),
        (23, True, set(), [Notice.DUE_SOON]),
        (23, True, {"due_soon"}, []),
        (0, True, {"due_soon"}, [Notice.OVERDUE]),
        (-5, True, set(), [Notice.OVERDUE]),  # first seen late: only overdue
        (-5, True, {"due_soon", "overdue"}, []),
        (-5, False, set(), []),  # passed: nothing
        (23, False, set(), []),
    ],
)
def test_reminders_once_each(
    hours_before_due: float, open_: bool, sent: set[str], owed: list[Notice]
) -> None:
    now = DUE - timedelta(hours=hours_before_due)
    assert notices_due(DUE, now, open_=open_, sent=sent, lead=LEAD) == owed


def test_script_diff_and_update_course() -> None:
    before: dict[str, Any] = default_script(ServiceRole.PRESALES).to_json()
    after: dict[str, Any] = {
        **before,
        "version": 2,
        "forbidden_phrases": {**before["forbidden_phrases"], "亲亲不好意思哦": "过度卖萌"},
        "first_response_s": 20,
    }
    del after["forbidden_phrases"]["自己看"]
    changes = diff_scripts(before, after)
    assert [(c.area, c.key, c.kind) for c in changes] == [
        ("forbidden_phrases", "亲亲不好意思哦", ChangeKind.ADDED),
        ("forbidden_phrases", "自己看", ChangeKind.REMOVED),
        ("first_response_s", "first_response_s", ChangeKind.CHANGED),
    ]
    content = update_course("presales", before, after)
    body = content.pages[0].body
    assert "亲亲不好意思哦" in body
    assert "自己看" in body
    assert "30 秒 → **20 秒**" in body
    assert content.questions[0].options[0] == "亲亲不好意思哦"
    assert parse_content(content.to_json()) == content  # a valid, editable course


def test_no_change_still_makes_a_course() -> None:
    script = default_script(ServiceRole.REFUND).to_json()
    assert diff_scripts(script, script) == []
    content = update_course("refund", script, {**script, "version": 2})
    assert "没有影响" in content.pages[0].body
    assert len(content.questions) == 1


@pytest.mark.parametrize(
    ("markdown", "present", "absent"),
    [
        ("<script>alert(1)</script>", ["&lt;script&gt;"], ["<script"]),
        ("[a](javascript:alert(1))", [], ['href="javascript']),
        (
            "[官网](https://example.com)",
            ['rel="noopener noreferrer"', 'href="https://example.com"'],
            [],
        ),
        ("![图](asset:flow.svg)", ['src="/a/flow.svg"', 'alt="图"'], []),
        ("![图](asset:other.png)", ["图"], ["<img"]),  # not one of the course's assets
        ("![追踪](http://tracker.example/x.png)", ["追踪"], ["<img"]),
        ("**粗体** | a |\n|---|\n| 1 |", ["<strong>粗体</strong>"], []),
        ('<img src=x onerror="alert(1)">', ["&lt;img"], ["<img"]),
    ],
)
def test_markdown_is_rendered_safely(markdown: str, present: list[str], absent: list[str]) -> None:
    html = render(markdown, lambda name: f"/a/{name}", {"flow.svg"})
    for piece in present:
        assert piece in html
    for piece in absent:
        assert piece not in html


def test_asset_names() -> None:
    assert asset_names("![a](asset:x.png) ![b](https://e/y.png) ![c](asset:z.svg)") == {
        "x.png",
        "z.svg",
    }


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ([], "training"),
        ({"boost_days": 91}, "training.boost_days"),
        ({"boost_factor": 0.5}, "training.boost_factor"),
        ({"boost_factor": True}, "training.boost_factor"),
        ({"remind_before_hours": 0}, "training.remind_before_hours"),
        ({"colour": "red"}, "training.colour"),
        ({"points": {"finding": {"minor": "x"}}}, "training.points.finding.minor"),
    ],
)
def test_bad_settings_name_the_key(section: object, field: str) -> None:
    with pytest.raises(CourseError) as caught:
        parse_training_settings({"training": section})
    assert caught.value.field == field


def test_settings_defaults_and_round_trip() -> None:
    settings = parse_training_settings({})
    assert (settings.boost_days, settings.boost_factor, settings.remind_before_hours) == (
        14,
        2.0,
        24,
    )
    again = parse_training_settings({"training": settings.to_json()})
    assert again == settings
