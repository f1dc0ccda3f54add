"""Everything one venue connection knows, fed event by event.

`MarketState.apply(event)` routes each normalized event to its store (per-symbol stores are
created on first use) and returns the set of aspects that changed, for the bridge to mark dirty:

- ``book:<SYM>``, ``trades:<SYM>``, ``candles:<SYM>``, ``quote:<SYM>``, ``ticker:<SYM>``
- ``instruments``, ``liquidations``
- ``account`` plus ``account:<table>`` (order, execution, position, margin, wallet)
- ``status`` for anything about the connection, plus the detail: ``latency``, ``errors``,
  ``auth``, ``dms`` (dead man's switch), ``subscriptions``
- ``table:<name>`` for any other keyed venue table

Reset (the connection's state is void): books are cleared and flagged stale until their fresh
snapshot, quotes are dropped, account tables are flagged stale (rows kept, so a position never
silently disappears) until their partials — except tables forwarded from another connection
(`apply_forwarded`: the account panel's own login), which this connection's reset does not
void. Tapes, candles, volume at price, instruments and liquidation history are kept: they are
history, not connection state. Prints missed while disconnected are simply absent; venue bins
repair the candles of their intervals. A trade partial re-sent after the reconnect is
de-duplicated by trade id.

A crossed book (best bid >= best ask: messages were lost) is listed in `crossed`, with since
when and through how many later deltas it stayed crossed; `app.state.crossed_guard` decides
from that when to ask the feed for a fresh book.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable, KeysView
from typing import Any

from app.feeds.events import (
    AuthResult,
    Bars,
    BookLevels,
    CancelAllAfterReply,
    Event,
    FeedError,
    FeedStatus,
    Latency,
    Quote,
    Reset,
    Resync,
    SubscriptionAck,
    TableRows,
    Ticker,
    Trades,
)
from app.state.account import AccountStore, KeyedTable
from app.state.book import L2Book
from app.state.candles import TIMEFRAMES, CandleStore
from app.state.instruments import InstrumentStore
from app.state.liquidations import LiquidationStore
from app.state.tape import TapeRow, TradeDeduper, TradeTape
from app.state.volume import VolumeAtPrice


def is_book_table(table: str) -> bool:
    """True for order-book channels of any venue (BitMEX orderBook*, BitMart depth channels)."""
    lower = table.lower()
    return lower.startswith("orderbook") or "depth" in lower or lower == "book"


KEYLESS_TABLE_ROWS = 200

Aspects = set[str]


class MarketState:
    """Books, tapes, candles, instruments, liquidations and account of one venue connection."""

    def __init__(
        self,
        venue: str,
        *,
        tape_maxlen: int = 1000,
        errors_maxlen: int = 50,
        liquidations_maxlen: int = 500,
        timeframes: tuple[str, ...] = tuple(TIMEFRAMES),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.venue = venue
        self.clock = clock
        self.tape_maxlen = tape_maxlen
        self.timeframes = timeframes
        self._books: dict[str, L2Book] = {}
        self._tapes: dict[str, TradeTape] = {}
        self._candles: dict[str, CandleStore] = {}
        self._volumes: dict[str, VolumeAtPrice] = {}
        self._dedupers: dict[str, TradeDeduper] = {}
        self._quotes: dict[str, Quote] = {}
        self._tickers: dict[str, Ticker] = {}
        self.instruments = InstrumentStore()
        self.liquidations = LiquidationStore(
            maxlen=liquidations_maxlen, notional_fn=self.instruments.notional
        )
        self.account = AccountStore()
        self.tables: dict[str, KeyedTable] = {}
        # Private tables whose rows come from another connection (see `apply_forwarded`).
        self.forwarded_tables: set[str] = set()
        self.keyless_tables: dict[str, deque[dict[str, Any]]] = {}
        self.status: FeedStatus | None = None
        self.latency_ms: float | None = None
        self.resyncs = 0
        self.resets = 0
        self.reconnects = 0
        self.events = 0
        self.errors: deque[str] = deque(maxlen=max(1, errors_maxlen))
        self.error_count = 0
        self.auth: AuthResult | None = None
        self.dms: CancelAllAfterReply | None = None
        self.subscriptions: dict[str, SubscriptionAck] = {}
        # Per symbol whose book is crossed right now (a venue book never is: data was lost): since
        # when (`clock` time of the crossing, or of the latest snapshot that left it crossed) and
        # how many book deltas were applied after that which left it crossed. The crossed-book
        # guard (app.state.crossed_guard) judges from these whether to ask for a fresh book.
        self.crossed_since: dict[str, float] = {}
        self.crossed_updates: dict[str, int] = {}
        self.crossed_events = 0
        self.apply_failures = 0
        self._handlers: dict[str, Callable[[Any], Aspects]] = {
            "book": self._on_book,
            "trades": self._on_trades,
            "bars": self._on_bars,
            "quote": self._on_quote,
            "ticker": self._on_ticker,
            "table": self._on_table,
            "status": self._on_status,
            "latency": self._on_latency,
            "ack": self._on_ack,
            "error": self._on_error,
            "resync": self._on_resync,
            "auth": self._on_auth,
            "cancel_all_after": self._on_dms,
            "reset": self._on_reset,
        }

    # --------------------------------------------------------------- stores
    @property
    def crossed(self) -> KeysView[str]:
        """Symbols whose book is crossed right now."""
        return self.crossed_since.keys()

    def book(self, symbol: str) -> L2Book:
        """The L2 book of a symbol (created empty on first use)."""
        book = self._books.get(symbol)
        if book is None:
            book = self._books[symbol] = L2Book(symbol, self.instruments.tick_size(symbol))
        return book

    def tape(self, symbol: str) -> TradeTape:
        """The trade tape of a symbol."""
        tape = self._tapes.get(symbol)
        if tape is None:
            instruments = self.instruments

            def notional(price: float, qty: float, _s: str = symbol) -> float:
                return instruments.notional(_s, price, qty)

            tape = self._tapes[symbol] = TradeTape(self.tape_maxlen, notional)
        return tape

    def candles(self, symbol: str) -> CandleStore:
        """The candles (all timeframes) of a symbol."""
        store = self._candles.get(symbol)
        if store is None:
            store = self._candles[symbol] = CandleStore(self.timeframes, self.clock)
        return store

    def volume(self, symbol: str) -> VolumeAtPrice:
        """Traded volume at price of a symbol (resettable)."""
        vol = self._volumes.get(symbol)
        if vol is None:
            vol = self._volumes[symbol] = VolumeAtPrice(self.instruments.tick_size(symbol))
        return vol

    def quote(self, symbol: str) -> Quote | None:
        """Latest top-of-book quote."""
        return self._quotes.get(symbol)

    def ticker(self, symbol: str) -> Ticker | None:
        """Latest 24h ticker."""
        return self._tickers.get(symbol)

    def symbols(self) -> list[str]:
        """Symbols with any market data, sorted."""
        return sorted(set(self._books) | set(self._tapes) | set(self._candles) | set(self._quotes))

    def has_book(self, symbol: str) -> bool:
        """True once a book exists for the symbol."""
        return symbol in self._books

    def last_price(self, symbol: str) -> float | None:
        """Last trade price (tape, else instrument, else ticker)."""
        tape = self._tapes.get(symbol)
        if tape is not None and tape.last_trade is not None:
            return tape.last_trade.price
        price = self.instruments.last_price(symbol)
        if price is not None:
            return price
        ticker = self._tickers.get(symbol)
        return ticker.last if ticker is not None else None

    # ---------------------------------------------------------------- apply
    def apply(self, ev: Event) -> Aspects:
        """Route one event to its store; returns the aspects that changed."""
        self.events += 1
        handler = self._handlers.get(ev.kind)
        if handler is None:
            return set()
        try:
            return handler(ev)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
            return self._apply_failed(ev, exc)

    def _apply_failed(self, ev: Event, exc: Exception) -> Aspects:
        """An event with unusable values: record it; a book it may have half-changed is voided
        (an empty, stale book until the next snapshot beats a wrong one)."""
        self.apply_failures += 1
        symbol = getattr(ev, "symbol", None)
        where = f" for {symbol}" if isinstance(symbol, str) else ""
        self._note_error(
            f"could not apply {ev.kind} event{where}: {type(exc).__name__}: {exc}"[:300]
        )
        out: Aspects = {"status", "errors"}
        if ev.kind == "book" and isinstance(symbol, str):
            self.book(symbol).clear(stale=True)
            self._forget_crossing(symbol)
            out.add("book:" + symbol)
        return out

    def apply_forwarded(self, ev: Event) -> Aspects:
        """Apply an event received on another connection (private rows of the account panel's
        login, forwarded into this market session). Its account tables then belong to that
        connection: a Reset of this one does not mark them stale, a forwarded Reset (that
        connection was reset) does — and voids nothing else here."""
        if isinstance(ev, Reset):
            return self._forwarded_reset()
        if isinstance(ev, TableRows) and self.account.handles(ev.table):
            self.forwarded_tables.add(ev.table)
        return self.apply(ev)

    def drop_forwarded(self) -> Aspects:
        """The other connection logged out: forget the account rows it forwarded. (A session
        receives forwarded rows only when it has no private tables of its own.)"""
        if not self.forwarded_tables:
            return set()
        self.forwarded_tables.clear()
        self.account.clear()
        return {"account"}

    def _forwarded_reset(self) -> Aspects:
        stale = {t for t in self.forwarded_tables if self.account.raw_rows(t)}
        if not stale - self.account.stale_tables:
            return set()
        self.account.stale_tables |= stale
        self.account.version += 1
        return {"account"}

    def apply_all(self, events: list[Event]) -> Aspects:
        """Apply several events; union of their aspects."""
        out: Aspects = set()
        for ev in events:
            out |= self.apply(ev)
        return out

    def _on_book(self, ev: BookLevels) -> Aspects:
        symbol = ev.symbol
        book = self._books.get(symbol)
        if book is None:
            book = self.book(symbol)
        book.apply(ev)
        crossed = book.is_crossed()
        if crossed != (symbol in self.crossed):
            return self._crossing_changed(symbol, book)
        if crossed:
            self._still_crossed(symbol, ev.snapshot)
        return {"book:" + symbol}

    def _crossing_changed(self, symbol: str, book: L2Book) -> Aspects:
        """A book became crossed (bid >= ask: messages were lost) or stopped being crossed."""
        if symbol in self.crossed:
            self._forget_crossing(symbol)
            return {"book:" + symbol, "status"}
        self.crossed_since[symbol] = self.clock()
        self.crossed_updates[symbol] = 0
        self.crossed_events += 1
        bid, ask = book.best_bid(), book.best_ask()
        self._note_error(
            f"book {symbol} crossed: bid {bid[0] if bid else '-'} >= ask {ask[0] if ask else '-'}"
        )
        return {"book:" + symbol, "status", "errors"}

    def _still_crossed(self, symbol: str, snapshot: bool) -> None:
        """A book message left a crossed book crossed. A delta counts as one more update; a
        snapshot is a whole new book, so its crossing starts afresh (no old updates count)."""
        if snapshot:
            self.crossed_since[symbol] = self.clock()
            self.crossed_updates[symbol] = 0
        else:
            self.crossed_updates[symbol] += 1

    def _forget_crossing(self, symbol: str) -> None:
        """The symbol's book is no longer crossed (uncrossed, voided or cleared)."""
        self.crossed_since.pop(symbol, None)
        self.crossed_updates.pop(symbol, None)

    def _on_trades(self, ev: Trades) -> Aspects:
        symbol = ev.symbol
        dedupe = self._dedupers.get(symbol)
        if dedupe is None:
            dedupe = self._dedupers[symbol] = TradeDeduper()
        fresh = dedupe.fresh(ev.trades, ev.snapshot)
        if not fresh:
            return set()
        if fresh is not ev.trades:
            ev = Trades(ev.venue, symbol, fresh, ev.snapshot)
        self.tape(symbol).apply(ev)
        self.candles(symbol).apply_trades(ev)
        self.volume(symbol).apply(ev)
        return {"trades:" + symbol, "candles:" + symbol}

    def _on_bars(self, ev: Bars) -> Aspects:
        if self.candles(ev.symbol).apply_bars(ev):
            return {"candles:" + ev.symbol}
        return set()

    def _on_quote(self, ev: Quote) -> Aspects:
        self._quotes[ev.symbol] = ev
        return {"quote:" + ev.symbol}

    def _on_ticker(self, ev: Ticker) -> Aspects:
        self._tickers[ev.symbol] = ev
        return {"ticker:" + ev.symbol}

    def _on_table(self, ev: TableRows) -> Aspects:
        table = ev.table
        if table == "instrument":
            return self._on_instrument(ev)
        if table == "funding":
            self.instruments.apply_funding(ev)
            return {"instruments"}
        if table == "liquidation":
            return self._on_liquidation(ev)
        if self.account.handles(table):
            if self.account.apply(ev):
                return {"account", "account:" + table}
            return set()
        return self._on_other_table(ev)

    def _on_instrument(self, ev: TableRows) -> Aspects:
        changed = self.instruments.apply(ev)
        out: Aspects = {"instruments"} if changed else set()
        for symbol in changed:
            tick = self.instruments.tick_size(symbol)
            book = self._books.get(symbol)
            if book is not None and book.tick_size != tick and tick is not None:
                book.tick_size = tick
                book.version += 1
                out.add("book:" + symbol)
            vol = self._volumes.get(symbol)
            if vol is not None and tick is not None and vol.tick_size != tick:
                vol.tick_size = tick
        return out

    def _on_liquidation(self, ev: TableRows) -> Aspects:
        new_rows = self.liquidations.apply(ev)
        out: Aspects = {"liquidations"}
        if ev.action != "insert":
            return out
        for row in new_rows:
            if not row.symbol:
                continue
            self.tape(row.symbol).add_liquidation(
                TapeRow(
                    timestamp=row.received_at,
                    symbol=row.symbol,
                    side="Buy" if row.side == "Buy" else "Sell",
                    price=row.price if row.price is not None else 0.0,
                    size=row.qty,
                    count=1,
                    notional=row.notional,
                    is_liquidation=True,
                    trade_id=row.order_id,
                )
            )
            out.add("trades:" + row.symbol)
        return out

    def _on_other_table(self, ev: TableRows) -> Aspects:
        name = ev.table
        tab = self.tables.get(name)
        if tab is None and not ev.keys:
            if ev.action not in ("partial", "insert"):
                return set()
            ring = self.keyless_tables.get(name)
            if ring is None:
                ring = self.keyless_tables[name] = deque(maxlen=KEYLESS_TABLE_ROWS)
            if ev.action == "partial":
                ring.clear()
            ring.extend(dict(r) for r in ev.rows)
            return {"table:" + name}
        if tab is None:
            tab = self.tables[name] = KeyedTable(ev.keys)
        tab.apply(ev)
        return {"table:" + name}

    def _on_status(self, ev: FeedStatus) -> Aspects:
        self.status = ev
        self.reconnects = max(self.reconnects, ev.reconnects)
        return {"status"}

    def _on_latency(self, ev: Latency) -> Aspects:
        self.latency_ms = ev.rtt_ms
        return {"status", "latency"}

    def _note_error(self, text: str) -> None:
        self.errors.append(text)
        self.error_count += 1

    def _on_ack(self, ev: SubscriptionAck) -> Aspects:
        out = {"status", "subscriptions"}
        if ev.op == "unsubscribe" and ev.success:
            self.subscriptions.pop(ev.topic, None)
        else:
            self.subscriptions[ev.topic] = ev
        if not ev.success:
            self._note_error(f"{ev.op} {ev.topic} failed: {ev.error or 'no reason given'}")
            out.add("errors")
        return out

    def _on_error(self, ev: FeedError) -> Aspects:
        prefix = f"[{ev.status}] " if ev.status is not None else ""
        self._note_error(prefix + ev.message)
        return {"status", "errors"}

    def _on_resync(self, ev: Resync) -> Aspects:
        self.resyncs += 1
        where = f"{ev.table}:{ev.symbol}" if ev.symbol else ev.table
        self._note_error(f"resync {where}: {ev.reason}")
        out = {"status", "errors"}
        if is_book_table(ev.table):
            targets = [ev.symbol] if ev.symbol else list(self._books)
            for symbol in targets:
                self.book(symbol).clear(stale=True)
                self._forget_crossing(symbol)
                out.add("book:" + symbol)
        elif self.account.handles(ev.table):
            self.account.stale_tables.add(ev.table)
            out.add("account")
        return out

    def _on_auth(self, ev: AuthResult) -> Aspects:
        self.auth = ev
        if not ev.success:
            code = f" ({ev.status})" if ev.status is not None else ""
            self._note_error(f"authentication failed{code}: {ev.error or 'rejected'}")
            return {"status", "auth", "account", "errors"}
        return {"status", "auth", "account"}

    def _on_dms(self, ev: CancelAllAfterReply) -> Aspects:
        self.dms = ev
        return {"status", "dms", "account"}

    def _on_reset(self, ev: Reset) -> Aspects:
        self.resets += 1
        out: Aspects = {"status"}
        for symbol, book in self._books.items():
            book.clear(stale=True)
            out.add("book:" + symbol)
        self.crossed_since.clear()
        self.crossed_updates.clear()
        for symbol in self._quotes:
            out.add("quote:" + symbol)
        self._quotes.clear()
        self.account.mark_stale()
        self.account.stale_tables -= self.forwarded_tables
        if self.account.stale:
            out.add("account")
        # Acks come again on the new connection. The dead man's switch lives on the server
        # across disconnects, so its last reply (and countdown) is kept.
        self.subscriptions.clear()
        return out

    # -------------------------------------------------------------- exports
    def book_snapshot_json(
        self,
        symbol: str,
        *,
        resyncs: int | None = None,
        reconnects: int | None = None,
        dropped_before_partial: int = 0,
        depth: int | None = None,
    ) -> dict[str, Any]:
        """The `depthdesk feed --book-out` JSON shape for one symbol."""
        book = self._books.get(symbol)
        tape = self._tapes.get(symbol)
        last = tape.last_trade if tape is not None else None
        return {
            "venue": self.venue,
            "symbol": symbol,
            "bids": [[p, s] for p, s in book.bids(depth)] if book is not None else [],
            "asks": [[p, s] for p, s in book.asks(depth)] if book is not None else [],
            "trades": tape.trades_seen if tape is not None else 0,
            "last_trade": dataclasses.asdict(last) if last is not None else None,
            "resyncs": self.resyncs if resyncs is None else resyncs,
            "reconnects": self.reconnects if reconnects is None else reconnects,
            "dropped_before_partial": dropped_before_partial,
        }
