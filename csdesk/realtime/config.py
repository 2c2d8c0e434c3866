"""Tunables of live delivery, with defaults that suit a shop's console floor."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class LiveConfig:
    idle_timeout_s: float = 10 * 60
    """A queue without a socket is kept this long (Zulip keeps ~10 min): laptop lid, Wi-Fi."""
    max_queue_events: int = 1000
    """Events a queue retains; a console further behind gets a ``reset`` and reloads."""
    max_pending_frames: int = 1000
    """Frames waiting for one slow socket before it is closed (it then resumes from the
    queue): a stuck client never makes the hub wait or grow without bound."""
    heartbeat_s: float = 20.0
    """WebSocket ping interval; a console that misses the pong is disconnected."""
    max_message_bytes: int = 64 * 1024
    """Largest client frame (hello and ack are tiny)."""
    handoff_timeout_s: float = 5.0
    """How long a resume on another process waits for the owner to hand the queue over."""
    sweep_interval_s: float = 5.0
    """Liveness heartbeat, idle expiry and TTL refresh run this often."""
    liveness_ttl_s: float = 20.0
    """Without a heartbeat for this long a process counts as dead (its queues: ``reset``)."""
    roles_refresh_s: float = 60.0
    """Service roles are re-read this often besides on ``agent.status`` (profile edits)."""


LIVE_CONFIG_KEY: web.AppKey[LiveConfig] = web.AppKey("live_config", LiveConfig)
"""Optional: set before startup to override the defaults (tests shorten the bounds)."""
