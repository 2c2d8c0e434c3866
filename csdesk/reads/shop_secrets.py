"""The secrets a shop's signatures are made and checked with (never shown to anyone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from csdesk.storage.engine import SessionFactory
from csdesk.storage.models import Shop


@dataclass(frozen=True)
class InboundSecrets:
    shop_id: str
    exists: bool
    own: str | None
    """The shop's own secret; None: ``CSDESK_WEBHOOK_SECRET`` applies."""
    previous: str | None
    previous_until: datetime | None

    def valid(self, default: str, now: datetime) -> tuple[str, ...]:
        """The secrets a signature may be made with now (two during a rotation)."""
        if self.own is None:
            return (default,)
        if self.previous is not None and self.previous_until and now < self.previous_until:
            return (self.own, self.previous)
        return (self.own,)


async def inbound_secrets(sessions: SessionFactory, shop_id: str) -> InboundSecrets:
    async with sessions() as session:
        row = (
            await session.execute(
                select(
                    Shop.webhook_secret, Shop.webhook_secret_previous, Shop.webhook_previous_until
                ).where(Shop.id == shop_id)
            )
        ).first()
    if row is None:
        return InboundSecrets(shop_id, False, None, None, None)
    return InboundSecrets(shop_id, True, row[0], row[1], row[2])
