"""自动挂起: an agent at N open chats goes busy (挂起: no new assignments, current chats go
on) and comes back online by itself below N. N is the agent's setting, else the shop's
(``assignment.auto_suspend_at``); off by default.

Writers take the caller's session and outbox (the caller owns the transaction). The check
runs wherever an agent's chat load changes: after an assignment (``routing.assign``), when
an item leaves an agent (``work_items.free_capacity``), when the agent changes status or the
setting, and in a sweep for chats closed elsewhere (a paid order closing a chase).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from csdesk.actions.outbox import Outbox
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent
from csdesk.routing.assignment import auto_suspend_change, auto_suspend_limit
from csdesk.routing.facts import ShopContext
from csdesk.storage.enums import AgentStatus, Channel, ConversationStatus
from csdesk.storage.models import AgentProfile, Conversation


async def open_chats(session: AsyncSession, shop_id: str, agent_id: int) -> int:
    """Chat-channel items assigned to the agent now (what 自动挂起 counts)."""
    count = await session.scalar(
        select(func.count()).where(
            Conversation.shop_id == shop_id,
            Conversation.assigned_agent_id == agent_id,
            Conversation.status == ConversationStatus.ASSIGNED,
            Conversation.channel == Channel.CHAT,
        )
    )
    return int(count or 0)


async def refit(
    session: AsyncSession, ctx: ShopContext, agent_id: int, now: datetime, outbox: Outbox
) -> AgentStatus | None:
    """Suspend or resume the agent for its open-chat count; the new status, or None."""
    profile = await session.get(AgentProfile, agent_id)
    if profile is None or profile.shop_id != ctx.shop_id:
        return None
    limit = auto_suspend_limit(profile.auto_suspend_at, ctx.assignment.auto_suspend_at)
    automatic = profile.status is AgentStatus.BUSY and profile.auto_suspended
    if not automatic and (profile.status is not AgentStatus.ONLINE or limit is None):
        return None  # nothing to decide: no count needed (the common case)
    load = await open_chats(session, ctx.shop_id, agent_id)
    change = auto_suspend_change(profile.status, profile.auto_suspended, load, limit)
    if change is None:
        return None
    profile.status, profile.auto_suspended = change
    profile.status_changed_at = now
    if profile.status is AgentStatus.BUSY:
        reason = f"自动挂起：同时接待 {load} 个会话 / auto-suspended at {limit} chats"
    else:
        reason = "接待数已低于自动挂起数，恢复在线 / back online below the auto-suspend limit"
    outbox.publish(
        BusEvent(
            ev.AGENT_STATUS,
            ctx.shop_id,
            (ev.to_user(agent_id), ev.SUPERVISORS),
            {
                "agent_id": agent_id,
                "status": profile.status.value,
                "auto_suspended": profile.auto_suspended,
                "auto_suspend_at": limit,
                "open_chats": load,
                "reason": reason,
            },
        )
    )
    return profile.status


__all__ = ["open_chats", "refit"]
