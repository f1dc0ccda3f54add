"""Parser for the legacy openws feed: raw text frame → normalized events.

Every inbound object is `{subscribe, symbol, [precision|step], data}` routed on `subscribe`
(`pong`, `price`, `kline`, `depth`, `trade`); an object with `message` is an error. The first
reply of a subscription doubles as its acknowledgement. Depth pushes replace the top-N book;
trade pushes (newest first, no id) are de-duplicated and emitted oldest first; kline pushes
are bucketed by time. Numbers are read exactly (Decimal) and converted to float at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.feeds.bitmart import constants as c
from app.feeds.bitmart.frames import (
    SIDES,
    MalformedFrameError,
    ParserStats,
    best_first,
    exact_level,
    percent,
    short,
)
from app.feeds.bitmart.kline_bucket import KlineBucketer
from app.feeds.bitmart.numbers import (
    BadNumberError,
    loads,
    ms_to_seconds,
    opt_float,
    split_unit,
    to_decimal,
    to_float,
    to_int,
)
from app.feeds.bitmart.trade_dedup import TradeDeduper, TradeKey
from app.feeds.events import (
    Bar,
    Bars,
    BookLevels,
    Event,
    FeedError,
    PriceSize,
    SubscriptionAck,
    Ticker,
    Trade,
    Trades,
)


@dataclass(slots=True)
class LegacyTicker(Ticker):
    """Legacy price channel ticker, plus `rate` (the base coin's fiat value) and its unit."""

    rate: float | None = None
    rate_unit: str | None = None


@dataclass(slots=True)
class LegacyParsed:
    """What one frame produced: events, and whether it was the ping channel's pong."""

    events: list[Event] = field(default_factory=list)
    pong: bool = False


@dataclass(slots=True)
class LegacyParserStats(ParserStats):
    """Counters of the legacy parser."""

    dropped: int = 0


class LegacyParser:
    """Stateful parser: subscription parameters, trade de-duplication, kline buckets."""

    def __init__(self, venue: str = c.VENUE_LEGACY, *, accept_all: bool = False) -> None:
        """`accept_all` adopts every pair a frame names (replaying a recording)."""
        self.venue = venue
        self.accept_all = accept_all
        self.stats = LegacyParserStats()
        self._params: dict[tuple[str, str], int | None] = {}
        self._unacked: set[tuple[str, str]] = set()
        self._dedup: dict[str, TradeDeduper] = {}
        self._klines = KlineBucketer()

    # --- subscription bookkeeping (called by the client) -------------------------------------
    def expect(self, channel: str, symbol: str, param: int | None) -> None:
        """A subscribe was sent: its first reply is the ack; a new trade image follows."""
        self._params[(channel, symbol)] = param
        self._unacked.add((channel, symbol))
        if channel == c.LEGACY_CH_TRADE:
            self._deduper(symbol).reset()

    def forget(self, channel: str, symbol: str) -> None:
        """An unsubscribe was sent: later pushes of the pair are dropped."""
        self._params.pop((channel, symbol), None)
        self._unacked.discard((channel, symbol))

    def reset(self) -> None:
        """A new connection: every subscription starts over."""
        for deduper in self._dedup.values():
            deduper.reset()
        self._klines.reset()
        self._unacked = set(self._params)

    @property
    def duplicates(self) -> int:
        """Trades dropped as already seen."""
        return sum(d.duplicates for d in self._dedup.values())

    # --- parsing ------------------------------------------------------------------------------
    def parse(self, frame: str | bytes, received_at: float) -> LegacyParsed:
        """Parse one frame. Never raises on bad input: problems become FeedError events."""
        self.stats.messages += 1
        try:
            msg = loads(frame)
        except ValueError as exc:
            self.stats.malformed += 1
            return LegacyParsed([FeedError(self.venue, f"malformed frame: {exc}")])
        try:
            return self.parse_message(msg, received_at)
        except (MalformedFrameError, BadNumberError, KeyError, TypeError, IndexError) as exc:
            self.stats.malformed += 1
            text = f"malformed {_channel_of(msg)} frame: {type(exc).__name__}: {exc}"
            return LegacyParsed([FeedError(self.venue, text, request=short(msg))])

    def parse_message(self, msg: Any, received_at: float) -> LegacyParsed:
        """Route one decoded object."""
        if not isinstance(msg, dict):
            raise MalformedFrameError(f"expected an object, got {type(msg).__name__}")
        if c.LEGACY_KEY_ERROR in msg:
            self.stats.errors += 1
            return LegacyParsed(
                [FeedError(self.venue, str(msg[c.LEGACY_KEY_ERROR]), request=short(msg))]
            )
        if c.LEGACY_KEY_UNSUBSCRIBE in msg:
            topic = f"{msg[c.LEGACY_KEY_UNSUBSCRIBE]}:{msg.get(c.LEGACY_F_SYMBOL, '')}"
            return LegacyParsed([SubscriptionAck(self.venue, topic, "unsubscribe", True)])
        reply = msg.get(c.LEGACY_KEY_SUBSCRIBE)
        if reply == c.LEGACY_REPLY_PONG:
            return LegacyParsed(pong=True)
        channel = c.LEGACY_REQUEST_OF_REPLY.get(reply) if isinstance(reply, str) else None
        if channel is None or channel == c.LEGACY_CH_PING:
            self.stats.unknown += 1
            return LegacyParsed([FeedError(self.venue, f"unknown frame: {short(msg)}")])
        symbol = msg.get(c.LEGACY_F_SYMBOL)
        if not isinstance(symbol, str) or not symbol:
            raise MalformedFrameError("missing symbol")
        key = (channel, symbol)
        if key not in self._params and self.accept_all:
            self._params[key] = _param_of(channel, msg)
        if key not in self._params:
            self.stats.dropped += 1
            return LegacyParsed()
        data = msg.get(c.LEGACY_F_DATA)
        if not isinstance(data, dict):
            raise MalformedFrameError("data must be an object")
        if channel == c.LEGACY_CH_PRICE:
            events: list[Event] = [self._ticker(symbol, data)]
        elif channel == c.LEGACY_CH_KLINE:
            events = self._kline(symbol, msg, data)
        elif channel == c.LEGACY_CH_ORDER:
            events = self._depth(symbol, msg, data)
        else:
            events = self._trades(symbol, data)
        if events and key in self._unacked:
            self._unacked.discard(key)
            topic = _topic(channel, symbol, self._params.get(key))
            events.insert(0, SubscriptionAck(self.venue, topic, "subscribe", True))
        return LegacyParsed(events)

    def _ticker(self, symbol: str, data: dict[str, Any]) -> LegacyTicker:
        change = percent(data.get("fluctuation"))
        rate: float | None = None
        unit: str | None = None
        if data.get("rate") not in (None, ""):
            rate_dec, unit = split_unit(data["rate"], "rate")
            rate = float(rate_dec)
        ts = data.get("timestamp")
        return LegacyTicker(
            venue=self.venue,
            symbol=symbol,
            last=to_float(data["current_price"], "current_price"),
            change_pct=change,
            high=opt_float(data.get("highest_price"), "highest_price"),
            low=opt_float(data.get("lowest_price"), "lowest_price"),
            volume=None,
            quote_volume=opt_float(data.get("volume"), "volume"),
            timestamp=None if ts is None else ms_to_seconds(ts, "timestamp"),
            rate=rate,
            rate_unit=unit,
        )

    def _kline(self, symbol: str, msg: dict[str, Any], data: dict[str, Any]) -> list[Event]:
        step = to_int(msg.get(c.LEGACY_F_STEP, c.LEGACY_DEFAULT_STEP), "step")
        wanted = self._params.get((c.LEGACY_CH_KLINE, symbol))
        if wanted is not None and step != wanted:
            self.stats.dropped += 1
            return []
        timeframe = c.LEGACY_STEP_TIMEFRAME.get(step)
        if timeframe is None:
            raise MalformedFrameError(f"unknown kline step {step}")
        ts_ms = to_int(data["timestamp"], "timestamp")
        open_ms = self._klines.accept(symbol, step, ts_ms)
        if open_ms is None:
            return []
        bar = Bar(
            open_time=open_ms / 1000,
            open=to_float(data["open_price"], "open_price"),
            high=to_float(data["highest_price"], "highest_price"),
            low=to_float(data["lowest_price"], "lowest_price"),
            close=to_float(data["current_price"], "current_price"),
            volume=to_float(data["volume"], "volume"),
        )
        return [Bars(self.venue, symbol, timeframe, [bar])]

    def _depth(self, symbol: str, msg: dict[str, Any], data: dict[str, Any]) -> list[Event]:
        wanted = self._params.get((c.LEGACY_CH_ORDER, symbol))
        got = msg.get(c.LEGACY_F_PRECISION)
        if wanted is not None and got is not None and to_int(got, "precision") != wanted:
            self.stats.dropped += 1
            return []
        bids = _levels(data.get(c.LEGACY_F_BUYS, []), descending=True)
        asks = _levels(data.get(c.LEGACY_F_SELLS, []), descending=False)
        return [BookLevels(self.venue, symbol, bids, asks, snapshot=True)]

    def _trades(self, symbol: str, data: dict[str, Any]) -> list[Event]:
        rows = data.get(c.LEGACY_F_TRADES)
        if not isinstance(rows, list):
            raise MalformedFrameError("trades must be a list")
        parsed: list[tuple[TradeKey, Decimal]] = []
        for row in rows:
            side = row["side"]
            if side not in SIDES:
                raise MalformedFrameError(f"unknown side {side!r}")
            key = TradeKey(
                time_ms=to_int(row["time"], "time"),
                price=to_decimal(row["price"], "price"),
                qty=to_decimal(row["count"], "count"),
                side=side,
            )
            parsed.append((key, to_decimal(row["amount"], "amount")))
        deduper = self._deduper(symbol)
        snapshot = deduper.is_fresh
        fresh = deduper.new_trades([key for key, _ in parsed])
        # Wire order is newest first: walk backwards, then keep time order stable.
        ordered = sorted(fresh, key=lambda i: (parsed[i][0].time_ms, -i))
        trades = [
            Trade(
                venue=self.venue,
                symbol=symbol,
                side=SIDES[parsed[i][0].side],
                price=float(parsed[i][0].price),
                size=float(parsed[i][0].qty),
                timestamp=parsed[i][0].time_ms / 1000,
                trade_id=None,
                notional=float(parsed[i][1]),
            )
            for i in ordered
        ]
        if not trades and not snapshot:
            return []
        return [Trades(self.venue, symbol, trades, snapshot=snapshot)]

    def _deduper(self, symbol: str) -> TradeDeduper:
        deduper = self._dedup.get(symbol)
        if deduper is None:
            deduper = self._dedup[symbol] = TradeDeduper()
        return deduper


def _levels(rows: Any, descending: bool) -> list[PriceSize]:
    """Exact-parsed, best-first book levels from `[{price, amount, ...}]`."""
    if not isinstance(rows, list):
        raise MalformedFrameError("book side must be a list")
    return best_first([exact_level(r["price"], r["amount"], "amount") for r in rows], descending)


def _param_of(channel: str, msg: dict[str, Any]) -> int | None:
    """The precision or step a reply echoes."""
    name = c.LEGACY_F_STEP if channel == c.LEGACY_CH_KLINE else c.LEGACY_F_PRECISION
    value = msg.get(name)
    return None if value is None else to_int(value, name)


def _topic(channel: str, symbol: str, param: int | None) -> str:
    base = f"{channel}:{symbol}"
    return base if param is None else f"{base}:{param}"


def _channel_of(msg: Any) -> str:
    if isinstance(msg, dict):
        return str(msg.get(c.LEGACY_KEY_SUBSCRIBE, "?"))
    return "?"
