"""Values of the ``kind`` and ``status`` columns that several layers name: which items are
chases, which face a buyer, the buyer claim of a chase, the statuses of an open item."""

from __future__ import annotations

from typing import Final

from csdesk.storage.enums import ConversationStatus

CHASE_KINDS: Final = ("payment_chase", "phone_chase")
"""催付 items: a chat chase and a phone chase (hotline, big orders)."""
BUYER_FACING_KINDS: Final = ("chat", "call")
"""Items where a buyer waits for a person (the 3-minute response window applies)."""
CHASE_CLAIM: Final = "chase"
"""``BuyerClaim.kind`` of the one chaser per buyer (no 抢单)."""
OPEN: Final = (ConversationStatus.SCHEDULED, ConversationStatus.QUEUED, ConversationStatus.ASSIGNED)
"""An item not closed: waiting for its time, queued, or with an agent."""
