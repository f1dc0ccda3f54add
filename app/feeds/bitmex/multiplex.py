"""BitMEX `/realtimemd` multiplexing: several logical streams (accounts) over one socket.

Packets are JSON arrays `[type, stream_id, topic, payload?]` with type 0 = message, 1 = open a
stream, 2 = close a stream. Every stream is an independent logical connection with its own
welcome, its own authentication (still signing "GET/realtime") and its own table state, so each
stream here owns a `BitmexEngine` and a `BitmexProtocol` and reports to its own event callback.
The socket itself (back-off, budget, watchdog, heartbeat) is one `ConnectionHandler`.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from app.feeds.bitmex.auth import ApiCredentials
from app.feeds.bitmex.client import (
    AuthMode,
    BitmexConfig,
    BitmexProtocol,
    ClientStats,
    Message,
    with_heartbeat,
)
from app.feeds.bitmex.constants import (
    MULTIPLEX_PATH,
    MUX_MESSAGE,
    MUX_SUBSCRIBE,
    MUX_UNSUBSCRIBE,
    OP_CANCEL_ALL_AFTER,
    PING,
    PONG,
    REALTIME_PATH,
)
from app.feeds.bitmex.engine import BitmexEngine
from app.feeds.connection import ConnectionHandler, FeedFatal, Frame, Reconnect
from app.feeds.events import Event, FeedError, FeedStatus


@dataclass
class StreamConfig:
    """One logical stream: its multiplex topic label, subscriptions and optional account."""

    topic: str
    symbols: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    credentials: ApiCredentials | None = None
    auth_mode: AuthMode = "expires"
    stream_id: str = field(default_factory=lambda: uuid.uuid4().hex)


class MultiplexStream:
    """State of one stream: engine, protocol logic, callback, and whether it is usable."""

    def __init__(
        self,
        spec: StreamConfig,
        base: BitmexConfig,
        on_event: Callable[[Event], None],
        wall_clock: Callable[[], float],
    ) -> None:
        self.spec = spec
        self.on_event = on_event
        self.config = dataclasses.replace(
            base,
            symbols=list(spec.symbols),
            topics=list(spec.topics),
            credentials=spec.credentials,
            auth_mode=spec.auth_mode,
        )
        self.engine = BitmexEngine(base.venue, clock=wall_clock)
        self.stats = ClientStats()
        self.protocol = BitmexProtocol(
            self.config, self.engine, on_event, wall_clock=wall_clock, stats=self.stats
        )
        self.failed: str | None = None
        self.open = False

    def wrap(self, messages: list[Message]) -> list[Frame]:
        """Message packets of this stream."""
        sid, topic = self.spec.stream_id, self.spec.topic
        return [orjson.dumps([MUX_MESSAGE, sid, topic, m]).decode() for m in messages]

    def open_frames(self, now: float) -> list[Frame]:
        """Open the stream, then authenticate and subscribe inside it."""
        self.open = True
        opening = orjson.dumps([MUX_SUBSCRIBE, self.spec.stream_id, self.spec.topic]).decode()
        return [opening, *self.wrap(self.protocol.open_messages(now))]

    def close_frame(self) -> Frame:
        """Close the stream."""
        self.open = False
        return orjson.dumps([MUX_UNSUBSCRIBE, self.spec.stream_id, self.spec.topic]).decode()

    def status(self, state: Any, detail: str) -> None:
        """Report a stream-level status to this stream's listener."""
        self.on_event(FeedStatus(self.config.venue, state, detail))


class MultiplexSession:
    """`Session` hooks that route multiplexed packets to their streams."""

    def __init__(self, url: str, streams: list[MultiplexStream], heartbeat: bool, venue: str):
        self._url = url
        self.streams = {s.spec.stream_id: s for s in streams}
        self.heartbeat = heartbeat
        self.venue = venue
        self.unrouted = 0

    def url(self) -> str:
        """The /realtimemd URL (with heartbeat=true in heartbeat mode)."""
        return with_heartbeat(self._url) if self.heartbeat else self._url

    def headers(self) -> dict[str, str] | None:
        """Authentication happens per stream, not on the socket."""
        return None

    def opened(self, now: float) -> list[Frame]:
        """Open every usable stream."""
        frames: list[Frame] = []
        for stream in self.streams.values():
            if stream.failed is None:
                frames.extend(stream.open_frames(now))
        return frames

    def received(self, now: float, frame: Frame) -> list[Frame]:
        """Unwrap one packet and hand its payload to the stream's protocol."""
        try:
            packet = orjson.loads(frame)
        except orjson.JSONDecodeError:
            return self._unrouted(f"malformed multiplexed frame: {_clip(frame)}")
        if not isinstance(packet, list) or len(packet) < 3:
            return self._unrouted(f"not a multiplexed packet: {_clip(frame)}")
        kind, stream_id = packet[0], packet[1]
        stream = self.streams.get(stream_id) if isinstance(stream_id, str) else None
        if stream is None:
            return self._unrouted(f"packet for unknown stream {stream_id!r}")
        if kind == MUX_UNSUBSCRIBE:
            stream.open = False
            stream.protocol.connection_lost("stream closed by the server")
            stream.status("down", "stream closed by the server")
            return []
        if kind != MUX_MESSAGE or len(packet) < 4:
            return self._unrouted(f"unexpected packet type {kind!r}")
        if not stream.open:
            return []
        try:
            return stream.wrap(stream.protocol.handle_message(now, packet[3]))
        except FeedFatal as exc:
            return self._stream_failed(stream, str(exc))

    def deadline(self) -> float | None:
        """The earliest partial timeout of any open stream."""
        times = [s.protocol.deadline() for s in self.streams.values() if s.open]
        due = [t for t in times if t is not None]
        return min(due) if due else None

    def tick(self, now: float) -> list[Frame]:
        """Resubscribe late partials in every stream."""
        frames: list[Frame] = []
        for stream in self.streams.values():
            deadline = stream.protocol.deadline()
            if not stream.open or deadline is None or now < deadline:
                continue
            try:
                frames.extend(stream.wrap(stream.protocol.tick(now)))
            except Reconnect as exc:
                frames.extend(self._reopen(stream, now, str(exc)))
        return frames

    def _reopen(self, stream: MultiplexStream, now: float, reason: str) -> list[Frame]:
        """Close and reopen one stream (the socket and the other streams stay up)."""
        stream.protocol.connection_lost(reason)
        stream.status("reconnecting", reason)
        return [stream.close_frame(), *stream.open_frames(now)]

    def closed(self, reason: str) -> None:
        """The socket ended: every stream's state is void."""
        for stream in self.streams.values():
            stream.open = False
            stream.protocol.connection_lost(reason)

    def ping_frame(self) -> Frame:
        """Socket-level text ping."""
        return PING

    def is_pong(self, frame: Frame) -> bool:
        """Socket-level text pong."""
        return frame == PONG

    def _unrouted(self, message: str) -> list[Frame]:
        self.unrouted += 1
        for stream in self.streams.values():
            stream.on_event(FeedError(self.venue, message))
        return []

    def _stream_failed(self, stream: MultiplexStream, reason: str) -> list[Frame]:
        stream.failed = reason
        stream.stats.auth_failures += 1
        stream.status("down", reason)
        frames = [stream.close_frame()]
        if all(s.failed is not None for s in self.streams.values()):
            raise FeedFatal(f"every multiplexed stream failed: {reason}", auth=True)
        return frames


class MultiplexClient:
    """Several BitMEX streams (e.g. accounts) sharing one `/realtimemd` socket."""

    def __init__(
        self,
        config: BitmexConfig,
        streams: list[tuple[StreamConfig, Callable[[Event], None]]],
        *,
        on_raw: Callable[[float, Frame], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        url = multiplex_url(config.url)
        self.config = dataclasses.replace(config, url=url)
        self.streams = [MultiplexStream(s, self.config, cb, wall_clock) for s, cb in streams]
        self.session = MultiplexSession(url, self.streams, config.heartbeat_mode, config.venue)
        self.stats = ClientStats()
        self.handler = ConnectionHandler(
            self.session,
            self.config.connection_settings(),
            self._broadcast,
            on_raw=on_raw,
            clock=clock,
            stats=self.stats,
            raw_clock=wall_clock,
            budget=self.config.budget(),
        )
        self._clock = clock

    def _broadcast(self, event: Event) -> None:
        """Socket-level events (status, latency) go to every stream's listener."""
        for stream in self.streams:
            stream.on_event(event)

    def stream(self, stream_id: str) -> MultiplexStream:
        """A stream by id (KeyError if unknown)."""
        return self.session.streams[stream_id]

    async def run(self) -> None:
        """Connect/reconnect until `close()`, or until every stream failed (FeedFatal)."""
        await self.handler.run()

    async def close(self) -> None:
        """Close the streams' socket and stop reconnecting."""
        for stream in self.streams:
            if stream.open:
                await self.handler.send([stream.close_frame()])
        await self.handler.close()

    async def subscribe(self, stream_id: str, topics: list[str]) -> None:
        """Add topics to one stream."""
        stream = self.stream(stream_id)
        messages = stream.protocol.add_topics(topics, self._clock(), stream.open)
        await self.handler.send(stream.wrap(messages))

    async def unsubscribe(self, stream_id: str, topics: list[str]) -> None:
        """Remove topics from one stream."""
        stream = self.stream(stream_id)
        await self.handler.send(stream.wrap(stream.protocol.remove_topics(topics, stream.open)))

    async def cancel_all_after(self, stream_id: str, timeout_ms: int) -> None:
        """Dead man's switch for one stream's account."""
        stream = self.stream(stream_id)
        message = {"op": OP_CANCEL_ALL_AFTER, "args": int(timeout_ms)}
        if not stream.open or not await self.handler.send(stream.wrap([message])):
            stream.on_event(FeedError(self.config.venue, "cancelAllAfter not sent: not connected"))


def multiplex_url(url: str) -> str:
    """The /realtimemd URL of a /realtime URL (other URLs are used as given)."""
    parts = urlsplit(url)
    if parts.path.endswith(REALTIME_PATH):
        path = parts.path[: -len(REALTIME_PATH)] + MULTIPLEX_PATH
        return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))
    return url


def _clip(frame: Frame, limit: int = 80) -> str:
    text = frame if isinstance(frame, str) else repr(frame)
    return text if len(text) <= limit else text[:limit] + "…"


__all__ = [
    "MultiplexClient",
    "MultiplexSession",
    "MultiplexStream",
    "StreamConfig",
    "multiplex_url",
]
