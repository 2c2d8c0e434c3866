"""docs/realtime.md documents every live event type the bus knows (console UX item 14)."""

from __future__ import annotations

import re
from pathlib import Path

from csdesk.bus import events as ev

DOC = Path(__file__).resolve().parents[2] / "docs" / "realtime.md"


def test_every_event_type_is_documented() -> None:
    documented = set(re.findall(r"^### `([a-z_.]+)`$", DOC.read_text(encoding="utf-8"), re.M))
    assert set(ev.ALL) <= documented, f"undocumented: {sorted(set(ev.ALL) - documented)}"
    assert documented <= set(ev.ALL), f"documented but unknown: {sorted(documented - set(ev.ALL))}"
