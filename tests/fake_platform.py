"""A local stand-in for the marketplace's side of the channel (or an integrator's webhook
endpoint): an aiohttp server on 127.0.0.1 that checks what a real receiver would.

It verifies ``X-Csdesk-Signature: t=<unix seconds>,sha256=<hex HMAC of "<t>." + body>``
with the secret it was given and refuses a time outside its replay window (401), records
every delivery it accepted, drops repeats by ``delivery_id`` (answering 200, as a receiver
that already has it), and can be switched to answer 503 (``down``) or to hold a request
without answering (``hang``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Seen:
    delivery_id: str
    body: dict[str, Any]
    raw: bytes
    signature: str


@dataclass
class FakePlatform:
    secret: str = ""
    window_s: float = 300.0
    mode: str = "ok"
    """``ok`` (200), ``down`` (503), ``hang`` (never answers)."""
    accepted: dict[str, Seen] = field(default_factory=dict)
    """Deliveries accepted, once each, in arrival order."""
    repeats: list[str] = field(default_factory=list)
    """delivery_ids that came again after they were accepted (dropped, answered 200)."""
    refused: list[str] = field(default_factory=list)
    """Why requests were refused (bad signature, stale time)."""
    answered_503: int = 0
    hanging: int = 0
    url: str = ""
    _runner: web.AppRunner | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    """Set at stop: held requests end (with a 503) instead of keeping the server up."""

    async def start(self, path: str = "/platform/messages") -> str:
        app = web.Application()
        app.router.add_post(path, self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}{path}"
        return self.url

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def _check(self, raw: bytes, header: str) -> str | None:
        parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
        if "t" not in parts or "sha256" not in parts or not parts["t"].isdigit():
            return f"malformed signature {header!r}"
        expected = hmac.new(
            self.secret.encode(), parts["t"].encode() + b"." + raw, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, parts["sha256"]):
            return "wrong signature"
        if abs(time.time() - int(parts["t"])) > self.window_s:
            return "signed time outside the window"
        return None

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        header = request.headers.get("X-Csdesk-Signature", "")
        problem = self._check(raw, header)
        if problem is not None:
            self.refused.append(problem)
            return web.json_response({"error": problem}, status=401)
        if self.mode == "down":
            self.answered_503 += 1
            return web.json_response({"error": "maintenance"}, status=503)
        if self.mode == "hang":
            self.hanging += 1
            await self._release.wait()
            return web.json_response({"error": "gone"}, status=503)
        body = json.loads(raw)
        delivery_id = body["delivery_id"]
        if delivery_id in self.accepted:
            self.repeats.append(delivery_id)
        else:
            self.accepted[delivery_id] = Seen(delivery_id, body, raw, header)
        self._arrived.set()
        return web.json_response({"ok": True})

    def bodies(self, event_type: str | None = None) -> list[dict[str, Any]]:
        return [
            seen.body
            for seen in self.accepted.values()
            if event_type is None or seen.body.get("type") == event_type
        ]

    async def wait_for(self, count: int, *, timeout_s: float = 15.0) -> None:
        """Until ``count`` deliveries have been accepted (a broken build fails, not hangs)."""
        deadline = time.monotonic() + timeout_s
        while len(self.accepted) < count:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{len(self.accepted)} of {count} deliveries arrived"
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), min(remaining, 0.2))
