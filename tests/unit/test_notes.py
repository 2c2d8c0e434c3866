"""@mentions in private notes: which usernames a note names."""

from __future__ import annotations

import pytest

from csdesk.actions.notes import mentioned

USERS = ("lead", "lead.wang", "xiaomei", "店铺名:小美", "li")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@lead 请看一下", ["lead"]),
        ("@xiaomei请看下退款", ["xiaomei"]),  # Chinese right after a Latin name
        ("@Lead 和 @XIAOMEI", ["lead", "xiaomei"]),  # case does not matter
        ("@lead.wang 看看", ["lead.wang"]),  # the longest name wins
        ("@lead2 不是 lead", []),  # a Latin name must end where it ends
        ("@lead, @lead。", ["lead"]),  # once each
        ("@店铺名:小美 帮忙", ["店铺名:小美"]),
        ("@nobody 和 mail@li", []),  # unknown names are text; mail@li is an address
        ("请@li看一下", ["li"]),
        ("没有提到任何人", []),
        ("@", []),
    ],
)
def test_mentioned(text: str, expected: list[str]) -> None:
    assert mentioned(text, USERS) == expected
