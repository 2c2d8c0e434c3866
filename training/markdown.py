"""Course pages: Markdown rendered to HTML that is safe to put in a console page.

Two layers, each from a well-kept library: markdown-it-py (CommonMark, raw HTML *off*, so
``<script>`` in a page is shown as text) renders, then nh3 (the Ammonia sanitizer) keeps
only an allow-list of tags, attributes and URL schemes. Images may only be the course's own
(``![流程图](asset:logistics.svg)``, served from the course's asset route): any other image
source becomes its alt text, so a page never loads from elsewhere (the console's CSP would
block it anyway). Links get ``rel="noopener noreferrer"``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Final

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ASSET_SCHEME: Final = "asset:"
TAGS: Final = frozenset(
    {
        "p",
        "br",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "strong",
        "em",
        "s",
        "del",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "img",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)
ATTRIBUTES: Final = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
}
URL_SCHEMES: Final = frozenset({"http", "https", "mailto"})

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_md.enable(["table", "strikethrough"])


def asset_names(markdown: str) -> set[str]:
    """The course assets a page refers to (``asset:NAME`` images)."""
    names: set[str] = set()
    for token in _walk(_md.parse(markdown)):
        if token.type == "image":
            src = str(token.attrGet("src") or "")
            if src.startswith(ASSET_SCHEME):
                names.add(src.removeprefix(ASSET_SCHEME))
    return names


def _walk(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    for token in tokens:
        out.append(token)
        if token.children:
            out.extend(_walk(token.children))
    return out


def render(
    markdown: str,
    asset_url: Callable[[str], str] | None = None,
    assets: Collection[str] = (),
) -> str:
    """Sanitized HTML of one page. ``asset_url(name)`` is where an asset is served; an image
    of an asset not in ``assets`` (or of anything else) becomes its alt text."""
    tokens = _md.parse(markdown)
    for token in _walk(tokens):
        if token.type != "image":
            continue
        src = str(token.attrGet("src") or "")
        name = src.removeprefix(ASSET_SCHEME)
        if src.startswith(ASSET_SCHEME) and asset_url is not None and name in assets:
            token.attrSet("src", asset_url(name))
        else:
            alt = "".join(child.content for child in token.children or [])
            token.type = "text"
            token.tag = ""
            token.attrs = {}
            token.content = alt
            token.children = None
    html = _md.renderer.render(tokens, _md.options, {})
    return nh3.clean(
        html,
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
    )
