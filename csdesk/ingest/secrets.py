"""Which secrets sign a shop's events: a small cache in front of the shop row.

Checked on every ``POST /api/v1/events``, so it must not cost a query each: entries live
``ttl_s`` (a rotation or a new shop made by the CLI in another process is seen within it)
and a signature that fails against a cached entry older than ``recheck_s`` is checked once
more against a fresh read (a secret just rotated works at once). Unknown shop ids are
cached too (bounded), so unsigned noise for made-up shops cannot become a query each.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from csdesk.reads.shop_secrets import InboundSecrets, inbound_secrets
from csdesk.storage.engine import SessionFactory


@dataclass
class _Entry:
    secrets: InboundSecrets
    loaded_at: float


class SecretCache:
    def __init__(
        self,
        sessions: SessionFactory,
        *,
        ttl_s: float = 10.0,
        recheck_s: float = 1.0,
        max_entries: int = 10_000,
    ) -> None:
        self._sessions = sessions
        self._ttl_s = ttl_s
        self._recheck_s = recheck_s
        self._max_entries = max_entries
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    async def get(self, shop_id: str) -> InboundSecrets:
        entry = self._entries.get(shop_id)
        if entry is not None and time.monotonic() - entry.loaded_at < self._ttl_s:
            return entry.secrets
        return await self._load(shop_id)

    async def fresher(self, shop_id: str) -> InboundSecrets | None:
        """A new read after a failed check, unless the cached one is itself brand new."""
        entry = self._entries.get(shop_id)
        if entry is not None and time.monotonic() - entry.loaded_at < self._recheck_s:
            return None
        return await self._load(shop_id)

    def forget(self, shop_id: str) -> None:
        """Read the shop again on its next event (tools and tests; the TTL does it anyway)."""
        self._entries.pop(shop_id, None)

    async def _load(self, shop_id: str) -> InboundSecrets:
        secrets = await inbound_secrets(self._sessions, shop_id)
        self._entries[shop_id] = _Entry(secrets, time.monotonic())
        self._entries.move_to_end(shop_id)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return secrets
