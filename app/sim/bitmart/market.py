"""BitMart view of the simulator's venue-neutral market (`app.sim.market.exchange.Exchange`).

The exchange works in integer ticks and integer lots; BitMart speaks decimal strings. This
adapter listens to the exchange and keeps what both BitMart front-ends publish: exact
Decimal prices (ticks x tick size) and base quantities (lots x `QTY_STEP`), candles of any
interval built from the prints, the recent prints, the level changes not yet published to
`increase100` subscribers with their version counter, and the 24 h ticker figures.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from app.feeds.bitmart.numbers import decimal_text
from app.feeds.events import Side
from app.sim.market.events import BookChanged, SimEvent, TradesPrinted
from app.sim.market.exchange import Exchange
from app.sim.market.symbol import SymbolMarket

QTY_STEP = Decimal("0.001")
QTY_DECIMALS = 3
RECENT_PRINTS = 200
AMOUNT_QUANT = Decimal("0.00000001")
MAX_ORDER_LOTS = 10_000_000  # the largest order size the simulator's instruments list


@dataclass(slots=True)
class SimPrint:
    """One print in BitMart units."""

    side: Side
    price: Decimal
    qty: Decimal
    time_ms: int


@dataclass(slots=True)
class Candle:
    """One candle in BitMart units; `open_time` in epoch seconds."""

    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = Decimal(0)


@dataclass
class SymbolView:
    """Per-symbol BitMart state derived from the exchange."""

    symbol: str
    tick: Decimal
    decimals: int
    prints: deque[SimPrint] = field(default_factory=lambda: deque(maxlen=RECENT_PRINTS))
    print_seq: int = 0
    candles: dict[int, Candle] = field(default_factory=dict)
    pending: dict[tuple[Side, int], int] = field(default_factory=dict)
    version: int = 1
    book_seq: int = 0

    @property
    def min_precision(self) -> int:
        """Coarsest price grouping (decimal digits) the order channel accepts."""
        return max(0, self.decimals - 2)

    @property
    def max_precision(self) -> int:
        """Finest price grouping the order channel accepts."""
        return self.decimals + 4


class BitmartMarket:
    """Listens to an `Exchange` and exposes its markets in BitMart units."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.views: dict[str, SymbolView] = {}
        for symbol, m in exchange.markets.items():
            tick = Decimal(str(m.spec.tick_size))
            decimals = max(0, -int(tick.normalize().as_tuple().exponent))
            self.views[symbol] = SymbolView(symbol, tick, decimals)
        exchange.listeners.append(self._on_event)

    def close(self) -> None:
        """Stop listening to the exchange."""
        if self._on_event in self.exchange.listeners:
            self.exchange.listeners.remove(self._on_event)

    # --- conversions ------------------------------------------------------------------------
    def market(self, symbol: str) -> SymbolMarket:
        """The exchange's market of a symbol."""
        return self.exchange.markets[symbol]

    def price(self, symbol: str, ticks: int) -> Decimal:
        """Exact price of a tick count."""
        return ticks * self.views[symbol].tick

    @staticmethod
    def qty(lots: int) -> Decimal:
        """Exact base quantity of a lot count."""
        return lots * QTY_STEP

    def lot_qty(self, symbol: str) -> Decimal:
        """The smallest order size (one lot) in base units."""
        return self.qty(self.market(symbol).spec.lot_size)

    def currencies(self, symbol: str) -> tuple[str, str]:
        """(base, quote) currency: the halves of a BASE_QUOTE name, else the instrument's
        underlying and quote currency (XBTUSD → XBT, USD)."""
        base, sep, quote = symbol.partition("_")
        if sep and base and quote:
            return base, quote
        spec = self.market(symbol).spec
        return spec.underlying, spec.quote_currency

    def price_text(self, symbol: str, price: Decimal) -> str:
        """A price with the symbol's decimals, as BitMart writes it."""
        return decimal_text(price.quantize(Decimal(1).scaleb(-self.views[symbol].decimals)))

    @staticmethod
    def qty_text(qty: Decimal) -> str:
        """A quantity with fixed decimals."""
        return decimal_text(qty.quantize(QTY_STEP))

    @staticmethod
    def amount_text(value: Decimal) -> str:
        """A quote amount with 8 decimals."""
        return decimal_text(value.quantize(AMOUNT_QUANT))

    # --- book ---------------------------------------------------------------------------------
    def levels(
        self, symbol: str, side: Side, n: int | None = None
    ) -> list[tuple[Decimal, Decimal]]:
        """Exact (price, qty) levels, best first."""
        book = self.market(symbol).book
        return [(self.price(symbol, lv.price), self.qty(lv.size)) for lv in book.levels(side, n)]

    def grouped(
        self, symbol: str, side: Side, precision: int, n: int
    ) -> list[tuple[Decimal, Decimal, int]]:
        """Top `n` levels grouped to `precision` decimals: (price, qty, order count).

        Bids round down to the grouping step, asks round up, so groups never cross.
        """
        step = Decimal(1).scaleb(-precision)
        book = self.market(symbol).book
        out: list[tuple[Decimal, Decimal, int]] = []
        for lv in book.levels(side):
            price = self.price(symbol, lv.price)
            units = price / step
            group = math.floor(units) if side == "Buy" else math.ceil(units)
            gprice = (group * step).quantize(step)
            qty = self.qty(lv.size)
            if out and out[-1][0] == gprice:
                last = out[-1]
                out[-1] = (gprice, last[1] + qty, last[2] + len(lv.orders))
            else:
                if len(out) == n:
                    break
                out.append((gprice, qty, len(lv.orders)))
        return out

    def take_pending(self, symbol: str) -> list[tuple[Side, Decimal, Decimal]] | None:
        """Level changes since the last call as (side, price, qty) with a new version,
        or None when nothing changed."""
        view = self.views[symbol]
        if not view.pending:
            return None
        changes = [
            (side, self.price(symbol, ticks), self.qty(lots))
            for (side, ticks), lots in view.pending.items()
        ]
        view.pending.clear()
        view.version += 1
        return changes

    def skip_version(self, symbol: str, count: int = 1) -> None:
        """Advance the increase100 version without publishing (a gap for every client)."""
        self.views[symbol].version += count

    # --- candles and ticker ---------------------------------------------------------------
    def candle(self, symbol: str, seconds: int, now: float) -> Candle:
        """The current candle of an interval (flat at the last price when nothing traded)."""
        view = self.views[symbol]
        open_time = int(now // seconds) * seconds
        cur = view.candles.get(seconds)
        if cur is None or cur.open_time < open_time:
            last = self.last_price(symbol)
            close = cur.close if cur is not None else last
            cur = Candle(open_time, close, close, close, close)
            view.candles[seconds] = cur
        return cur

    def last_price(self, symbol: str) -> Decimal:
        """Last trade price (exact)."""
        m = self.market(symbol)
        return self.price(symbol, m.spec.ticks(m.stats.last_price))

    def ticker(self, symbol: str) -> dict[str, Decimal]:
        """24 h figures: last, open, high, low, base and quote volume, fluctuation."""
        m = self.market(symbol)
        st = m.stats
        last = self.last_price(symbol)
        open_ = self.price(symbol, m.spec.ticks(st.prev_price_24h))
        high = max(self.price(symbol, m.spec.ticks(st.high_price)), last)
        low = min(self.price(symbol, m.spec.ticks(st.low_price)), last)
        base = self.qty(st.volume_24h)
        fluct = ((last - open_) / open_).quantize(Decimal("0.0001")) if open_ else Decimal(0)
        return {
            "last": last,
            "open": open_,
            "high": high,
            "low": low,
            "base_volume": base,
            "quote_volume": (base * last).quantize(Decimal("0.01")),
            "fluctuation": fluct,
        }

    def truth(self, symbol: str, venue: str, depth: int | None = None) -> dict[str, object]:
        """The book in the `depthdesk feed --book-out` shape, in BitMart units."""
        last = self.views[symbol].prints[-1] if self.views[symbol].prints else None
        last_trade = None
        if last is not None:
            last_trade = {
                "venue": venue,
                "symbol": symbol,
                "side": last.side,
                "price": float(last.price),
                "size": float(last.qty),
                "timestamp": last.time_ms / 1000,
                "trade_id": None,
                "notional": float(last.price * last.qty),
                "kind": "trade",
            }
        return {
            "venue": venue,
            "symbol": symbol,
            "bids": [[float(p), float(q)] for p, q in self.levels(symbol, "Buy", depth)],
            "asks": [[float(p), float(q)] for p, q in self.levels(symbol, "Sell", depth)],
            "trades": self.market(symbol).trades_count,
            "last_trade": last_trade,
            "resyncs": 0,
            "reconnects": 0,
            "dropped_before_partial": 0,
        }

    # --- exchange listener ----------------------------------------------------------------
    def _on_event(self, event: SimEvent) -> None:
        if isinstance(event, BookChanged):
            view = self.views.get(event.symbol)
            if view is None:
                return
            view.book_seq += 1
            for ch in event.changes:
                view.pending[(ch.side, ch.price)] = 0 if ch.action == "delete" else ch.size
        elif isinstance(event, TradesPrinted):
            view = self.views.get(event.symbol)
            if view is None:
                return
            spec = self.market(event.symbol).spec
            for p in event.prints:
                sp = SimPrint(
                    side=p.side,
                    price=self.price(event.symbol, spec.ticks(p.price)),
                    qty=self.qty(p.size),
                    time_ms=round(p.timestamp * 1000),
                )
                view.prints.append(sp)
                view.print_seq += 1
                self._candles_add(view, sp)

    def _candles_add(self, view: SymbolView, sp: SimPrint) -> None:
        now = sp.time_ms / 1000
        for seconds in list(view.candles):
            cur = self.candle(view.symbol, seconds, now)
            if cur.volume == 0:
                cur.open = cur.high = cur.low = sp.price
            cur.high = max(cur.high, sp.price)
            cur.low = min(cur.low, sp.price)
            cur.close = sp.price
            cur.volume += sp.qty
