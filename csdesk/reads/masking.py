"""How buyer contact data shows by default: masked (seeds/001 §2.3). Revealing the clear
value is a write (it leaves an audit trace): ``csdesk.actions.pii``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

MASK: Final = "****"
ERASED_PHONE: Final = "[已删除的电话]"
ERASED_ADDRESS: Final = "[已删除的地址]"
ERASED_NAME: Final = "[已删除的姓名]"


def mask_phone(value: str | None) -> str | None:
    """``13800001234`` → ``138****1234``; short numbers keep only their last two digits."""
    if not value:
        return None
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) >= 7:
        return f"{digits[:3]}{MASK}{digits[-4:]}"
    return f"{MASK}{digits[-2:]}" if len(digits) > 2 else MASK


def mask_address(value: str | None) -> str | None:
    """Province and city stay readable (enough to talk about delivery), the rest is hidden."""
    if not value:
        return None
    keep = 6 if len(value) > 8 else min(2, len(value) - 1)
    return f"{value[: max(keep, 0)]}{MASK}"


def mask_name(value: str | None) -> str | None:
    """``王小明`` → ``王**``."""
    if not value:
        return None
    return value[0] + "*" * max(len(value) - 1, 1)


_PHONE = re.compile(
    r"(?<![0-9])(?:"
    r"(?:\+?86[- ]?)?1[3-9][0-9][- ]?[0-9]{4}[- ]?[0-9]{4}"  # mobile: 138 0000 1234
    r"|0[1-9][0-9]{1,2}[- ]?[0-9]{7,8}"  # landline with area code: 0571-88886666
    r"|400[- ]?[0-9]{3}[- ]?[0-9]{4}"  # 400 service numbers
    r")(?![0-9])"
)
_HAN = "\u4e00-\u9fff"
_ADDRESS = re.compile(
    rf"(?:[{_HAN}]{{2,8}}(?:省|自治区|特别行政区))?"
    rf"[{_HAN}]{{1,10}}(?:市|自治州|地区|盟|区|县|旗)"
    rf"[{_HAN}A-Za-z0-9#＃\-－]{{0,30}}?"
    r"(?:路|街|大道|巷|弄|胡同|村|组|号|栋|幢|单元|室|楼|小区|花园|公寓|大厦)"
    rf"(?:[{_HAN}A-Za-z0-9#＃\-－]{{0,20}}(?:号|栋|幢|单元|室|楼|层))*"
)


def scrub_text(text: str, *, known: Iterable[str] = (), names: Iterable[str] = ()) -> str:
    """``text`` with a buyer's personal data replaced (PIPL erasure): the ``known`` values
    (their stored phones and addresses) and ``names`` wherever they appear, then anything
    shaped like a phone number or a street address. Order numbers and amounts stay:
    a transcript kept for QC and reports must still read as the conversation it was."""
    for value in sorted({v.strip() for v in known if v and len(v.strip()) >= 4}, key=len)[::-1]:
        text = text.replace(value, ERASED_ADDRESS if not _PHONE.fullmatch(value) else ERASED_PHONE)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len)[::-1]:
        text = text.replace(name, ERASED_NAME)
    text = _PHONE.sub(ERASED_PHONE, text)
    return _ADDRESS.sub(ERASED_ADDRESS, text)


__all__ = [
    "ERASED_ADDRESS",
    "ERASED_NAME",
    "ERASED_PHONE",
    "MASK",
    "mask_address",
    "mask_name",
    "mask_phone",
    "scrub_text",
]
