"""JSON from a request body, refused at the door for anything a later step would choke on.

One loader for the platform webhook and every JSON endpoint. A body is refused (a
:class:`~csdesk.errors.BadInputError` naming the field, ``body`` when no field can be named)
when it is not UTF-8, not JSON (``NaN`` and ``Infinity`` included), nested deeper than
:data:`MAX_DEPTH`, has an integer literal longer than :data:`MAX_INT_DIGITS` (Python's
``int`` refuses 4,300 digits with a ValueError; nothing here needs more than a fen amount),
or holds a NUL character or a lone surrogate in any string or key: PostgreSQL refuses NUL in
text and JSON, and no database driver can encode a lone surrogate, so such a value would be
accepted and then fail.

Cheap on the hot path: the depth is only measured when the body has more brackets than
the limit, and the strings are only walked when the body has a ``\\u`` escape that can
produce NUL or a surrogate (raw UTF-8 cannot carry either; raw control characters are
already invalid JSON).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any, Final

from csdesk.errors import BadInputError

MAX_DEPTH: Final = 32
"""Objects and arrays inside each other; an event needs three."""
MAX_INT_DIGITS: Final = 30
"""Characters of an integer literal (sign included)."""

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]")
_RISKY_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_FORBIDDEN_CHAR = re.compile("[\x00\ud800-\udfff]")
_OPENING: Final = frozenset(b"[{")


class HugeInteger:
    """An integer literal longer than :data:`MAX_INT_DIGITS`: kept as a value of its own
    so the reader of the field it stands in names that field (``data.amount``)."""

    __slots__ = ("literal",)

    def __init__(self, literal: str) -> None:
        self.literal = literal

    def __repr__(self) -> str:
        return f"HugeInteger({len(self.literal)} characters)"


def _parse_int(literal: str) -> int | HugeInteger:
    return int(literal) if len(literal) <= MAX_INT_DIGITS else HugeInteger(literal)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER: Final = json.JSONDecoder(parse_int=_parse_int, parse_constant=_refuse_constant)
"""Built once: ``json.loads`` with hooks would build a decoder per call."""


def nesting_depth(raw: bytes) -> int:
    """How deep arrays and objects nest in ``raw`` (brackets inside strings do not count),
    measured without recursion; for invalid JSON a best effort."""
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", raw))
    if not brackets:
        return 0
    return max(accumulate(1 if byte in _OPENING else -1 for byte in brackets))


def _forbidden_in(value: str) -> str | None:
    found = _FORBIDDEN_CHAR.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain NUL characters"
    return "must not contain lone surrogates (invalid Unicode)"


def check_strings(value: Any, path: str = "") -> None:
    """Raise naming the first string (or key) holding NUL or a lone surrogate; iterative, so
    any depth the parser accepted is walked without recursion."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        at, item = stack.pop()
        if isinstance(item, str):
            problem = _forbidden_in(item)
            if problem:
                raise BadInputError(at or "body", problem)
        elif isinstance(item, dict):
            for key, child in item.items():
                child_at = f"{at}.{key}" if at else key
                problem = _forbidden_in(key)
                if problem:
                    raise BadInputError(at or "body", f"keys {problem}")
                stack.append((child_at, child))
        elif isinstance(item, list):
            stack.extend((f"{at}[{index}]", child) for index, child in enumerate(item))


def loads(raw: bytes) -> Any:
    """The JSON value of ``raw``, or :class:`BadInputError` (field ``body`` or the path of
    the offending string, e.g. ``data.text``)."""
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and nesting_depth(raw) > MAX_DEPTH:
        raise BadInputError("body", f"is nested deeper than {MAX_DEPTH} levels")
    try:
        value = _DECODER.decode(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadInputError("body", "is not UTF-8") from None
    except RecursionError:  # unreachable after the depth check; kept as a last guard
        raise BadInputError("body", f"is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError included
        raise BadInputError("body", f"is not valid JSON ({exc})") from None
    if _RISKY_ESCAPE.search(raw):
        check_strings(value)
    return value


def loads_object(raw: bytes) -> dict[str, Any]:
    """As :func:`loads`, and the value must be a JSON object."""
    value = loads(raw)
    if not isinstance(value, dict):
        raise BadInputError("body", "must be a JSON object")
    return value
