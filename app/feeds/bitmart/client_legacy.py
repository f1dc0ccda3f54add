"""Client for the legacy BitMart openws feed.

`BitmartLegacyClient` drives the shared `ConnectionHandler` (back-off, watchdog, statuses) with
a `LegacySession`. Legacy specifics: every connection attempt first waits for a slot of the
process-wide 1-per-4-s gate (so several sockets and quick reconnects never trip the per-IP
limit); the subscriptions go out right after the socket opens (the server drops a connection
without a subscribe within 5 s), so the client only connects while it has subscriptions;
the `ping` channel is the heartbeat.

Before its first connection the client fetches the REST symbol details once (bounded by
`details_timeout`, before any socket opens, kept across reconnects) to learn each symbol's
valid order/trade precision range; see `legacy_precision` for how precisions are fitted to it.
When the details cannot be had, a FeedError says so and precisions go out unchecked.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from websockets.asyncio.client import connect

from app.feeds.bitmart import constants as c
from app.feeds.bitmart.config import BitmartFeedConfig
from app.feeds.bitmart.details_fetch import load_details
from app.feeds.bitmart.legacy_precision import needs_range, resolve_precision
from app.feeds.bitmart.parse_legacy import LegacyParser
from app.feeds.bitmart.rate_limit import ConnectionGate, gated_connect, shared_gate
from app.feeds.bitmart.subscriptions import LegacySub, encode
from app.feeds.bitmart.symbols_details import DetailsError, symbols_details_url
from app.feeds.connection import (
    ConnectionHandler,
    ConnectionSettings,
    ConnectionStats,
    Frame,
)
from app.feeds.events import Event, FeedError, Reset, Resync

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())  # warnings reach the user as FeedError events too

PING_FRAME = encode({c.LEGACY_KEY_SUBSCRIBE: c.LEGACY_CH_PING})


@dataclass
class BitmartLegacyConfig(BitmartFeedConfig):
    """One legacy connection. Topics: `channel:SYMBOL[:param]`, or a bare channel per symbol.

    `precision_ranges` holds known (min, max) precisions per symbol (filled from the symbol
    details); `symbols_details_url` None means the one belonging to `url`.
    """

    url: str = c.LEGACY_URL
    ping_interval: float = c.LEGACY_PING_INTERVAL
    pong_timeout: float = c.LEGACY_PONG_TIMEOUT
    venue: str = c.VENUE_LEGACY
    default_precision: int = c.LEGACY_DEFAULT_PRECISION
    kline_step: int = c.LEGACY_DEFAULT_STEP
    precision_ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    connect_interval: float = c.LEGACY_CONNECT_INTERVAL
    symbols_details_url: str | None = None
    details_timeout: float = c.LEGACY_DETAILS_TIMEOUT

    def details_url(self) -> str:
        """Where the symbol details are fetched."""
        return self.symbols_details_url or symbols_details_url(self.url)

    def connection_settings(self) -> ConnectionSettings:
        """The shared settings; a refused connect waits one connection interval."""
        return replace(super().connection_settings(), rate_limited_wait=self.connect_interval)


@dataclass
class LegacyClientStats(ConnectionStats):
    """Connection counters plus legacy protocol counters."""

    subscribes_sent: int = 0
    resyncs: int = 0
    gate_waits: int = 0


def expand_legacy_topics(config: BitmartLegacyConfig, topics: Iterable[str]) -> list[LegacySub]:
    """Parse topics; a bare channel (`trade`) means that channel for every configured symbol.

    Order/trade precisions are fitted to the ranges in `config.precision_ranges`
    (`resolve_precision`: the default is clamped, a named one out of range is a TopicError).
    """
    subs: list[LegacySub] = []
    for topic in topics:
        if ":" in topic:
            subs.append(LegacySub.parse(topic, config.default_precision))
            continue
        for symbol in config.symbols:
            param = config.kline_step if topic == c.LEGACY_CH_KLINE else None
            text = f"{topic}:{symbol}" if param is None else f"{topic}:{symbol}:{param}"
            subs.append(LegacySub.parse(text, config.default_precision))
    return [
        resolve_precision(sub, config.precision_ranges, config.default_precision) for sub in subs
    ]


class LegacySession:
    """The legacy protocol side of one connection (hooks of `ConnectionHandler`)."""

    def __init__(
        self,
        config: BitmartLegacyConfig,
        parser: LegacyParser,
        emit: Callable[[Event], None],
        stats: LegacyClientStats,
        clock: Callable[[], float],
    ) -> None:
        self.venue = config.venue
        self.config = config
        self.parser = parser
        self.emit = emit
        self.stats = stats
        self.clock = clock
        self.subs: dict[tuple[str, str], LegacySub] = {}
        self.connected = False

    def url(self) -> str:
        """The feed URL."""
        return self.config.url

    def headers(self) -> dict[str, str] | None:
        """No handshake headers."""
        return None

    def opened(self, now: float) -> list[Frame]:
        """New socket: void old state, resubscribe everything at once (5 s deadline)."""
        self.connected = True
        self.parser.reset()
        self.emit(Reset(self.venue, "connected"))
        return [self._request(sub) for sub in self.subs.values()]

    def received(self, now: float, frame: Frame) -> list[Frame]:
        """Parse and forward one frame."""
        result = self.parser.parse(frame, time.time())
        for event in result.events:
            if isinstance(event, Resync):
                self.stats.resyncs += 1
            self.emit(event)
        return []

    def deadline(self) -> float | None:
        """No timed work besides the handler's heartbeat."""
        return None

    def tick(self, now: float) -> list[Frame]:
        """Nothing to do on deadlines."""
        return []

    def closed(self, reason: str) -> None:
        """The socket is gone."""
        self.connected = False

    def ping_frame(self) -> Frame:
        """The ping channel request."""
        return PING_FRAME

    def is_pong(self, frame: Frame) -> bool:
        """True for `{"subscribe":"pong"}`."""
        if not isinstance(frame, str) or len(frame) > 64 or c.LEGACY_REPLY_PONG not in frame:
            return False
        try:
            msg = json.loads(frame)
        except ValueError:
            return False
        return isinstance(msg, dict) and msg.get(c.LEGACY_KEY_SUBSCRIBE) == c.LEGACY_REPLY_PONG

    # --- subscription changes ------------------------------------------------------------
    def add(self, subs: Iterable[LegacySub]) -> list[Frame]:
        """Register subscriptions; returns the frames to send now (if connected).

        One parameter per (channel, symbol): a new precision or step replaces the old one,
        which is unsubscribed first.
        """
        frames: list[Frame] = []
        for sub in subs:
            old = self.subs.get(sub.key)
            if old == sub:
                continue
            if old is not None and self.connected:
                frames.append(encode(old.unsubscribe_request()))
                self.parser.forget(*old.key)
            self.subs[sub.key] = sub
            if self.connected:
                frames.append(self._request(sub))
        return frames

    def remove(self, subs: Iterable[LegacySub]) -> list[Frame]:
        """Drop subscriptions; returns the unsubscribe frames to send now (if connected)."""
        frames: list[Frame] = []
        for sub in subs:
            old = self.subs.pop(sub.key, None)
            if old is None:
                continue
            self.parser.forget(*old.key)
            if self.connected:
                frames.append(encode(old.unsubscribe_request()))
        return frames

    def _request(self, sub: LegacySub) -> str:
        self.parser.expect(sub.channel, sub.symbol, sub.param)
        self.stats.subscribes_sent += 1
        return encode(sub.request())


class BitmartLegacyClient:
    """A legacy openws feed: rate-limited connects, subscribe, ping heartbeat, reconnect.

    Same shape as BitmexClient: `(config, on_event, *, on_raw, clock)`, `run()`, `close()`,
    `subscribe()`, `unsubscribe()`, `request_fresh_book()`, `stats`; plus `set_precision()`.
    `close()` is final.
    """

    def __init__(
        self,
        config: BitmartLegacyConfig,
        on_event: Callable[[Event], None],
        *,
        on_raw: Callable[[float, Frame], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        gate: ConnectionGate | None = None,
        connect_fn: Any = connect,
    ) -> None:
        self.config = config
        self.on_event = on_event
        self.stats = LegacyClientStats()
        self.parser = LegacyParser(config.venue)
        self.gate = gate if gate is not None else shared_gate(config.url, "legacy")
        self.session = LegacySession(config, self.parser, on_event, self.stats, clock)
        self.session.add(expand_legacy_topics(config, config.topics))
        self.handler = ConnectionHandler(
            self.session,
            config.connection_settings(),
            on_event,
            on_raw=on_raw,
            clock=clock,
            stats=self.stats,
            connect_fn=gated_connect(self.gate, connect_fn),
        )
        self._wanted: asyncio.Event | None = None
        self._closed = False
        self._details_tried = False

    @property
    def topics(self) -> list[str]:
        """The subscriptions this client keeps."""
        return [sub.topic for sub in self.session.subs.values()]

    async def run(self) -> None:
        """Connect/reconnect until `close()`; idle (no socket) while there is nothing to follow.

        Raises TopicError when the symbol details show a named precision out of range.
        """
        self._wanted = asyncio.Event()
        if self.session.subs or self._closed:
            self._wanted.set()
        await self._wanted.wait()
        if not self._closed:
            await self.learn_precisions()
        await self.handler.run()  # returns at once after close()

    async def learn_precisions(self, extra: Iterable[LegacySub] = ()) -> bool:
        """Fetch the symbol details once (when a symbol of the subscriptions, or of `extra`,
        has no known range), record every listed symbol's range and refit the subscriptions'
        precisions to them. True when ranges were learned by this call.

        A failed fetch is logged and reported as a FeedError; precisions then stay as asked.
        """
        if self._details_tried:
            return False
        subs = [*self.session.subs.values(), *extra]
        wanted = {sub.symbol for sub in subs if needs_range(sub)}
        if not wanted - set(self.config.precision_ranges):
            return False
        self._details_tried = True
        url = self.config.details_url()
        try:
            details = await load_details(url, self.config.details_timeout)
        except DetailsError as exc:
            text = f"symbol details unavailable from {url} ({exc}): precisions sent unchecked"
            log.warning("%s", text)
            self.on_event(FeedError(self.config.venue, text, request=url, warning=True))
            return False
        for symbol, entry in details.items():
            self.config.precision_ranges.setdefault(symbol, entry.precision_range)
        refit = [
            resolve_precision(sub, self.config.precision_ranges, self.config.default_precision)
            for sub in self.session.subs.values()
        ]
        await self.handler.send(self.session.add(refit))
        return True

    async def close(self) -> None:
        """Close the socket and stop reconnecting (also while waiting for a connection slot)."""
        self._closed = True
        if self._wanted is not None:
            self._wanted.set()
        await self.handler.close()

    async def subscribe(self, topics: list[str]) -> None:
        """Add subscriptions (`channel:SYMBOL[:param]` or bare channels for every symbol).

        While running, a symbol without a known precision range first has the symbol details
        fetched (once per client).
        """
        subs = expand_legacy_topics(self.config, topics)
        if self._wanted is not None and not self._closed and await self.learn_precisions(subs):
            subs = expand_legacy_topics(self.config, topics)
        frames = self.session.add(subs)
        if self._wanted is not None and self.session.subs:
            self._wanted.set()
        await self.handler.send(frames)

    async def unsubscribe(self, topics: list[str]) -> None:
        """Remove subscriptions; unsubscribe mirrors subscribe."""
        await self.handler.send(self.session.remove(expand_legacy_topics(self.config, topics)))

    async def set_precision(self, symbol: str, precision: int) -> None:
        """Regroup one symbol's order book at another price precision."""
        await self.subscribe([f"{c.LEGACY_CH_ORDER}:{symbol}:{precision}"])

    def request_fresh_book(self, symbol: str, reason: str) -> bool:
        """Nothing to request: every depth push is the whole book, so the next one replaces a
        crossed book. Always False."""
        return False

    def snapshot_stats(self) -> LegacyClientStats:
        """Current counters."""
        self.stats.gate_waits = self.gate.waits
        return self.stats


__all__ = [
    "BitmartLegacyClient",
    "BitmartLegacyConfig",
    "LegacyClientStats",
    "LegacySession",
    "expand_legacy_topics",
]
