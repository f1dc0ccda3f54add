"""Simulator front-end speaking the current BitMart v3 spot protocol.

Quirks reproduced: `{"op","args"}` requests with at most 20 args and 115 topics per
connection; text acks `{"event","topic"}` and errors `{"event","errorCode","errorMessage"}`;
every data push is a raw-DEFLATE binary frame; text `ping` → `pong`; a connection with no
client message for `idle_timeout` s is closed; more than `max_messages` per `message_window`
s closes with 90007; more than `connects_per_window` connects per window or `max_connections`
open sockets from one IP are refused (94001/94002). `spot/depth/increase100` sends a snapshot
with a version, then one update per push interval with version + 1 (absolute sizes, 0 removes),
idle updates repeating the version, and fresh snapshots on `op:request`; `gap(symbol)`
skips a version on demand.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from app.feeds.bitmart import constants as c
from app.feeds.bitmart.deflate import deflate
from app.feeds.bitmart.subscriptions import encode
from app.feeds.events import Side
from app.sim.bitmart.market import BitmartMarket

CLOSE_POLICY = 1008


@dataclass
class V3SimOptions:
    """Timings and limits of the v3 front-end (shortened in tests)."""

    idle_timeout: float = c.V3_IDLE_DISCONNECT
    lifeless_after: float = c.V3_LIFELESS_AFTER
    max_messages: int = c.V3_MAX_MESSAGES_PER_WINDOW
    message_window: float = c.V3_MESSAGE_WINDOW
    connects_per_window: int = c.V3_MAX_CONNECTS_PER_WINDOW
    connect_window: float = c.V3_CONNECT_WINDOW
    max_connections: int = c.V3_MAX_CONNECTIONS_PER_IP
    max_topics: int = c.V3_MAX_TOPICS_PER_CONNECTION
    snapshot_interval: float = 0.5
    increase_interval: float = 0.1
    idle_update_after: float = 1.0


@dataclass(eq=False)
class V3Conn:
    """One client connection."""

    ws: ServerConnection
    ip: str
    topics: set[str] = field(default_factory=set)
    received: deque[float] = field(default_factory=deque)
    last_rx: float = 0.0
    opened: float = 0.0
    sent_version: dict[str, int] = field(default_factory=dict)
    sent_print_seq: dict[str, int] = field(default_factory=dict)
    sent_book_seq: dict[str, int] = field(default_factory=dict)
    sent_candle: dict[tuple[str, int], tuple[Any, ...]] = field(default_factory=dict)
    sent_ticker: dict[str, tuple[Any, ...]] = field(default_factory=dict)


@dataclass
class V3FrontStats:
    """What the front-end saw."""

    connections: int = 0
    refused: int = 0
    closed_idle: int = 0
    closed_rate: int = 0
    errors_sent: int = 0
    snapshot_requests: int = 0
    gaps: int = 0
    binary_frames: int = 0


class V3Front:
    """The v3 spot protocol over a `BitmartMarket`."""

    def __init__(
        self,
        market: BitmartMarket,
        options: V3SimOptions,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.market = market
        self.options = options
        self.clock = clock
        self.wall = wall
        self.conns: set[V3Conn] = set()
        self.stats = V3FrontStats()
        self._connects: dict[str, deque[float]] = {}
        self._last_increase = 0.0
        self._last_snapshot = 0.0
        self._last_idle: dict[str, float] = {}
        self._published: dict[str, int] = {}
        self.paused = False
        self.malformed_next = 0

    # --- connection -----------------------------------------------------------------------
    async def handle(self, ws: ServerConnection) -> None:
        """Serve one connection."""
        ip = str(ws.remote_address[0]) if ws.remote_address else "?"
        now = self.clock()
        history = self._connects.setdefault(ip, deque())
        while history and history[0] <= now - self.options.connect_window:
            history.popleft()
        history.append(now)
        open_here = sum(1 for conn in self.conns if conn.ip == ip)
        code = None
        if len(history) > self.options.connects_per_window:
            code = c.V3_ERR_RECONNECT_RATE
        elif open_here >= self.options.max_connections:
            code = c.V3_ERR_TOO_MANY_CONNECTIONS
        if code is not None:
            self.stats.refused += 1
            await self._error(ws, "connect", code)
            await ws.close(CLOSE_POLICY, c.V3_ERROR_MESSAGES[code][:100])
            return
        self.stats.connections += 1
        conn = V3Conn(ws, ip, last_rx=now, opened=now)
        self.conns.add(conn)
        try:
            async for raw in ws:
                conn.last_rx = self.clock()
                if self.paused:
                    continue
                if not await self._on_message(conn, raw):
                    break
        except ConnectionClosed:
            pass
        finally:
            self.conns.discard(conn)

    async def _error(self, ws: ServerConnection, event: str, code: str) -> None:
        self.stats.errors_sent += 1
        msg = {
            c.V3_F_EVENT: event,
            c.V3_F_ERROR_CODE: code,
            c.V3_F_ERROR_MESSAGE: c.V3_ERROR_MESSAGES[code],
        }
        with contextlib.suppress(ConnectionClosed):
            await ws.send(encode(msg))

    async def _on_message(self, conn: V3Conn, raw: str | bytes) -> bool:
        """Handle one client message; False when the connection was closed for it."""
        now = self.clock()
        conn.received.append(now)
        while conn.received and conn.received[0] <= now - self.options.message_window:
            conn.received.popleft()
        if len(conn.received) > self.options.max_messages:
            self.stats.closed_rate += 1
            await self._error(conn.ws, "subscribe", c.V3_ERR_MESSAGE_RATE)
            await conn.ws.close(CLOSE_POLICY, "message rate")
            return False
        if raw == c.V3_PING:
            await conn.ws.send(c.V3_PONG)
            return True
        try:
            msg = json.loads(raw)
        except ValueError:
            await self._error(conn.ws, "", c.V3_ERR_INVALID_FORMAT)
            return True
        if not isinstance(msg, dict):
            await self._error(conn.ws, "", c.V3_ERR_INVALID_FORMAT)
            return True
        op = msg.get(c.V3_F_OP)
        args = msg.get(c.V3_F_ARGS)
        if op not in (c.V3_OP_SUBSCRIBE, c.V3_OP_UNSUBSCRIBE, c.V3_OP_REQUEST):
            await self._error(conn.ws, str(op or ""), c.V3_ERR_INVALID_OP)
            return True
        if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
            await self._error(conn.ws, op, c.V3_ERR_INVALID_ARGS)
            return True
        if len(args) > c.V3_MAX_ARGS_PER_MESSAGE:
            await self._error(conn.ws, op, c.V3_ERR_TOO_MANY_ARGS)
            return True
        for topic in args:
            code = self._check_topic(topic)
            if code is not None:
                await self._error(conn.ws, op, code)
                return True
        if op == c.V3_OP_SUBSCRIBE:
            await self._subscribe(conn, args)
        elif op == c.V3_OP_UNSUBSCRIBE:
            for topic in args:
                conn.topics.discard(topic)
                await conn.ws.send(encode({c.V3_F_EVENT: op, c.V3_F_TOPIC: topic}))
        else:
            for topic in args:
                channel, _, symbol = topic.partition(":")
                if channel != c.V3_CH_DEPTH_INCREASE or topic not in conn.topics:
                    await self._error(conn.ws, op, c.V3_ERR_INVALID_SUBSCRIPTION)
                    continue
                self.stats.snapshot_requests += 1
                await self._send_data(conn, self._increase_snapshot(conn, symbol))
        return True

    def _check_topic(self, topic: str) -> str | None:
        channel, sep, symbol = topic.partition(":")
        if not sep or channel not in c.V3_CHANNELS:
            return c.V3_ERR_INVALID_CHANNEL
        if symbol not in self.market.views:
            return c.V3_ERR_INVALID_SYMBOL
        return None

    async def _subscribe(self, conn: V3Conn, topics: list[str]) -> None:
        new = [t for t in topics if t not in conn.topics]
        if len(new) < len(topics):
            await self._error(conn.ws, c.V3_OP_SUBSCRIBE, c.V3_ERR_DUPLICATE)
        if len(conn.topics) + len(new) > self.options.max_topics:
            await self._error(conn.ws, c.V3_OP_SUBSCRIBE, c.V3_ERR_TOO_MANY_TOPICS)
            return
        for topic in new:
            conn.topics.add(topic)
            await conn.ws.send(encode({c.V3_F_EVENT: c.V3_OP_SUBSCRIBE, c.V3_F_TOPIC: topic}))
        for topic in new:
            frame = self._initial(conn, topic)
            if frame is not None:
                await self._send_data(conn, frame)

    async def _send_data(self, conn: V3Conn, msg: dict[str, Any]) -> None:
        """One data push as a raw-DEFLATE binary frame."""
        self.stats.binary_frames += 1
        if self.malformed_next > 0:
            self.malformed_next -= 1
            await conn.ws.send(b"\x00not deflate")
        await conn.ws.send(deflate(encode(msg)))

    # --- payloads -----------------------------------------------------------------------------
    def _initial(self, conn: V3Conn, topic: str) -> dict[str, Any] | None:
        channel, _, symbol = topic.partition(":")
        if channel == c.V3_CH_DEPTH_INCREASE:
            return self._increase_snapshot(conn, symbol)
        if channel == c.V3_CH_TRADE:
            conn.sent_print_seq[symbol] = self.market.views[symbol].print_seq
            return None
        return self._snapshot_payload(conn, channel, symbol, force=True)

    def _snapshot_payload(
        self, conn: V3Conn, channel: str, symbol: str, force: bool
    ) -> dict[str, Any] | None:
        mt = self.market
        view = mt.views[symbol]
        ms = int(self.wall() * 1000)
        if channel == c.V3_CH_TICKER:
            t = mt.ticker(symbol)
            bid = mt.levels(symbol, "Buy", 1)
            ask = mt.levels(symbol, "Sell", 1)
            key = (*t.values(), *bid, *ask)
            if not force and conn.sent_ticker.get(symbol) == key:
                return None
            conn.sent_ticker[symbol] = key
            row: dict[str, Any] = {
                "symbol": symbol,
                "last_price": mt.price_text(symbol, t["last"]),
                "open_24h": mt.price_text(symbol, t["open"]),
                "high_24h": mt.price_text(symbol, t["high"]),
                "low_24h": mt.price_text(symbol, t["low"]),
                "base_volume_24h": mt.qty_text(t["base_volume"]),
                "quote_volume_24h": str(t["quote_volume"]),
                "fluctuation": str(t["fluctuation"]),
                "s_t": ms // 1000,
                "ms_t": ms,
            }
            if bid:
                row["bid_px"] = mt.price_text(symbol, bid[0][0])
                row["bid_sz"] = mt.qty_text(bid[0][1])
            if ask:
                row["ask_px"] = mt.price_text(symbol, ask[0][0])
                row["ask_sz"] = mt.qty_text(ask[0][1])
            return {c.V3_F_DATA: [row], c.V3_F_TABLE: channel}
        if channel in c.V3_DEPTH_SNAPSHOT_CHANNELS:
            if not force and conn.sent_book_seq.get(channel + symbol) == view.book_seq:
                return None
            conn.sent_book_seq[channel + symbol] = view.book_seq
            n = int(channel[len(c.V3_CH_DEPTH_PREFIX) :])
            row = {
                "asks": self._levels(symbol, "Sell", n),
                "bids": self._levels(symbol, "Buy", n),
                "symbol": symbol,
                "ms_t": ms,
            }
            return {c.V3_F_TABLE: channel, c.V3_F_DATA: [row]}
        interval = channel[len(c.V3_CH_KLINE_PREFIX) :]
        seconds = c.V3_KLINE_SECONDS.get(interval)
        if seconds is None:  # 1M: calendar months are out of the simulator's scope
            seconds = 30 * 86400
        candle = mt.candle(symbol, seconds, self.wall())
        key = (candle.open_time, candle.open, candle.high, candle.low, candle.close, candle.volume)
        if not force and conn.sent_candle.get((symbol, seconds)) == key:
            return None
        conn.sent_candle[(symbol, seconds)] = key
        values = [candle.open, candle.high, candle.low, candle.close]
        fields: list[Any] = [candle.open_time, *(mt.price_text(symbol, v) for v in values)]
        fields.append(mt.qty_text(candle.volume))
        return {c.V3_F_DATA: [{"candle": fields, "symbol": symbol}], c.V3_F_TABLE: channel}

    def _levels(self, symbol: str, side: Side, n: int | None) -> list[list[str]]:
        mt = self.market
        return [[mt.price_text(symbol, p), mt.qty_text(q)] for p, q in mt.levels(symbol, side, n)]

    def _increase_snapshot(self, conn: V3Conn, symbol: str) -> dict[str, Any]:
        view = self.market.views[symbol]
        conn.sent_version[symbol] = view.version
        row = {
            "asks": self._levels(symbol, "Sell", c.V3_DEPTH_INCREASE_LEVELS),
            "bids": self._levels(symbol, "Buy", c.V3_DEPTH_INCREASE_LEVELS),
            "ms_t": int(self.wall() * 1000),
            "symbol": symbol,
            "type": c.V3_DEPTH_TYPE_SNAPSHOT,
            "version": view.version,
        }
        return {c.V3_F_DATA: [row], c.V3_F_TABLE: c.V3_CH_DEPTH_INCREASE}

    # --- publishing -----------------------------------------------------------------------
    async def publish(self) -> None:
        """Push what changed (called often; each channel keeps its own cadence)."""
        now = self.clock()
        await self._close_idle(now)
        if self.paused:
            return
        if now - self._last_increase >= self.options.increase_interval:
            self._last_increase = now
            await self._publish_increase(now)
            await self._publish_trades()
        if now - self._last_snapshot >= self.options.snapshot_interval:
            self._last_snapshot = now
            for conn in list(self.conns):
                for topic in list(conn.topics):
                    channel, _, symbol = topic.partition(":")
                    if channel in (c.V3_CH_TRADE, c.V3_CH_DEPTH_INCREASE):
                        continue
                    msg = self._snapshot_payload(conn, channel, symbol, force=False)
                    if msg is not None:
                        await self._safe_send(conn, msg)

    async def _publish_increase(self, now: float) -> None:
        mt = self.market
        for symbol in mt.views:
            changes = mt.take_pending(symbol)
            if changes is None:
                # idle message: empty sides, the version of the previous message
                if now - self._last_idle.get(symbol, 0.0) < self.options.idle_update_after:
                    continue
                version = self._published.get(symbol, mt.views[symbol].version)
                changes = []
            else:
                version = self._published[symbol] = mt.views[symbol].version
            self._last_idle[symbol] = now
            row = {
                "asks": [
                    [mt.price_text(symbol, p), mt.qty_text(q)] for s, p, q in changes if s == "Sell"
                ],
                "bids": [
                    [mt.price_text(symbol, p), mt.qty_text(q)] for s, p, q in changes if s == "Buy"
                ],
                "ms_t": int(self.wall() * 1000),
                "symbol": symbol,
                "type": c.V3_DEPTH_TYPE_UPDATE,
                "version": version,
            }
            msg = {c.V3_F_DATA: [row], c.V3_F_TABLE: c.V3_CH_DEPTH_INCREASE}
            topic = f"{c.V3_CH_DEPTH_INCREASE}:{symbol}"
            for conn in list(self.conns):
                if topic in conn.topics:
                    await self._safe_send(conn, msg)

    async def _publish_trades(self) -> None:
        mt = self.market
        for conn in list(self.conns):
            for topic in list(conn.topics):
                channel, _, symbol = topic.partition(":")
                if channel != c.V3_CH_TRADE:
                    continue
                view = mt.views[symbol]
                sent = conn.sent_print_seq.get(symbol, view.print_seq)
                new = view.print_seq - sent
                conn.sent_print_seq[symbol] = view.print_seq
                if new <= 0:
                    continue
                prints = list(view.prints)[-new:]
                rows = [
                    {
                        "symbol": symbol,
                        "price": mt.price_text(symbol, p.price),
                        "side": p.side.lower(),
                        "size": mt.qty_text(p.qty),
                        "s_t": p.time_ms // 1000,
                        "ms_t": p.time_ms,
                    }
                    for p in prints
                ]
                await self._safe_send(conn, {c.V3_F_TABLE: c.V3_CH_TRADE, c.V3_F_DATA: rows})

    async def _safe_send(self, conn: V3Conn, msg: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self._send_data(conn, msg)

    async def _close_idle(self, now: float) -> None:
        for conn in list(self.conns):
            idle = now - conn.last_rx >= self.options.idle_timeout
            lifeless = not conn.topics and now - conn.opened >= self.options.lifeless_after
            if idle or lifeless:
                self.stats.closed_idle += 1
                self.conns.discard(conn)
                with contextlib.suppress(Exception):
                    await conn.ws.close(CLOSE_POLICY, "idle" if idle else "lifeless")

    # --- faults -----------------------------------------------------------------------------
    def gap(self, symbol: str, count: int = 1) -> None:
        """Skip `count` increase100 versions of a symbol (every subscriber sees a gap)."""
        self.stats.gaps += 1
        self.market.skip_version(symbol, count)

    async def drop_connections(self) -> None:
        """Close every client connection."""
        for conn in list(self.conns):
            with contextlib.suppress(Exception):
                await conn.ws.close(1012, "simulated restart")
