"""Templates render to well-formed markup: no block pasted inside a tag's attributes."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "csdesk" / "web" / "templates"


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            self.inputs.append(dict(attrs))


@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize("error", [None, "用户名或密码错误"])
def test_login_inputs_carry_only_input_attributes(signed_in: bool, error: str | None) -> None:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, extensions=["jinja2.ext.i18n"]
    )
    env.install_null_translations()  # type: ignore[attr-defined]
    user = {"display_name": "小美", "username": "xiaomei"} if signed_in else None
    html = env.get_template("login.html").render(
        user=user,
        error=error,
        next_url="/console/",
        csrf_field="csrf_token",
        login_csrf_token="t",
        username="xiaomei" if error else "",
    )
    parser = _TagCollector()
    parser.feed(html)
    fields = {i.get("name"): i for i in parser.inputs}
    assert set(fields) >= {"username", "password", "csrf_token", "next"}
    for name in ("username", "password"):
        attributes = set(fields[name])
        assert attributes <= {
            "id",
            "name",
            "type",
            "value",
            "autocomplete",
            "autocapitalize",
            "spellcheck",
            "required",
            "maxlength",
            "autofocus",
            "aria-describedby",
            "aria-invalid",
        }, attributes
        assert ("aria-invalid" in attributes) == (error is not None)
    assert html.count("当前已登录") == (1 if signed_in else 0)
