"""How buyer contact data shows by default: masked (seeds/001 §2.3). Revealing the clear
value is a write (it leaves an audit trace): ``csdesk.actions.pii``."""

from __future__ import annotations

from typing import Final

MASK: Final = "****"


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


__all__ = ["MASK", "mask_address", "mask_name", "mask_phone"]
