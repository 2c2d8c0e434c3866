"""The hub: one per web process, the only reader of the bus on the console side.

For every bus event it finds the queues whose audience the event names (same shop, a
recipient in common), appends the event to each (the queue assigns the id) and hands it to
the queue's socket if one is connected here. It only delivers: actions write and publish.

**Ownership.** A queue is appended to by exactly one process, its owner: the one that
created it or last resumed it. A queue outlives its socket (``idle_timeout_s``), so events
that arrive while a console is away are kept for its reconnect.

**Handoff** (server mode, a console reconnecting to another process B behind the load
balancer). Every process sees the bus in the same order (one Redis pub/sub channel), so B
publishes a *handoff marker* onto the bus itself: the owner A appends every event before the
marker, stops at the marker and hands the queue over in Redis; B buffers the events after
the marker and appends them once A confirms. Each event is thus appended exactly once, in
bus order, with contiguous ids, whatever the two processes' relative speed. A dead or
stopped owner cannot hand over: the console gets a ``reset`` (its events are gone).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from aiohttp import WSCloseCode, web

from csdesk.auth.current import CurrentUser
from csdesk.bus import events as ev
from csdesk.bus.base import BusEvent, EventBus
from csdesk.clock import utcnow
from csdesk.realtime.audience import Audience, load_service_roles
from csdesk.realtime.config import LiveConfig
from csdesk.realtime.connection import CLOSE_TAKEN_OVER, LiveConnection
from csdesk.realtime.protocol import (
    Hello,
    QueuedEvent,
    encode_event,
    presence_frame,
    reset_frame,
    welcome_frame,
)
from csdesk.realtime.store import NO_OWNER, Append, QueueStore
from csdesk.storage.engine import SessionFactory

log = logging.getLogger(__name__)

MARKER: Final = "live.marker"
"""Bus event type of the hub's own markers (no recipients, never sent to a console)."""
_READY_TIMEOUT_S: Final = 10.0
_RETRY_MIN_S: Final = 1.0
_RETRY_MAX_S: Final = 30.0
CLOSE_SIGNED_OUT: Final = 4001
"""Application close code: the account was deactivated; the console must not reconnect."""
PRESENCE_REFRESH_S: Final = 20.0
"""Each process re-announces its watchers this often; consoles drop a viewer not heard of
for 3 times as long (a process that died says nothing)."""


@dataclass(eq=False)
class Watch:
    """Collision: what one socket shows (a conversation) and whether its person writes."""

    shop_id: str
    conversation_id: int
    holder_id: int | None
    user: dict[str, Any]
    tab: str
    typing: bool = False
    mode: str = "reply"

    def payload(self, state: str, *, roll_call: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "conversation_id": self.conversation_id,
            "holder_id": self.holder_id,
            "user": self.user,
            "tab": self.tab,
            "state": state,
            "mode": self.mode,
        }
        if roll_call:
            data["roll_call"] = True
        return data

    @property
    def state(self) -> str:
        return "typing" if self.typing else "viewing"

    def recipients(self) -> tuple[str, ...]:
        names = [ev.to_watchers(self.conversation_id)]
        if self.holder_id is not None:
            names.append(ev.to_user(self.holder_id))
        return tuple(names)


@dataclass(eq=False)
class LiveQueue:
    id: str
    audience: Audience
    connection: LiveConnection | None = None
    idle_since: datetime | None = None
    roles_version: int = 0
    """Bumped when ``agent.status`` refreshes the roles, so an older bulk read cannot undo it."""


@dataclass(eq=False)
class _Takeover:
    """A queue this process is taking over: events after our marker wait in ``buffer``."""

    queue: LiveQueue
    token: str
    released: asyncio.Future[bool]
    marker_seen: bool = False
    buffer: list[str] = field(default_factory=list)


class LiveHub:
    def __init__(
        self,
        bus: EventBus,
        store: QueueStore,
        sessions: SessionFactory,
        config: LiveConfig,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        self._bus = bus
        self._store = store
        self._sessions = sessions
        self._clock = clock
        self._queues: dict[str, LiveQueue] = {}
        self._takeovers: dict[str, _Takeover] = {}
        self._index: dict[tuple[str, str], set[str]] = {}
        """(shop_id, recipient) -> ids of the queues listening to it (held or being taken)."""
        self._connections: set[LiveConnection] = set()
        self._background: set[asyncio.Task[None]] = set()
        self._awaited: dict[str, asyncio.Future[bool]] = {}
        """Markers this process waits to see come back: its own ``ready``, ``released``."""
        self._feed: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._roles_read_at = clock()
        self._watches: dict[LiveConnection, Watch] = {}
        self._watchers: dict[tuple[str, int], set[LiveConnection]] = {}
        """(shop_id, conversation_id) -> sockets here showing it (collision)."""
        self._presence_at = clock()

    @property
    def process_id(self) -> str:
        return self._store.owner

    @property
    def connection_count(self) -> int:
        """Websockets open on this process now."""
        return len(self._connections)

    @property
    def queue_ids(self) -> frozenset[str]:
        """Queues this process holds (for tests and the bench)."""
        return frozenset(self._queues)

    # ---- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe and return once the subscription sees events, so a console connecting
        right after startup misses none. With Redis down the app still starts (``/healthz``
        says what is wrong); the feed keeps retrying in the background."""
        self._feed = asyncio.create_task(self._run_feed(), name="live-hub-feed")
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="live-hub-sweep")
        try:
            await self._store.heartbeat()
            await self._wait_subscribed()
        except Exception as exc:
            log.warning("live: the bus or queue store does not answer yet: %s", exc)

    async def close_sockets(self) -> None:
        """``on_shutdown``: tell every console to reconnect elsewhere (aiohttp waits for open
        handlers before cleanup, so this must come first)."""
        connections = list(self._connections)
        for connection in connections:
            connection.close(WSCloseCode.GOING_AWAY, "server shutting down")
        await asyncio.gather(*(c.wait_closed() for c in connections))

    async def stop(self) -> None:
        # Presence "left" frames still on their way to the bus: given a moment, not waited on.
        if self._background:
            await asyncio.wait(set(self._background), timeout=1.0)
        for task in (self._sweeper, self._feed):
            if task is not None:
                task.cancel()
        await asyncio.gather(
            *(t for t in (self._sweeper, self._feed) if t is not None), return_exceptions=True
        )
        # Our queues get no more events: resumes elsewhere must reset at once, not wait.
        try:
            await self._store.retire()
        except Exception:
            log.exception("live: could not retire process %s", self.process_id)

    # ---- connections -----------------------------------------------------------------

    def connect(self, ws: web.WebSocketResponse, user: CurrentUser | None = None) -> LiveConnection:
        connection = LiveConnection(
            ws,
            max_pending=self.config.max_pending_frames,
            user_id=user.id if user is not None else None,
            shop_id=user.shop_id if user is not None else None,
        )
        self._connections.add(connection)
        return connection

    def detach(self, queue_id: str | None, connection: LiveConnection) -> None:
        """The socket closed; its queue (if any) stays, collecting events, until it expires."""
        self._connections.discard(connection)
        left = self._unwatch(connection)
        if left is not None:
            self._spawn_publish([self._presence_event(left, "left")])
        queue = self._queues.get(queue_id) if queue_id else None
        if queue is not None and queue.connection is connection:
            queue.connection = None
            queue.idle_since = self._clock()

    async def attach(self, user: CurrentUser, hello: Hello, connection: LiveConnection) -> str:
        """Answer a hello: resume the queue, or (new console, or resume impossible) a new
        queue, after a ``reset`` that says why. Returns the queue's id."""
        reason: str | None = None
        if hello.queue_id is not None:
            try:
                queue, reason = await self._resume(user, hello.queue_id, hello.last_event_id)
            except Exception:
                log.exception("live: resuming queue %s failed", hello.queue_id)
                queue, reason = None, "the queue could not be resumed"
            if queue is not None:
                welcome = welcome_frame(queue.id, hello.last_event_id, resumed=True)
                self._bind(queue, connection, after=hello.last_event_id, preamble=(welcome,))
                return queue.id
        queue = await self._create(user)
        preamble = (reset_frame(reason),) if reason else ()
        welcome = welcome_frame(queue.id, -1, resumed=False)
        self._bind(queue, connection, after=-1, preamble=(*preamble, welcome))
        return queue.id

    async def ack(self, queue_id: str, connection: LiveConnection, upto: int) -> str | None:
        """Drop events the console applied; the problem text if the ack makes no sense."""
        queue = self._queues.get(queue_id)
        if queue is None or queue.connection is not connection:
            return None  # the socket is being closed (taken over, lost): nothing to keep
        if upto > connection.last_sent:
            return f"ack: last_event_id {upto} was not sent yet (last sent {connection.last_sent})"
        await self._store.ack(queue_id, upto)
        return None

    def _bind(
        self, queue: LiveQueue, connection: LiveConnection, *, after: int, preamble: tuple[str, ...]
    ) -> None:
        # One synchronous step: the welcome is queued before any live event can be.
        if queue.connection is not None and queue.connection is not connection:
            queue.connection.close(CLOSE_TAKEN_OVER, "queue resumed by a newer connection")
        connection.start(
            self._store,
            queue.id,
            after=after,
            preamble=preamble,
            replay_limit=self.config.max_queue_events,
        )
        queue.connection = connection
        queue.idle_since = None

    async def _create(self, user: CurrentUser) -> LiveQueue:
        roles = await load_service_roles(self._sessions, [(user.shop_id, user.id)])
        queue_id = secrets.token_urlsafe(16)
        await self._store.create(queue_id, user.shop_id, user.id)
        queue = LiveQueue(
            queue_id,
            Audience(user.shop_id, user.id, user.role, roles[(user.shop_id, user.id)]),
        )
        self._queues[queue_id] = queue
        self._index_add(queue)
        return queue

    async def _resume(
        self, user: CurrentUser, queue_id: str, last_event_id: int
    ) -> tuple[LiveQueue | None, str | None]:
        if queue_id in self._takeovers:
            return None, "the queue is being resumed by another connection"
        state = await self._store.state(queue_id)
        if state is None or state.user_id != user.id or state.shop_id != user.shop_id:
            # Someone else's queue reads as unknown: ids are no capability to probe with.
            return None, "unknown or expired queue"
        local = self._queues.get(queue_id)
        problem = state.resume_problem(last_event_id)
        if problem is not None:
            if local is not None:
                await self._discard(local)
            return None, problem
        if local is not None:
            if state.owner != self.process_id:
                self._lose(queue_id, "queue lost")
                return None, "the queue was lost"
            await self._store.ack(queue_id, last_event_id)
            return local, None
        if state.owner == self.process_id:
            return None, "the queue was lost"
        if state.owner == NO_OWNER or not await self._store.is_alive(state.owner):
            return None, "the server that held the queue stopped"
        queue = await self._take_over(user, queue_id, state.owner)
        if queue is None:
            return None, "the queue could not be handed over"
        # The old owner kept appending until the handoff: the console may have fallen behind.
        state = await self._store.state(queue_id)
        problem = "the queue expired" if state is None else state.resume_problem(last_event_id)
        if problem is not None:
            await self._discard(queue)
            return None, problem
        await self._store.ack(queue_id, last_event_id)
        return queue, None

    async def _take_over(self, user: CurrentUser, queue_id: str, owner: str) -> LiveQueue | None:
        roles = await load_service_roles(self._sessions, [(user.shop_id, user.id)])
        queue = LiveQueue(
            queue_id,
            Audience(user.shop_id, user.id, user.role, roles[(user.shop_id, user.id)]),
        )
        token = uuid.uuid4().hex
        takeover = _Takeover(queue, token, asyncio.get_running_loop().create_future())
        self._takeovers[queue_id] = takeover
        self._awaited[token] = takeover.released
        self._index_add(queue)
        held = False
        try:
            await self._bus.publish(
                [self._marker("handoff", token, queue_id=queue_id, owner=owner, to=self.process_id)]
            )
            try:
                async with asyncio.timeout(self.config.handoff_timeout_s):
                    released = await takeover.released
            except TimeoutError:
                # The owner may have handed over and only its confirmation got lost.
                current = await self._store.state(queue_id)
                released = current is not None and current.owner == self.process_id
            if not released or not takeover.marker_seen:
                return None
            log.debug(
                "live: queue %s handed over by %s, %d events after the marker",
                queue_id,
                owner,
                len(takeover.buffer),
            )
            while takeover.buffer:
                bodies, takeover.buffer = takeover.buffer, []
                ids = await self._store.append([Append(queue_id, body) for body in bodies])
                if None in ids:
                    return None
            # Same step as leaving _takeovers: the next event goes straight to the queue.
            del self._takeovers[queue_id]
            self._queues[queue_id] = queue
            held = True
            return queue
        finally:
            self._awaited.pop(token, None)
            if not held:
                self._takeovers.pop(queue_id, None)
                self._index_remove(queue)
                try:
                    # If the owner did hand over, nobody will append to it now: say so.
                    await self._store.hand_over(queue_id, NO_OWNER)
                except Exception:
                    log.exception("live: could not give up queue %s", queue_id)

    async def _discard(self, queue: LiveQueue) -> None:
        """A queue no console can use any more: forget it everywhere."""
        self._forget(queue.id)
        if queue.connection is not None:
            queue.connection.close(CLOSE_TAKEN_OVER, "queue reset by a newer connection")
        await self._store.delete([queue.id])

    def _forget(self, queue_id: str) -> LiveQueue | None:
        queue = self._queues.pop(queue_id, None)
        if queue is not None:
            self._index_remove(queue)
        return queue

    def _lose(self, queue_id: str, reason: str) -> None:
        """Events may have been missed for this queue: never pretend otherwise. Its socket is
        closed; the console's resume then gets a ``reset``."""
        queue = self._forget(queue_id)
        if queue is not None and queue.connection is not None:
            queue.connection.close(WSCloseCode.INTERNAL_ERROR, f"{reason}: reconnect")

    # ---- the feed --------------------------------------------------------------------

    async def _run_feed(self) -> None:
        delay = _RETRY_MIN_S
        while True:
            try:
                async for event in self._bus.subscribe():
                    delay = _RETRY_MIN_S
                    try:
                        await self._dispatch(event)
                    except Exception:
                        log.exception("live: delivering %s failed", event.type)
                return  # the bus closed: shutdown
            except Exception as exc:
                # Events published meanwhile were missed, for every queue held here.
                log.warning("live: bus subscription failed (%s); retry in %.0f s", exc, delay)
                for queue_id in list(self._queues):
                    self._lose(queue_id, "live feed interrupted")
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX_S)

    async def _dispatch(self, event: BusEvent) -> None:
        if event.type == MARKER:
            await self._on_marker(event.payload)
            return
        if event.type == ev.PRESENCE:
            await self._on_presence(event)
            return
        if event.type == ev.USER_SIGNED_OUT:
            await self._sign_out(event)
            return
        if event.type == ev.AGENT_STATUS:
            # Before delivering anything else: an agent just put on shift in a role must get
            # that role's next ``conversation.queued``.
            await self._refresh_agent(event)
        targets = self._targets(event)
        if not targets:
            return
        body = encode_event(event.type, event.payload)
        appends: list[str] = []
        for queue_id in targets:
            takeover = self._takeovers.get(queue_id)
            if takeover is None:
                appends.append(queue_id)
            elif takeover.marker_seen:
                takeover.buffer.append(body)
            # else: before our marker, the old owner appends it
        if not appends:
            return
        try:
            ids = await self._store.append([Append(queue_id, body) for queue_id in appends])
        except Exception:
            log.exception("live: appending %s failed; those queues are lost", event.type)
            for queue_id in appends:
                self._lose(queue_id, "event queue unavailable")
            return
        for queue_id, event_id in zip(appends, ids, strict=True):
            queue = self._queues.get(queue_id)
            if queue is None:
                continue
            if event_id is None:
                self._lose(queue_id, "queue no longer held here")
            elif queue.connection is not None:
                queue.connection.push(QueuedEvent(event_id, body))

    def _targets(self, event: BusEvent) -> set[str]:
        targets: set[str] = set()
        for recipient in event.recipients:
            targets.update(self._index.get((event.shop_id, recipient), ()))
        return targets

    # ---- collision: who views and writes where ----------------------------------------

    def _presence_event(self, watch: Watch, state: str, *, roll_call: bool = False) -> BusEvent:
        return BusEvent(
            ev.PRESENCE,
            watch.shop_id,
            watch.recipients(),
            watch.payload(state, roll_call=roll_call),
        )

    def _spawn_publish(self, events: list[BusEvent]) -> None:
        """Publish without waiting (a closing socket's handler must not block on the bus)."""

        async def publish() -> None:
            try:
                await self._bus.publish(events)
            except Exception as exc:
                log.warning("live: presence not published: %s", exc)

        task = asyncio.create_task(publish())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _unwatch(self, connection: LiveConnection) -> Watch | None:
        watch = self._watches.pop(connection, None)
        if watch is not None:
            key = (watch.shop_id, watch.conversation_id)
            sockets = self._watchers.get(key)
            if sockets is not None:
                sockets.discard(connection)
                if not sockets:
                    del self._watchers[key]
        return watch

    async def watch(
        self,
        connection: LiveConnection,
        user: CurrentUser,
        conversation_id: int | None,
        holder_id: int | None,
    ) -> None:
        """This socket now shows ``conversation_id`` (None: nothing): leave the last one,
        announce the new one and ask who else is there (a roll call every process answers
        for its own sockets)."""
        events: list[BusEvent] = []
        current = self._watches.get(connection)
        if current is not None and current.conversation_id == conversation_id:
            current.holder_id = holder_id
            events.append(self._presence_event(current, current.state, roll_call=True))
        else:
            left = self._unwatch(connection)
            if left is not None:
                events.append(self._presence_event(left, "left"))
            if conversation_id is not None:
                watch = Watch(
                    user.shop_id,
                    conversation_id,
                    holder_id,
                    {"id": user.id, "display_name": user.display_name, "role": user.role.value},
                    tab=connection.tab,
                )
                self._watches[connection] = watch
                self._watchers.setdefault((user.shop_id, conversation_id), set()).add(connection)
                events.append(self._presence_event(watch, "viewing", roll_call=True))
        if events:
            await self._bus.publish(events)

    async def typing(
        self, connection: LiveConnection, conversation_id: int, typing: bool, mode: str
    ) -> str | None:
        """The person at this socket started or stopped writing; the problem text if the
        socket does not show that conversation."""
        watch = self._watches.get(connection)
        if watch is None or watch.conversation_id != conversation_id:
            return f"typing: send watch for conversation {conversation_id} first"
        if watch.typing == typing and watch.mode == mode:
            return None
        watch.typing, watch.mode = typing, mode
        await self._bus.publish([self._presence_event(watch, watch.state)])
        return None

    def _presence_sockets(self, event: BusEvent) -> set[LiveConnection]:
        sockets: set[LiveConnection] = set()
        for recipient in event.recipients:
            if recipient.startswith("conversation:"):
                try:
                    conversation_id = int(recipient.split(":", 1)[1])
                except ValueError:
                    continue
                sockets.update(self._watchers.get((event.shop_id, conversation_id), ()))
            else:
                for queue_id in self._index.get((event.shop_id, recipient), ()):
                    queue = self._queues.get(queue_id)
                    if queue is not None and queue.connection is not None:
                        sockets.add(queue.connection)
        return sockets

    async def _on_presence(self, event: BusEvent) -> None:
        payload = dict(event.payload)
        roll_call = bool(payload.pop("roll_call", False))
        frame = presence_frame(payload)
        tab = payload.get("tab")
        for connection in self._presence_sockets(event):
            if connection.tab != tab and connection.bound:
                connection.send(frame)
        if roll_call:
            conversation_id = payload.get("conversation_id")
            answers = [
                self._presence_event(watch, watch.state)
                for connection, watch in self._watches.items()
                if watch.shop_id == event.shop_id
                and watch.conversation_id == conversation_id
                and watch.tab != tab
            ]
            if answers:
                await self._bus.publish(answers)

    async def announce_watchers(self) -> None:
        """Every watcher here says again where it is (consoles expire the silent ones)."""
        events = [self._presence_event(w, w.state) for w in self._watches.values()]
        if events:
            await self._bus.publish(events)

    async def _sign_out(self, event: BusEvent) -> None:
        """A deactivated account: its sockets here close now and its queues are dropped."""
        user_id = event.payload.get("user_id")
        if not isinstance(user_id, int):
            return
        queue_ids = list(self._index.get((event.shop_id, ev.to_user(user_id)), ()))
        for queue_id in queue_ids:
            self._forget(queue_id)
        for connection in list(self._connections):
            if connection.user_id == user_id and connection.shop_id == event.shop_id:
                connection.close(CLOSE_SIGNED_OUT, "account deactivated")
        if queue_ids:
            await self._store.delete(queue_ids)

    # ---- markers ---------------------------------------------------------------------

    def _marker(self, kind: str, token: str, **fields: Any) -> BusEvent:
        return BusEvent(MARKER, "", (), {"kind": kind, "token": token, **fields})

    async def _wait_subscribed(self) -> None:
        """Publish a marker until our own subscription sees it (it starts asynchronously)."""
        loop = asyncio.get_running_loop()
        token = uuid.uuid4().hex
        seen: asyncio.Future[bool] = loop.create_future()
        self._awaited[token] = seen
        deadline = loop.time() + _READY_TIMEOUT_S
        delay = 0.005
        try:
            while not seen.done():
                if loop.time() > deadline or (self._feed is not None and self._feed.done()):
                    raise RuntimeError("live hub: the bus subscription did not start")
                await self._bus.publish([self._marker("ready", token)])
                await asyncio.wait([seen], timeout=delay)
                delay = min(delay * 2, 0.5)
        finally:
            self._awaited.pop(token, None)

    async def _on_marker(self, payload: dict[str, Any]) -> None:
        kind, token = payload.get("kind"), str(payload.get("token"))
        if kind in ("ready", "released"):
            waiter = self._awaited.get(token)
            if waiter is not None and not waiter.done():
                waiter.set_result(bool(payload.get("ok", True)))
            return
        if kind != "handoff":
            return
        queue_id = str(payload.get("queue_id"))
        if payload.get("to") == self.process_id:
            takeover = self._takeovers.get(queue_id)
            if takeover is not None and takeover.token == token:
                takeover.marker_seen = True
        elif payload.get("owner") == self.process_id:
            await self._release(queue_id, str(payload.get("to")), token)

    async def _release(self, queue_id: str, to: str, token: str) -> None:
        """Every event before the marker is appended (the feed is sequential): hand over."""
        queue = self._forget(queue_id)
        if queue is not None:
            if queue.connection is not None:
                queue.connection.close(CLOSE_TAKEN_OVER, "queue resumed on another server")
            ok = await self._store.hand_over(queue_id, to)
        else:
            # Not held here (lost, expired, mid-takeover): its events are not all there.
            await self._store.hand_over(queue_id, NO_OWNER)
            ok = False
        await self._bus.publish([self._marker("released", token, ok=ok)])

    # ---- roles, expiry ---------------------------------------------------------------

    def _held(self) -> Iterable[LiveQueue]:
        yield from self._queues.values()
        for takeover in self._takeovers.values():
            yield takeover.queue

    def _set_roles(self, queue: LiveQueue, roles: frozenset[str]) -> None:
        if queue.audience.service_roles == roles:
            return
        self._index_remove(queue)
        queue.audience = queue.audience.with_roles(roles)
        self._index_add(queue)

    async def _refresh_agent(self, event: BusEvent) -> None:
        agent_id = event.payload.get("agent_id")
        if not isinstance(agent_id, int):
            return
        queue_ids = self._index.get((event.shop_id, ev.to_user(agent_id)))
        if not queue_ids:
            return
        carried = event.payload.get("service_roles")
        if isinstance(carried, list) and all(isinstance(role, str) for role in carried):
            roles = frozenset(carried)  # as committed; no need to read them back
        else:
            loaded = await load_service_roles(self._sessions, [(event.shop_id, agent_id)])
            roles = loaded[(event.shop_id, agent_id)]
        for queue in self._held():
            if queue.id in queue_ids:
                queue.roles_version += 1
                self._set_roles(queue, roles)

    async def refresh_roles(self) -> None:
        """Re-read every held queue's service roles (profile edits publish no event)."""
        queues = list(self._held())
        versions = {queue.id: queue.roles_version for queue in queues}
        roles = await load_service_roles(
            self._sessions, {(q.audience.shop_id, q.audience.user_id) for q in queues}
        )
        for queue in queues:
            if queue.roles_version == versions[queue.id]:
                self._set_roles(queue, roles[(queue.audience.shop_id, queue.audience.user_id)])

    async def expire_idle(self, now: datetime) -> list[str]:
        """Forget queues without a socket for ``idle_timeout_s``; returns their ids."""
        limit = timedelta(seconds=self.config.idle_timeout_s)
        expired = [
            queue.id
            for queue in self._queues.values()
            if queue.connection is None
            and queue.idle_since is not None
            and now - queue.idle_since >= limit
        ]
        for queue_id in expired:
            self._forget(queue_id)
        await self._store.delete(expired)
        return expired

    async def sweep(self, now: datetime) -> None:
        await self._store.heartbeat()
        await self.expire_idle(now)
        if now - self._presence_at >= timedelta(seconds=PRESENCE_REFRESH_S):
            self._presence_at = now
            await self.announce_watchers()
        await self._store.touch(list(self._queues))
        if now - self._roles_read_at >= timedelta(seconds=self.config.roles_refresh_s):
            self._roles_read_at = now
            await self.refresh_roles()

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.sweep_interval_s)
            try:
                await self.sweep(self._clock())
            except Exception as exc:
                log.warning("live: sweep failed: %s", exc)

    # ---- index -----------------------------------------------------------------------

    def _index_add(self, queue: LiveQueue) -> None:
        for recipient in queue.audience.recipients:
            self._index.setdefault((queue.audience.shop_id, recipient), set()).add(queue.id)

    def _index_remove(self, queue: LiveQueue) -> None:
        for recipient in queue.audience.recipients:
            key = (queue.audience.shop_id, recipient)
            ids = self._index.get(key)
            if ids is not None:
                ids.discard(queue.id)
                if not ids:
                    del self._index[key]
