"""Parser for the current v3 spot feed: raw frame (text or raw-DEFLATE binary) → events.

Text frames are `pong`, acks `{"event","topic"}`, errors `{"errorCode","errorMessage"}` or
(rarely) uncompressed data; binary frames are raw-DEFLATE JSON data pushes
`{"table","data":[...]}`. `spot/depth/increase100` runs the version-gap logic and asks the
client for a fresh snapshot (`V3Parsed.requests`) when a version is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.feeds.bitmart import constants as c
from app.feeds.bitmart.deflate import InflateError, inflate
from app.feeds.bitmart.depth_increase import DepthVersionTracker, Verdict
from app.feeds.bitmart.frames import (
    SIDES,
    MalformedFrameError,
    ParserStats,
    best_first,
    exact_level,
    percent,
    short,
)
from app.feeds.bitmart.numbers import BadNumberError, loads, opt_float, to_decimal, to_float, to_int
from app.feeds.events import (
    Bar,
    Bars,
    BookLevels,
    Event,
    FeedError,
    PriceSize,
    Quote,
    Resync,
    SubscriptionAck,
    Ticker,
    Trade,
    Trades,
)


@dataclass(slots=True)
class V3Parsed:
    """What one frame produced: events, pong flag, snapshot requests, and the decoded text."""

    events: list[Event] = field(default_factory=list)
    pong: bool = False
    requests: list[str] = field(default_factory=list)
    text: str = ""


@dataclass(slots=True)
class V3ParserStats(ParserStats):
    """Counters of the v3 parser."""

    binary: int = 0
    gaps: int = 0
    dropped_before_snapshot: int = 0
    stale_updates: int = 0


class V3Parser:
    """Stateful parser: per-symbol depth versions."""

    def __init__(self, venue: str = c.VENUE_V3) -> None:
        self.venue = venue
        self.stats = V3ParserStats()
        self._depth: dict[str, DepthVersionTracker] = {}

    def reset(self) -> None:
        """A new connection: every incremental book waits for its snapshot again."""
        for tracker in self._depth.values():
            tracker.invalidate()

    def expect_snapshot(self, symbol: str) -> None:
        """A subscribe/request was sent: the symbol's book restarts from the next snapshot."""
        self._tracker(symbol).invalidate()

    def depth_version(self, symbol: str) -> int | None:
        """The local increase100 version of a symbol (None while waiting for a snapshot)."""
        tracker = self._depth.get(symbol)
        return None if tracker is None else tracker.version

    def parse(self, frame: str | bytes, received_at: float) -> V3Parsed:
        """Parse one frame. Never raises on bad input: problems become FeedError events."""
        self.stats.messages += 1
        if isinstance(frame, bytes | bytearray | memoryview):
            self.stats.binary += 1
            try:
                text = inflate(bytes(frame))
            except InflateError as exc:
                self.stats.malformed += 1
                return V3Parsed([FeedError(self.venue, str(exc))])
        else:
            text = frame
        if text == c.V3_PONG:
            return V3Parsed(pong=True, text=text)
        try:
            msg = loads(text)
        except ValueError as exc:
            self.stats.malformed += 1
            return V3Parsed([FeedError(self.venue, f"malformed frame: {exc}")], text=text)
        try:
            result = self.parse_message(msg)
        except (
            MalformedFrameError,
            BadNumberError,
            KeyError,
            TypeError,
            IndexError,
            ValueError,
        ) as exc:
            self.stats.malformed += 1
            table = msg.get(c.V3_F_TABLE, "?") if isinstance(msg, dict) else "?"
            detail = f"malformed {table} frame: {type(exc).__name__}: {exc}"
            result = V3Parsed([FeedError(self.venue, detail, request=short(msg))])
        result.text = text
        return result

    def parse_message(self, msg: Any) -> V3Parsed:
        """Route one decoded object."""
        if not isinstance(msg, dict):
            raise MalformedFrameError(f"expected an object, got {type(msg).__name__}")
        if c.V3_F_ERROR_CODE in msg or c.V3_F_ERROR_MESSAGE in msg:
            self.stats.errors += 1
            return V3Parsed([_error_event(self.venue, msg)])
        if c.V3_F_TABLE in msg:
            return self._data(msg)
        event = msg.get(c.V3_F_EVENT)
        if event in (c.V3_OP_SUBSCRIBE, c.V3_OP_UNSUBSCRIBE):
            topic = msg.get(c.V3_F_TOPIC)
            if not isinstance(topic, str):
                raise MalformedFrameError("ack without topic")
            return V3Parsed([SubscriptionAck(self.venue, topic, event, True)])
        self.stats.unknown += 1
        return V3Parsed([FeedError(self.venue, f"unknown frame: {short(msg)}")])

    def _data(self, msg: dict[str, Any]) -> V3Parsed:
        table = str(msg[c.V3_F_TABLE]).split(":", 1)[0]
        rows = msg.get(c.V3_F_DATA)
        if not isinstance(rows, list):
            raise MalformedFrameError("data must be an array")
        if not rows:
            return V3Parsed()
        if table == c.V3_CH_TICKER:
            events: list[Event] = []
            for row in rows:
                events.extend(self._ticker(row))
            return V3Parsed(events)
        if table == c.V3_CH_TRADE:
            return V3Parsed(self._trades(rows))
        if table == c.V3_CH_DEPTH_INCREASE:
            out = V3Parsed()
            for row in rows:
                self._increase(row, out)
            return out
        if table in c.V3_DEPTH_SNAPSHOT_CHANNELS:
            return V3Parsed([self._book(row, snapshot=True) for row in rows])
        if table.startswith(c.V3_CH_KLINE_PREFIX):
            interval = table[len(c.V3_CH_KLINE_PREFIX) :]
            timeframe = c.V3_KLINE_TIMEFRAME.get(interval)
            if timeframe is not None:
                return V3Parsed(self._klines(rows, timeframe))
        self.stats.unknown += 1
        return V3Parsed([FeedError(self.venue, f"unknown table {table!r}")])

    def _ticker(self, row: dict[str, Any]) -> list[Event]:
        symbol = _symbol(row)
        ts = _row_time(row)
        change = percent(row.get("fluctuation"))
        events: list[Event] = [
            Ticker(
                venue=self.venue,
                symbol=symbol,
                last=to_float(row["last_price"], "last_price"),
                change_pct=change,
                high=opt_float(row.get("high_24h"), "high_24h"),
                low=opt_float(row.get("low_24h"), "low_24h"),
                volume=opt_float(row.get("base_volume_24h"), "base_volume_24h"),
                quote_volume=opt_float(row.get("quote_volume_24h"), "quote_volume_24h"),
                timestamp=ts,
            )
        ]
        if "bid_px" in row or "ask_px" in row:
            events.append(
                Quote(
                    venue=self.venue,
                    symbol=symbol,
                    bid_price=opt_float(row.get("bid_px"), "bid_px"),
                    bid_size=opt_float(row.get("bid_sz"), "bid_sz"),
                    ask_price=opt_float(row.get("ask_px"), "ask_px"),
                    ask_size=opt_float(row.get("ask_sz"), "ask_sz"),
                    timestamp=ts,
                )
            )
        return events

    def _klines(self, rows: list[Any], timeframe: str) -> list[Event]:
        by_symbol: dict[str, list[Bar]] = {}
        for row in rows:
            candle = row["candle"]
            if not isinstance(candle, list) or len(candle) < 6:
                raise MalformedFrameError(f"candle must have 6 fields: {candle!r}")
            bar = Bar(
                open_time=float(to_int(candle[0], "candle time")),
                open=to_float(candle[1], "open"),
                high=to_float(candle[2], "high"),
                low=to_float(candle[3], "low"),
                close=to_float(candle[4], "close"),
                volume=to_float(candle[5], "volume"),
            )
            by_symbol.setdefault(_symbol(row), []).append(bar)
        return [Bars(self.venue, sym, timeframe, bars) for sym, bars in by_symbol.items()]

    def _trades(self, rows: list[Any]) -> list[Event]:
        by_symbol: dict[str, list[Trade]] = {}
        for row in rows:
            side = row["side"]
            if side not in SIDES:
                raise MalformedFrameError(f"unknown side {side!r}")
            price = to_decimal(row["price"], "price")
            size = to_decimal(row["size"], "size")
            ts = _row_time(row)
            if ts is None:
                raise MalformedFrameError("trade without time")
            trade = Trade(
                venue=self.venue,
                symbol=_symbol(row),
                side=SIDES[side],
                price=float(price),
                size=float(size),
                timestamp=ts,
                trade_id=None,
                notional=float(price * size),
            )
            by_symbol.setdefault(trade.symbol, []).append(trade)
        return [
            Trades(self.venue, sym, sorted(trades, key=lambda t: t.timestamp))
            for sym, trades in by_symbol.items()
        ]

    def _book(self, row: dict[str, Any], snapshot: bool) -> BookLevels:
        symbol = _symbol(row)
        bids = _levels(row.get("bids", []), descending=True, allow_zero=not snapshot)
        asks = _levels(row.get("asks", []), descending=False, allow_zero=not snapshot)
        return BookLevels(self.venue, symbol, bids, asks, snapshot, timestamp=_row_time(row))

    def _increase(self, row: dict[str, Any], out: V3Parsed) -> None:
        symbol = _symbol(row)
        version = to_int(row["version"], "version")
        kind = row.get("type")
        tracker = self._tracker(symbol)
        if kind == c.V3_DEPTH_TYPE_SNAPSHOT:
            book = self._book(row, snapshot=True)
            tracker.on_snapshot(version)
            out.events.append(book)
            return
        if kind != c.V3_DEPTH_TYPE_UPDATE:
            raise MalformedFrameError(f"unknown depth type {kind!r}")
        book = self._book(row, snapshot=False)
        before = tracker.version
        verdict = tracker.on_update(version)
        if verdict is Verdict.APPLY:
            if book.bids or book.asks:
                out.events.append(book)
        elif verdict is Verdict.STALE:
            self.stats.stale_updates += 1
        elif verdict is Verdict.WAITING:
            self.stats.dropped_before_snapshot += 1
        elif verdict is Verdict.GAP:
            self.stats.gaps += 1
            reason = f"version gap: local {before}, received {version}"
            out.events.append(Resync(self.venue, c.V3_CH_DEPTH_INCREASE, symbol, reason))
            out.requests.append(f"{c.V3_CH_DEPTH_INCREASE}:{symbol}")

    def _tracker(self, symbol: str) -> DepthVersionTracker:
        tracker = self._depth.get(symbol)
        if tracker is None:
            tracker = self._depth[symbol] = DepthVersionTracker()
        return tracker


def _error_event(venue: str, msg: dict[str, Any]) -> FeedError:
    code = msg.get(c.V3_F_ERROR_CODE)
    text = msg.get(c.V3_F_ERROR_MESSAGE) or c.V3_ERROR_MESSAGES.get(str(code), "error")
    status: int | None = None
    if isinstance(code, int) and not isinstance(code, bool):
        status = code
    elif isinstance(code, str) and code.isdigit():
        status = int(code)
    event = msg.get(c.V3_F_EVENT)
    prefix = f"{event}: " if isinstance(event, str) and event else ""
    return FeedError(venue, f"{prefix}{text} ({code})", status=status, request=short(msg))


def _symbol(row: Any) -> str:
    if not isinstance(row, dict):
        raise MalformedFrameError("data element must be an object")
    symbol = row.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        raise MalformedFrameError("missing symbol")
    return symbol


def _row_time(row: dict[str, Any]) -> float | None:
    if row.get("ms_t") is not None:
        return float(to_decimal(row["ms_t"], "ms_t") / 1000)
    if row.get("s_t") is not None:
        return float(to_decimal(row["s_t"], "s_t"))
    return None


def _levels(rows: Any, descending: bool, allow_zero: bool) -> list[PriceSize]:
    """Exact-parsed, best-first levels from `[[price, qty], ...]`."""
    if not isinstance(rows, list):
        raise MalformedFrameError("book side must be a list")
    exact: list[tuple[Decimal, Decimal]] = []
    for row in rows:
        if not isinstance(row, list) or len(row) < 2:
            raise MalformedFrameError(f"level must be [price, qty]: {row!r}")
        price, qty = exact_level(row[0], row[1], "qty")
        if qty == 0 and not allow_zero:
            continue  # a snapshot lists live levels only
        exact.append((price, qty))
    return best_first(exact, descending)
