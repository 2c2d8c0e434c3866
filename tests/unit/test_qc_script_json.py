"""A QC lead's edit of a script: the keys changed, everything else kept, bad keys named."""

from __future__ import annotations

import pytest

from csdesk.qc.scripts import ScriptError, Severity, default_script, script_from_json
from csdesk.storage.enums import ServiceRole

BASE = default_script(ServiceRole.PRESALES)


def test_changes_apply_and_the_rest_is_kept() -> None:
    changed = script_from_json(
        {
            "forbidden_phrases": {"亲你烦不烦": "不耐烦"},
            "require_rating_invite": False,
            "long_gap_s": 240,
            "rules": {"greeting": {"points": 8, "severity": "major"}},
        },
        base=BASE,
    )
    assert dict(changed.forbidden_phrases) == {"亲你烦不烦": "不耐烦"}
    assert changed.require_rating_invite is False
    assert changed.long_gap_s == 240
    assert changed.rules["greeting"].points == 8
    assert changed.rules["greeting"].severity is Severity.MAJOR
    assert changed.rules["greeting"].category is BASE.rules["greeting"].category
    assert changed.check_extreme_words is BASE.check_extreme_words
    assert changed.version == BASE.version  # the caller sets the new one
    assert script_from_json(BASE.to_json(), base=BASE) == BASE


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], "script"),
        ({"forbidden_phrases": ["不知道"]}, "forbidden_phrases"),
        ({"forbidden_phrases": {"不知道": ""}}, "forbidden_phrases.不知道"),
        ({"forbidden_phrases": {" ": "x"}}, "forbidden_phrases"),
        ({"require_greeting": "yes"}, "require_greeting"),
        ({"first_response_s": 0}, "first_response_s"),
        ({"followup_s": True}, "followup_s"),
        ({"abusive_phrases": "爱买不买"}, "abusive_phrases"),
        ({"rules": {"nope": {}}}, "rules.nope"),
        ({"rules": {"greeting": {"severity": "awful"}}}, "rules.greeting.severity"),
        ({"rules": {"greeting": {"points": 101}}}, "rules.greeting.points"),
        ({"rules": {"greeting": {"why": 3}}}, "rules.greeting.why"),
    ],
)
def test_bad_keys_are_named(data: object, field: str) -> None:
    with pytest.raises(ScriptError) as caught:
        script_from_json(data, base=BASE)
    assert caught.value.field == field
