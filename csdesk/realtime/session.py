"""One websocket's side of the conversation: a hello, then acks; every reply is a frame."""

from __future__ import annotations

from aiohttp import web

from csdesk.auth.current import CurrentUser
from csdesk.realtime.hub import LiveHub
from csdesk.realtime.protocol import Hello, ProtocolError, error_frame, parse_client_message


class LiveSession:
    def __init__(self, hub: LiveHub, user: CurrentUser, ws: web.WebSocketResponse) -> None:
        self._hub = hub
        self._user = user
        self.connection = hub.connect(ws)
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
            self._error("ack: send hello first")
            return
        problem = await self._hub.ack(self.queue_id, self.connection, message.last_event_id)
        if problem is not None:
            self._error(problem)

    def on_binary(self) -> None:
        self._error("binary frames are not supported: send JSON text frames")

    async def close(self) -> None:
        self._hub.detach(self.queue_id, self.connection)
        await self.connection.aclose()
