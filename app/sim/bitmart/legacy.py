"""Simulator front-end speaking the legacy BitMart openws protocol.

Quirks reproduced: JSON text frames with numbers as strings; the first reply of a subscription
is its data; `order` requests are answered on the `depth` channel with the top 20 levels
grouped at the requested precision (within the symbol's min/max); the trade channel pushes the
recent trades newest first, repeating trades already sent; kline pushes one candle object whose
`timestamp` is the push time; errors are objects with a `message`; a connection without a
subscribe within `subscribe_deadline` s is closed; connections from one IP closer than
`connect_interval` s apart are refused (error message, then close).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from app.feeds.bitmart import constants as c
from app.feeds.bitmart.subscriptions import encode
from app.feeds.events import Side
from app.sim.bitmart.market import BitmartMarket, SymbolView

DEPTH_LEVELS = 20
TRADE_IMAGE = 15
CLOSE_POLICY = 1008


@dataclass
class LegacySimOptions:
    """Timings and limits of the legacy front-end (shortened in tests)."""

    connect_interval: float = c.LEGACY_CONNECT_INTERVAL
    subscribe_deadline: float = c.LEGACY_SUBSCRIBE_DEADLINE
    push_interval: float = 0.5


@dataclass(eq=False)
class LegacyConn:
    """One client connection and its subscriptions."""

    ws: ServerConnection
    subs: dict[tuple[str, str], int | None] = field(default_factory=dict)
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    sent_print_seq: dict[str, int] = field(default_factory=dict)
    sent_candle: dict[tuple[str, int], tuple[Any, ...]] = field(default_factory=dict)
    sent_book_seq: dict[str, int] = field(default_factory=dict)
    sent_ticker: dict[str, tuple[Any, ...]] = field(default_factory=dict)


@dataclass
class LegacyFrontStats:
    """What the front-end saw."""

    connections: int = 0
    refused_rate_limit: int = 0
    closed_no_subscribe: int = 0
    errors_sent: int = 0
    messages_in: int = 0


class LegacyFront:
    """The legacy protocol over a `BitmartMarket`."""

    def __init__(
        self,
        market: BitmartMarket,
        options: LegacySimOptions,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.market = market
        self.options = options
        self.clock = clock
        self.wall = wall
        self.conns: set[LegacyConn] = set()
        self.stats = LegacyFrontStats()
        self._last_connect: dict[str, float] = {}
        self.paused = False

    # --- connection -----------------------------------------------------------------------
    async def handle(self, ws: ServerConnection) -> None:
        """Serve one connection."""
        ip = str(ws.remote_address[0]) if ws.remote_address else "?"
        now = self.clock()
        last = self._last_connect.get(ip)
        self._last_connect[ip] = now
        if last is not None and now - last < self.options.connect_interval:
            self.stats.refused_rate_limit += 1
            limit = self.options.connect_interval
            await self._error(ws, f"Connections are rate-limited to 1 per {limit:g} seconds per IP")
            await ws.close(CLOSE_POLICY, "connection rate limit")
            return
        self.stats.connections += 1
        conn = LegacyConn(ws)
        self.conns.add(conn)
        watchdog = asyncio.create_task(self._deadline(conn))
        try:
            async for raw in ws:
                self.stats.messages_in += 1
                if not self.paused:
                    await self._on_message(conn, raw)
        except ConnectionClosed:
            pass
        finally:
            watchdog.cancel()
            self.conns.discard(conn)

    async def _deadline(self, conn: LegacyConn) -> None:
        try:
            async with asyncio.timeout(self.options.subscribe_deadline):
                await conn.subscribed.wait()
        except TimeoutError:
            self.stats.closed_no_subscribe += 1
            deadline = self.options.subscribe_deadline
            with contextlib.suppress(ConnectionClosed):
                await self._error(conn.ws, f"no subscribe within {deadline:g} seconds")
                await conn.ws.close(CLOSE_POLICY, "subscribe deadline")

    async def _error(self, ws: ServerConnection, text: str, **extra: Any) -> None:
        self.stats.errors_sent += 1
        with contextlib.suppress(ConnectionClosed):
            await ws.send(encode({c.LEGACY_KEY_ERROR: text, **extra}))

    async def _on_message(self, conn: LegacyConn, raw: str | bytes) -> None:
        try:
            msg = json.loads(raw)
        except ValueError:
            await self._error(conn.ws, "invalid JSON")
            return
        if not isinstance(msg, dict):
            await self._error(conn.ws, "message must be a JSON object")
            return
        if c.LEGACY_KEY_UNSUBSCRIBE in msg:
            channel = msg[c.LEGACY_KEY_UNSUBSCRIBE]
            symbol = msg.get(c.LEGACY_F_SYMBOL)
            conn.subs.pop((str(channel), str(symbol)), None)
            reply = {c.LEGACY_KEY_UNSUBSCRIBE: channel, c.LEGACY_F_SYMBOL: symbol}
            await conn.ws.send(encode(reply))
            return
        channel = msg.get(c.LEGACY_KEY_SUBSCRIBE)
        if channel == c.LEGACY_CH_PING:
            await conn.ws.send(encode({c.LEGACY_KEY_SUBSCRIBE: c.LEGACY_REPLY_PONG}))
            return
        if channel not in c.LEGACY_DATA_CHANNELS:
            await self._error(conn.ws, f"unknown channel {channel!r}", subscribe=channel)
            return
        symbol = msg.get(c.LEGACY_F_SYMBOL)
        view = self.market.views.get(symbol) if isinstance(symbol, str) else None
        if view is None:
            await self._error(conn.ws, f"symbol not found: {symbol!r}", subscribe=channel)
            return
        param = self._param(channel, msg, view)
        if isinstance(param, str):
            await self._error(conn.ws, param, subscribe=channel, symbol=symbol)
            return
        conn.subs[(channel, view.symbol)] = param
        conn.subscribed.set()
        frame = self._frame(conn, channel, view, param, first=True)
        if frame is not None:
            await conn.ws.send(frame)

    @staticmethod
    def _param(channel: str, msg: dict[str, Any], view: SymbolView) -> int | str | None:
        """The subscription parameter, or an error text."""
        if channel == c.LEGACY_CH_KLINE:
            try:
                step = int(msg.get(c.LEGACY_F_STEP, c.LEGACY_DEFAULT_STEP))
            except (TypeError, ValueError):
                return "step must be an integer"
            return step if step in c.LEGACY_KLINE_STEPS else f"invalid step {step}"
        if channel in (c.LEGACY_CH_ORDER, c.LEGACY_CH_TRADE):
            raw = msg.get(c.LEGACY_F_PRECISION, view.max_precision)
            try:
                precision = int(raw)
            except (TypeError, ValueError):
                return "precision must be an integer"
            if not view.min_precision <= precision <= view.max_precision:
                low, high = view.min_precision, view.max_precision
                return f"precision {precision} out of range {low}..{high}"
            return precision
        return None

    # --- publishing -----------------------------------------------------------------------
    async def publish(self) -> None:
        """Push what changed to every subscriber (called every `push_interval`)."""
        if self.paused:
            return
        for conn in list(self.conns):
            for (channel, symbol), param in list(conn.subs.items()):
                view = self.market.views[symbol]
                frame = self._frame(conn, channel, view, param, first=False)
                if frame is None:
                    continue
                try:
                    await conn.ws.send(frame)
                except ConnectionClosed:
                    break

    def _frame(
        self, conn: LegacyConn, channel: str, view: SymbolView, param: int | None, first: bool
    ) -> str | None:
        symbol = view.symbol
        if channel == c.LEGACY_CH_PRICE:
            return self._price(conn, symbol, first)
        if channel == c.LEGACY_CH_KLINE:
            return self._kline(conn, symbol, param or c.LEGACY_DEFAULT_STEP, first)
        if channel == c.LEGACY_CH_ORDER:
            if not first and conn.sent_book_seq.get(symbol) == view.book_seq:
                return None
            conn.sent_book_seq[symbol] = view.book_seq
            return self._depth(symbol, param if param is not None else view.max_precision)
        return self._trades(conn, view, param, first)

    def _price(self, conn: LegacyConn, symbol: str, first: bool) -> str | None:
        t = self.market.ticker(symbol)
        key = tuple(t.values())
        if not first and conn.sent_ticker.get(symbol) == key:
            return None
        conn.sent_ticker[symbol] = key
        mt = self.market
        fluct = t["fluctuation"]
        sign = "+" if fluct >= 0 else ""
        data = {
            "open_price": mt.price_text(symbol, t["open"]),
            "highest_price": mt.price_text(symbol, t["high"]),
            "lowest_price": mt.price_text(symbol, t["low"]),
            "volume": mt.amount_text(t["quote_volume"]),
            "current_price": mt.price_text(symbol, t["last"]),
            "fluctuation": f"{sign}{fluct}",
            "rate": f"{t['last'].quantize(Decimal('0.01'))} USD",
            "timestamp": int(self.wall() * 1000),
        }
        return encode(
            {c.LEGACY_KEY_SUBSCRIBE: c.LEGACY_REPLY_PRICE, "symbol": symbol, "data": data}
        )

    def _kline(self, conn: LegacyConn, symbol: str, step: int, first: bool) -> str | None:
        now = self.wall()
        candle = self.market.candle(symbol, step * 60, now)
        key = (candle.open_time, candle.open, candle.high, candle.low, candle.close, candle.volume)
        if not first and conn.sent_candle.get((symbol, step)) == key:
            return None
        conn.sent_candle[(symbol, step)] = key
        mt = self.market
        data = {
            "open_price": mt.price_text(symbol, candle.open),
            "highest_price": mt.price_text(symbol, candle.high),
            "lowest_price": mt.price_text(symbol, candle.low),
            "volume": mt.qty_text(candle.volume),
            "current_price": mt.price_text(symbol, candle.close),
            "timestamp": int(now * 1000),
        }
        msg: dict[str, Any] = {
            c.LEGACY_KEY_SUBSCRIBE: c.LEGACY_REPLY_KLINE,
            "symbol": symbol,
            "step": str(step),
            "data": data,
        }
        return encode(msg)

    def _depth(self, symbol: str, precision: int) -> str:
        step = Decimal(1).scaleb(-precision)
        sides: dict[str, list[dict[str, str]]] = {}
        book_sides: tuple[tuple[str, Side], ...] = (
            (c.LEGACY_F_BUYS, "Buy"),
            (c.LEGACY_F_SELLS, "Sell"),
        )
        for key, side in book_sides:
            total = Decimal(0)
            rows = []
            for price, qty, count in self.market.grouped(symbol, side, precision, DEPTH_LEVELS):
                total += qty
                rows.append(
                    {
                        "amount": self.market.qty_text(qty),
                        "total": self.market.qty_text(total),
                        "price": str(price.quantize(step)),
                        "count": str(count),
                    }
                )
            sides[key] = rows
        msg = {
            c.LEGACY_KEY_SUBSCRIBE: c.LEGACY_REPLY_DEPTH,
            "symbol": symbol,
            "precision": precision,
            "data": sides,
        }
        return encode(msg)

    def _trades(
        self, conn: LegacyConn, view: SymbolView, precision: int | None, first: bool
    ) -> str | None:
        seq = view.print_seq
        sent = conn.sent_print_seq.get(view.symbol)
        if not first and sent == seq:
            return None
        conn.sent_print_seq[view.symbol] = seq
        # every new trade since the last push plus the image before it (repeats included)
        new = seq - sent if sent is not None else 0
        count = new + TRADE_IMAGE
        prints = list(view.prints)[-count:]
        mt = self.market
        rows = [
            {
                "side": p.side.lower(),
                "amount": mt.amount_text(p.price * p.qty),
                "price": mt.price_text(view.symbol, p.price),
                "count": mt.qty_text(p.qty),
                "time": p.time_ms,
            }
            for p in reversed(prints)
        ]
        msg = {
            c.LEGACY_KEY_SUBSCRIBE: c.LEGACY_REPLY_TRADE,
            "precision": precision,
            "symbol": view.symbol,
            "data": {"trades": rows},
        }
        return encode(msg)

    async def drop_connections(self) -> None:
        """Close every client connection (fault injection)."""
        for conn in list(self.conns):
            with contextlib.suppress(Exception):
                await conn.ws.close(1012, "simulated restart")
