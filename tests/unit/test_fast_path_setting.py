"""``CSDESK_SQLITE_FAST_PATH`` switches the ingest fast path; on unless said otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from csdesk.settings import load_settings


@pytest.mark.parametrize(
    ("value", "on"),
    [(None, True), ("1", True), ("on", True), ("0", False), ("off", False), (" False ", False)],
)
def test_fast_path_from_env(
    value: str | None, on: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CSDESK_SECRET_KEY", "k")
    monkeypatch.setenv("CSDESK_WEBHOOK_SECRET", "w")
    if value is None:
        monkeypatch.delenv("CSDESK_SQLITE_FAST_PATH", raising=False)
    else:
        monkeypatch.setenv("CSDESK_SQLITE_FAST_PATH", value)
    assert load_settings(tmp_path).database.fast_path is on
