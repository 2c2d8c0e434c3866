"""One websocket's side of the conversation: a hello, then acks; every reply is a frame."""

from __future__ import annotations

from aiohttp import web

from csdesk.auth.current import CurrentUser
from csdesk.errors import CsdeskError
from csdesk.reads.conversations import watchable
from csdesk.realtime.hub import LiveHub
from csdesk.realtime.protocol import (
    Hello,
    ProtocolError,
    Typing,
    Watch,
    error_frame,
    parse_client_message,
)
from csdesk.storage.engine import SessionFactory


class LiveSession:
    def __init__(
        self,
        hub: LiveHub,
        user: CurrentUser,
        ws: web.WebSocketResponse,
        sessions: SessionFactory | None = None,
    ) -> None:
        self._hub = hub
        self._user = user
        self._sessions = sessions
        self.connection = hub.connect(ws, user)
        self.queue_id: str | None = None

    def _error(self, problem: str) -> None:
        # The socket stays open: a console bug should cost one message, not the session.
        self.connection.send(error_frame(problem))

    async def on_text(self, raw: str) -> None:
        try:
            message = parse_client_message(raw)
        except ProtocolError as exc:
            self._error(str(exc))
            return
        if isinstance(message, Hello):
            if self.queue_id is not None:
                self._error("hello: already sent on this connection")
                return
            self.queue_id = await self._hub.attach(self._user, message, self.connection)
            return
        if self.queue_id is None:
            op = {Watch: "watch", Typing: "typing"}.get(type(message), "ack")
            self._error(f"{op}: send hello first")
            return
        if isinstance(message, Watch):
            await self._watch(message)
            return
        if isinstance(message, Typing):
            problem = await self._hub.typing(
                self.connection, message.conversation_id, message.typing, message.mode
            )
            if problem is not None:
                self._error(problem)
            return
        problem = await self._hub.ack(self.queue_id, self.connection, message.last_event_id)
        if problem is not None:
            self._error(problem)

    async def _watch(self, message: Watch) -> None:
        """Collision: only a conversation this user may open can be watched."""
        holder: int | None = None
        if message.conversation_id is not None:
            if self._sessions is None:
                self._error("watch: not available here")
                return
            try:
                holder = await watchable(self._sessions, self._user, message.conversation_id)
            except CsdeskError as exc:
                self._error(f"watch: {exc.message}")
                return
        await self._hub.watch(self.connection, self._user, message.conversation_id, holder)

    def on_binary(self) -> None:
        self._error("binary frames are not supported: send JSON text frames")

    async def close(self) -> None:
        self._hub.detach(self.queue_id, self.connection)
        await self.connection.aclose()
