"""The sending half of one console's websocket.

Everything the server sends goes through one task per socket, fed by a queue: the hub only
enqueues (never awaits a client), frames never interleave, and a client too slow to keep up
is closed and resumes from its event queue instead of holding anything up. Only the handler
reads the socket (aiohttp-demos ``chat``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass

from aiohttp import WSCloseCode, web

from csdesk.realtime.protocol import QueuedEvent, event_frame
from csdesk.realtime.store import QueueStore

log = logging.getLogger(__name__)

CLOSE_TAKEN_OVER = 4000
"""Application close code: a newer connection resumed this queue (another tab or process)."""


@dataclass(frozen=True)
class _Start:
    """Bind the socket to a queue: send ``preamble`` (reset, welcome), then replay."""

    store: QueueStore
    queue_id: str
    after: int
    preamble: tuple[str, ...]
    replay_limit: int


class LiveConnection:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        *,
        max_pending: int,
        user_id: int | None = None,
        shop_id: str | None = None,
    ) -> None:
        self.ws = ws
        self.user_id = user_id
        self.shop_id = shop_id
        self.tab = secrets.token_urlsafe(8)
        """This socket's name in presence frames (one person may have several tabs)."""
        self.bound = False
        """A queue is attached (the welcome is on its way): other frames may follow."""
        self._max_pending = max_pending
        self._outbox: asyncio.Queue[str | QueuedEvent | _Start] = asyncio.Queue()
        self._last_sent = -1
        self._closing = False
        self._closer: asyncio.Task[bool] | None = None
        self._sender = asyncio.create_task(self._send_loop())

    @property
    def last_sent(self) -> int:
        """Id of the newest event written to the socket (-1: none yet)."""
        return self._last_sent

    @property
    def closing(self) -> bool:
        return self._closing

    def start(
        self,
        store: QueueStore,
        queue_id: str,
        *,
        after: int,
        preamble: tuple[str, ...],
        replay_limit: int,
    ) -> None:
        """Called in the same step as the queue starts pushing here, so no live event can
        overtake the welcome; live events the replay already covered are skipped by id."""
        self._outbox.put_nowait(_Start(store, queue_id, after, preamble, replay_limit))
        self.bound = True

    def send(self, frame: str) -> None:
        if not self._closing:
            self._outbox.put_nowait(frame)

    def push(self, event: QueuedEvent) -> None:
        """A live event (from the hub): never waits."""
        if self._closing:
            return
        if self._outbox.qsize() >= self._max_pending:
            self.close(WSCloseCode.TRY_AGAIN_LATER, "too far behind: reconnect to resume")
            return
        self._outbox.put_nowait(event)

    def close(self, code: int, reason: str) -> None:
        """Close without waiting (the handler's read loop then ends and cleans up)."""
        if self._closing:
            return
        self._closing = True
        self._sender.cancel()
        self._closer = asyncio.create_task(self.ws.close(code=code, message=reason.encode()))

    async def wait_closed(self) -> None:
        if self._closer is not None:
            await asyncio.gather(self._closer, return_exceptions=True)

    async def aclose(self) -> None:
        """The socket is done (the handler returns): stop sending."""
        self._closing = True
        self._sender.cancel()
        tasks = [self._sender] if self._closer is None else [self._sender, self._closer]
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _send_loop(self) -> None:
        try:
            while True:
                item = await self._outbox.get()
                if isinstance(item, _Start):
                    for frame in item.preamble:
                        await self.ws.send_str(frame)
                    self._last_sent = item.after
                    replay = await item.store.read(item.queue_id, item.after, item.replay_limit)
                    for event in replay:
                        await self._send_event(event)
                elif isinstance(item, QueuedEvent):
                    await self._send_event(item)
                else:
                    await self.ws.send_str(item)
        except ConnectionError:
            return  # the client went away; the handler's read loop sees it too
        except Exception:
            log.exception("live: sending failed; closing the socket so the console resumes")
            self.close(WSCloseCode.INTERNAL_ERROR, "send failed: reconnect to resume")

    async def _send_event(self, event: QueuedEvent) -> None:
        if event.id <= self._last_sent:
            return  # the replay already sent it
        if event.id != self._last_sent + 1:
            # Never silently skip: the console reconnects, and its resume gets a reset if the
            # missing events are really gone.
            log.error("live: gap before event %d (last sent %d)", event.id, self._last_sent)
            self.close(WSCloseCode.INTERNAL_ERROR, "event gap: reconnect to resume")
            return
        await self.ws.send_str(event_frame(event))
        self._last_sent = event.id
