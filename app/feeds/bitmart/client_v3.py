"""Client for the current BitMart v3 spot feed.

`BitmartClient` drives the shared `ConnectionHandler` with a `V3Session`: subscribe batches of
at most 20 topics and 4096 bytes, at most 115 topics per connection, at most 100 outbound
messages (pings included) per 10 s (excess frames queue until the window has room, leaving
headroom for pings), text `ping`/`pong` keep-alive, at most 30 connects per minute and 20 open
sockets per host in this process (process-wide gate and counter), raw DEFLATE binary frames,
and the `spot/depth/increase100` version-gap recovery (a gap emits Resync and sends
`op:request` for a fresh snapshot; an overdue snapshot is re-requested). `request_fresh_book`
takes the same path for a book that stayed crossed; depth5/20/50 need none (each push is a
whole book).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import connect

from app.feeds.bitmart import constants as c
from app.feeds.bitmart.config import BitmartFeedConfig
from app.feeds.bitmart.parse_v3 import V3Parser
from app.feeds.bitmart.rate_limit import (
    V3_OPEN_SOCKETS,
    ConnectionGate,
    MessageWindow,
    OpenSockets,
    gated_connect,
    host_of,
    shared_gate,
)
from app.feeds.bitmart.subscriptions import TopicError, encode, v3_batches, v3_topic_parts
from app.feeds.connection import (
    ConnectionHandler,
    ConnectionStats,
    Frame,
    PendingTracker,
)
from app.feeds.events import BookLevels, Event, FeedError, Reset, Resync


@dataclass
class BitmartConfig(BitmartFeedConfig):
    """One v3 connection. Topics: `spot/<channel>:SYMBOL`, or a bare channel per symbol."""

    url: str = c.V3_URL
    watchdog_idle: float = c.V3_PING_INTERVAL
    venue: str = c.VENUE_V3
    snapshot_timeout: float = c.V3_SNAPSHOT_TIMEOUT
    rate_limited_wait: float = c.V3_CONNECT_WINDOW
    max_messages: int = c.V3_MAX_MESSAGES_PER_WINDOW
    message_window: float = c.V3_MESSAGE_WINDOW
    ping_headroom: int = c.V3_PING_HEADROOM


@dataclass
class V3ClientStats(ConnectionStats):
    """Connection counters plus v3 protocol counters."""

    resyncs: int = 0
    snapshot_requests: int = 0
    snapshot_timeouts: int = 0
    queued_frames: int = 0  # frames waiting for room in the message window
    server_errors: int = 0


def expand_v3_topics(symbols: Iterable[str], topics: Iterable[str]) -> list[str]:
    """Validate topics; a bare channel (`spot/trade`) means that channel for every symbol."""
    out: list[str] = []
    for topic in topics:
        names = [topic] if ":" in topic else [f"{topic}:{s}" for s in symbols]
        for name in names:
            v3_topic_parts(name)
            if name not in out:
                out.append(name)
    check_one_depth_per_symbol(out)
    return out


def check_one_depth_per_symbol(topics: Iterable[str]) -> None:
    """Raise TopicError when two depth channels would feed one symbol's book."""
    depth: dict[str, str] = {}
    for topic in topics:
        channel, symbol = v3_topic_parts(topic)
        if _is_depth(channel):
            if symbol in depth and depth[symbol] != topic:
                raise TopicError(f"one depth channel per symbol: {depth[symbol]} and {topic}")
            depth[symbol] = topic


def _is_depth(channel: str) -> bool:
    return channel == c.V3_CH_DEPTH_INCREASE or channel in c.V3_DEPTH_SNAPSHOT_CHANNELS


class V3Session:
    """The v3 protocol side of one connection (hooks of `ConnectionHandler`)."""

    def __init__(
        self,
        config: BitmartConfig,
        parser: V3Parser,
        emit: Callable[[Event], None],
        stats: V3ClientStats,
        clock: Callable[[], float],
        on_raw: Callable[[float, Frame], None] | None,
    ) -> None:
        self.venue = config.venue
        self.config = config
        self.parser = parser
        self.emit = emit
        self.stats = stats
        self.clock = clock
        self.on_raw = on_raw
        self.topics: list[str] = []
        self.connected = False
        self.window = MessageWindow(config.max_messages, config.message_window, clock)
        self.queue: deque[str] = deque()
        self.snapshots = PendingTracker(config.snapshot_timeout)
        self.open_sockets = V3_OPEN_SOCKETS
        self.host = host_of(config.url)

    def url(self) -> str:
        """The feed URL."""
        return self.config.url

    def headers(self) -> dict[str, str] | None:
        """No handshake headers."""
        return None

    def opened(self, now: float) -> list[Frame]:
        """New socket: void old state, subscribe every topic in batches."""
        self.connected = True
        self.open_sockets.opened(self.host)
        self.parser.reset()
        self.window.clear()
        self.queue.clear()
        self.snapshots.clear()
        self.emit(Reset(self.venue, "connected"))
        self._queue_op(c.V3_OP_SUBSCRIBE, self.topics, now)
        return self._drain(now)

    def received(self, now: float, frame: Frame) -> list[Frame]:
        """Inflate, parse and forward one frame; queue snapshot requests after a gap."""
        result = self.parser.parse(frame, time.time())
        if self.on_raw is not None and result.text:
            self.on_raw(time.time(), result.text)
        for event in result.events:
            if isinstance(event, Resync):
                self.stats.resyncs += 1
            elif isinstance(event, FeedError) and event.status is not None:
                self.stats.server_errors += 1
            elif isinstance(event, BookLevels) and event.snapshot:
                self.snapshots.done(f"{c.V3_CH_DEPTH_INCREASE}:{event.symbol}")
            self.emit(event)
        for topic in result.requests:
            self._request_snapshot(topic, now)
        return self._drain(now)

    def deadline(self) -> float | None:
        """Next queued frame's slot, or the next snapshot timeout."""
        times = []
        if self.queue:
            times.append(self.window.next_free(self.clock(), self.config.ping_headroom))
        snap = self.snapshots.next_deadline()
        if snap is not None:
            times.append(snap)
        return min(times) if times else None

    def tick(self, now: float) -> list[Frame]:
        """Re-request overdue snapshots; send queued frames the window now allows."""
        for topic in self.snapshots.overdue(now):
            self.stats.snapshot_timeouts += 1
            self._request_snapshot(topic, now)
        return self._drain(now)

    def closed(self, reason: str) -> None:
        """The socket is gone; queued frames belong to it."""
        if self.connected:
            self.open_sockets.closed(self.host)
        self.connected = False
        self.queue.clear()
        self.stats.queued_frames = 0
        self.snapshots.clear()

    def request_fresh_book(self, symbol: str, reason: str, now: float) -> bool:
        """Rebuild `symbol`'s increase100 book from a fresh snapshot, as a version gap does:
        updates are dropped until it arrives, `op:request` is queued (sent with this frame's
        replies, or by `tick`) and a Resync is emitted. False without an increase100 topic for
        the symbol (depth5/20/50 pushes replace the whole book), while not connected, or while
        a snapshot is already awaited."""
        topic = f"{c.V3_CH_DEPTH_INCREASE}:{symbol}"
        if (
            not self.connected
            or topic not in self.topics
            or self.parser.depth_version(symbol) is None
        ):
            return False
        self._request_snapshot(topic, now)
        self.stats.resyncs += 1
        self.emit(Resync(self.venue, c.V3_CH_DEPTH_INCREASE, symbol, reason))
        return True

    def ping_frame(self) -> Frame:
        """The text ping (counted in the message window)."""
        self.window.record(self.clock())
        return c.V3_PING

    def is_pong(self, frame: Frame) -> bool:
        """True for the text `pong`."""
        return frame == c.V3_PONG

    # --- subscription changes ------------------------------------------------------------
    def add(self, topics: list[str], now: float) -> list[Frame]:
        """Add topics (limits checked); returns the frames to send now."""
        new = [t for t in topics if t not in self.topics]
        if len(self.topics) + len(new) > c.V3_MAX_TOPICS_PER_CONNECTION:
            raise TopicError(
                f"{len(self.topics) + len(new)} topics exceed "
                f"{c.V3_MAX_TOPICS_PER_CONNECTION} per connection"
            )
        check_one_depth_per_symbol([*self.topics, *new])
        self.topics.extend(new)
        if not self.connected:
            return []
        self._queue_op(c.V3_OP_SUBSCRIBE, new, now)
        return self._drain(now)

    def remove(self, topics: list[str], now: float) -> list[Frame]:
        """Remove topics; returns the frames to send now."""
        gone = [t for t in topics if t in self.topics]
        for topic in gone:
            self.topics.remove(topic)
            self.snapshots.done(topic)
        if not self.connected:
            return []
        self._queue_op(c.V3_OP_UNSUBSCRIBE, gone, now)
        return self._drain(now)

    def _queue_op(self, op: str, topics: list[str], now: float) -> None:
        for msg in v3_batches(op, topics):
            self.queue.append(encode(msg))
        if op == c.V3_OP_SUBSCRIBE:
            for topic in topics:
                channel, symbol = v3_topic_parts(topic)
                if channel == c.V3_CH_DEPTH_INCREASE:
                    self.parser.expect_snapshot(symbol)
                    self.snapshots.expect(topic, now)

    def _request_snapshot(self, topic: str, now: float) -> None:
        if topic not in self.topics:
            return
        self.stats.snapshot_requests += 1
        self.parser.expect_snapshot(v3_topic_parts(topic)[1])
        self.snapshots.expect(topic, now)
        self.queue.append(encode({c.V3_F_OP: c.V3_OP_REQUEST, c.V3_F_ARGS: [topic]}))

    def _drain(self, now: float) -> list[Frame]:
        room = self.window.available(now) - self.config.ping_headroom
        frames: list[Frame] = []
        while self.queue and room > 0:
            frames.append(self.queue.popleft())
            room -= 1
        if frames:
            self.window.record(now, len(frames))
        self.stats.queued_frames = len(self.queue)
        return frames


class BitmartClient:
    """A v3 spot feed: gated connects, batched subscribes, text ping, gap recovery.

    Same shape as BitmexClient: `(config, on_event, *, on_raw, clock)`, `run()`, `close()`,
    `subscribe()`, `unsubscribe()`, `request_fresh_book()`, `stats`. `close()` is final.
    """

    def __init__(
        self,
        config: BitmartConfig,
        on_event: Callable[[Event], None],
        *,
        on_raw: Callable[[float, Frame], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        gate: ConnectionGate | None = None,
        connect_fn: Any = connect,
    ) -> None:
        self.config = config
        self.on_event = on_event
        self.stats = V3ClientStats()
        self.parser = V3Parser(config.venue)
        self.gate = gate if gate is not None else shared_gate(config.url, "v3")
        self.session = V3Session(config, self.parser, on_event, self.stats, clock, on_raw)
        self.session.add(expand_v3_topics(config.symbols, config.topics), clock())
        self.handler = ConnectionHandler(
            self.session,
            config.connection_settings(),
            on_event,
            clock=clock,
            stats=self.stats,
            connect_fn=gated_connect(self.gate, self._capped(connect_fn)),
        )
        self._clock = clock

    def _capped(self, connect_fn: Any) -> Any:
        """`connect_fn`, refused while the per-IP socket cap is reached in this process."""
        sockets: OpenSockets = self.session.open_sockets
        host = self.session.host

        async def connect(*args: Any, **kwargs: Any) -> Any:
            if sockets.count(host) >= c.V3_MAX_CONNECTIONS_PER_IP:
                raise ConnectionRefusedError(
                    f"{c.V3_MAX_CONNECTIONS_PER_IP} connections to {host} already open"
                )
            return await connect_fn(*args, **kwargs)

        return connect

    @property
    def topics(self) -> list[str]:
        """The topics this client keeps subscribed."""
        return list(self.session.topics)

    async def run(self) -> None:
        """Connect/reconnect until `close()` (returns) or a fatal error (raises FeedFatal)."""
        await self.handler.run()

    async def close(self) -> None:
        """Close the socket and stop reconnecting (also while waiting for a connection slot)."""
        await self.handler.close()

    async def subscribe(self, topics: list[str]) -> None:
        """Add topics (`spot/<channel>:SYMBOL`, or bare channels for every symbol)."""
        names = expand_v3_topics(self.config.symbols, topics)
        await self.handler.send(self.session.add(names, self._clock()))

    async def unsubscribe(self, topics: list[str]) -> None:
        """Remove topics."""
        names = expand_v3_topics(self.config.symbols, topics)
        await self.handler.send(self.session.remove(names, self._clock()))

    def request_fresh_book(self, symbol: str, reason: str) -> bool:
        """Rebuild `symbol`'s book from a fresh snapshot (it stayed crossed: updates were
        lost); see `V3Session.request_fresh_book`. False for depth5/20/50 symbols."""
        return self.session.request_fresh_book(symbol, reason, self._clock())

    def snapshot_stats(self) -> V3ClientStats:
        """Current counters."""
        return self.stats


__all__ = ["BitmartClient", "BitmartConfig", "V3ClientStats", "V3Session", "expand_v3_topics"]
