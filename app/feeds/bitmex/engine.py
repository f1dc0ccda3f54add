"""BitMEX realtime table engine: raw frames in, normalized events out. No I/O, no Qt.

State is kept per (table, symbol filter) exactly as the server scopes its partials:

- deltas (insert/update/delete) before that state's partial are dropped and counted;
- a partial replaces the state (an empty partial initializes it);
- insert/update/delete go through a dict index on the partial's `keys`: O(1) per row, never a
  scan; sparse updates merge into the stored row;
- an update or delete for an unknown key (or a row that cannot be applied) voids that state:
  a `Resync` event is emitted, the topic is queued for `take_resubscribe()` and later deltas are
  dropped until a fresh partial arrives. `void_book` does the same for an L2 book on request
  (the client's `request_fresh_book`, when the book stays crossed).

orderBookL2 / orderBookL2_25 keep, per symbol and side, only `id -> price` (prices come from
the rows, remembered for eras whose updates carry no price; never derived from the id) and emit
`BookLevels` deltas. Insert-only event tables (trade, quote, tradeBin*) store no rows.

Rows in emitted `TableRows` are the engine's own dicts and must be treated as read-only; a
sparse update builds a new merged dict, so a row already emitted never changes afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from itertools import chain
from typing import Any, Literal

import orjson

from app.feeds.bitmex.constants import (
    ALREADY_SUBSCRIBED_TEXT,
    AUTH_ERROR_STATUSES,
    AUTH_OPS,
    BUY,
    DEFAULT_KEYS,
    DELETE,
    INSERT,
    KNOWN_TABLES,
    L2_TABLES,
    OP_SUBSCRIBE,
    OP_UNSUBSCRIBE,
    ORDER_BOOK_10,
    PARTIAL,
    PONG,
    QUOTE,
    SELL,
    STATELESS_TABLES,
    TRADE,
    TRADE_BIN_INTERVALS,
    UPDATE,
    VENUE,
    WELCOME_INFO_PREFIX,
)
from app.feeds.bitmex.l2_runs import END, RUNS, UnknownIdError
from app.feeds.bitmex.l2_wire import (
    BYTE_PREFIXES,
    TEXT_PREFIXES,
    decode_l2_delta,
    rows_from_dicts,
)
from app.feeds.bitmex.rows import (
    ROW_ERRORS,
    BadRowError,
    Converted,
    bars_from_rows,
    book10_from_rows,
    describe_error,
    quotes_from_rows,
    trades_from_rows,
)
from app.feeds.bitmex.timeparse import MILLIS_Z, SECOND_EPOCHS, parse_ts, parse_ts_or_none
from app.feeds.bitmex.trade_wire import BYTE_PREFIX as TRADE_BYTES
from app.feeds.bitmex.trade_wire import TEXT_PREFIX as TRADE_TEXT
from app.feeds.bitmex.trade_wire import TradeRow, decode_trade_insert
from app.feeds.events import (
    AuthResult,
    BookLevels,
    CancelAllAfterReply,
    Event,
    FeedError,
    PriceSize,
    Reset,
    Resync,
    SubscriptionAck,
    TableRows,
    Trade,
    Trades,
)

_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError
_ACTIONS = frozenset({PARTIAL, INSERT, UPDATE, DELETE})
_DELTAS = (INSERT, UPDATE, DELETE)


@dataclass(slots=True)
class EngineStats:
    """Counters since the engine was created (reset() keeps them).

    messages: frames applied; rows: table rows received; dropped_before_partial: delta messages
    (per table and symbol) dropped because their state had no partial; unknown_keys:
    update/delete rows whose key was not in the state; resyncs: states voided and queued for a
    fresh partial; malformed: unusable frames or rows (bad JSON, non-object frames, unknown
    tables or actions, rows missing key fields); errors: error replies from the server.
    """

    messages: int = 0
    rows: int = 0
    dropped_before_partial: int = 0
    unknown_keys: int = 0
    resyncs: int = 0
    malformed: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain dict."""
        return asdict(self)


def topic_of(table: str, symbol: str | None) -> str:
    """The subscription topic of a (table, symbol filter) state: "table" or "table:SYMBOL"."""
    return f"{table}:{symbol}" if symbol else table


def parse_topic(topic: str) -> tuple[str, str | None]:
    """(table, symbol filter) of a topic; "table" and "table:*" have no symbol filter."""
    table, _, symbol = topic.partition(":")
    return table, (symbol if symbol and symbol != "*" else None)


class _Book:
    """One symbol of an L2 table: per side, level id -> price."""

    __slots__ = ("buy", "scope", "sell", "symbol")

    def __init__(self, symbol: str, scope: str | None) -> None:
        self.symbol = symbol
        self.scope = scope  # the partial's symbol filter; None = unfiltered subscription
        self.buy: dict[Any, Any] = {}
        self.sell: dict[Any, Any] = {}


class _L2Table:
    """All books of one L2 table (orderBookL2 or orderBookL2_25)."""

    __slots__ = ("books", "wildcard")

    def __init__(self) -> None:
        self.books: dict[str, _Book] = {}
        self.wildcard = False  # an unfiltered partial was applied


class _State:
    """A non-L2 table under one filter: keys and, for keyed state tables, rows by key."""

    __slots__ = ("account", "keys", "rows", "symbol", "table")

    def __init__(
        self,
        table: str,
        symbol: str | None,
        keys: tuple[str, ...],
        store: bool,
        account: Any,
    ) -> None:
        self.table = table
        self.symbol = symbol
        self.keys = keys
        self.rows: dict[Any, dict[str, Any]] | None = {} if store else None
        self.account = account

    def key(self, row: dict[str, Any]) -> Any:
        """The row's index key (raises KeyError when a key field is missing)."""
        keys = self.keys
        value = row[keys[0]] if len(keys) == 1 else tuple([row[k] for k in keys])
        hash(value)  # unhashable field values raise TypeError here, not in the index
        return value


class _Group:
    """The states of one non-L2 table: per symbol filter, plus the unfiltered one."""

    __slots__ = ("by_symbol", "wildcard")

    def __init__(self) -> None:
        self.by_symbol: dict[str, _State] = {}
        self.wildcard: _State | None = None

    def route(self, row: dict[str, Any]) -> _State | None:
        """The state a delta row belongs to."""
        symbol = row.get("symbol")
        if symbol is not None and self.by_symbol:
            state = self.by_symbol.get(symbol) if isinstance(symbol, str) else None
            if state is not None:
                return state
        return self.wildcard


class BitmexEngine:
    """Applies BitMEX realtime frames to per-(table, symbol) state and returns events."""

    def __init__(self, venue: str = VENUE, clock: Callable[[], float] = time.time) -> None:
        self.venue = venue
        self.clock = clock
        self.stats = EngineStats()
        self.welcome: dict[str, Any] | None = None
        self._l2: dict[str, _L2Table] = {}
        self._groups: dict[str, _Group] = {}
        self._subscribed: dict[str, tuple[str, str | None]] = {}
        self._resubscribe: dict[str, None] = {}

    # ------------------------------------------------------------------ public API

    def apply(self, frame: str | bytes) -> list[Event]:
        """Apply one raw JSON frame (text "pong" is ignored)."""
        if isinstance(frame, str):
            l2_shape = frame.startswith(TEXT_PREFIXES)
            trade_shape = not l2_shape and frame.startswith(TRADE_TEXT)
        else:
            l2_shape = frame.startswith(BYTE_PREFIXES)
            trade_shape = not l2_shape and frame.startswith(TRADE_BYTES)
        if l2_shape:
            typed = decode_l2_delta(frame)
            if typed is not None:
                l2 = self._l2.get(typed.table)
                if l2 is not None:
                    stats = self.stats
                    stats.messages += 1
                    stats.rows += len(typed.data)
                    return self._l2_delta(l2, typed.table, typed.action, typed.data)
        elif trade_shape:
            trades = decode_trade_insert(frame)
            if trades is not None:
                events = self._trade_inserts(trades.data)
                if events is not None:
                    return events
        try:
            msg = _loads(frame)
        except _JSONDecodeError:
            if frame == PONG or frame == b"pong":
                return []
            self.stats.messages += 1
            return [self._malformed("malformed JSON frame")]
        if type(msg) is dict:
            # Fast paths: deltas of a table that has a state (an L2 book or another table).
            table: Any = msg.get("table")
            data = msg.get("data")
            if type(table) is str and type(data) is list:
                action = msg.get("action")
                l2 = self._l2.get(table)
                if l2 is not None:
                    if action != PARTIAL:
                        stats = self.stats
                        stats.messages += 1
                        stats.rows += len(data)
                        return self._l2_delta(l2, table, action, rows_from_dicts(data))
                elif action in _DELTAS and table in self._groups:
                    stats = self.stats
                    stats.messages += 1
                    stats.rows += len(data)
                    return self._delta(table, action, data)
        return self.apply_message(msg)

    def apply_message(self, msg: Any) -> list[Event]:
        """Apply one decoded frame (a dict; anything else is reported as malformed)."""
        self.stats.messages += 1
        if type(msg) is not dict:
            return [self._malformed(f"unexpected frame type {type(msg).__name__}")]
        table = msg.get("table")
        if table is not None:
            return self._apply_table(table, msg)
        return self._apply_control(msg)

    def reset(self, reason: str = "") -> list[Event]:
        """Drop all table state and subscriptions (reconnect)."""
        self._l2.clear()
        self._groups.clear()
        self._subscribed.clear()
        self._resubscribe.clear()
        self.welcome = None
        return [Reset(self.venue, reason)]

    def take_resubscribe(self) -> list[str]:
        """Topics needing a fresh partial (unsubscribe + subscribe them); clears the queue."""
        topics = list(self._resubscribe)
        self._resubscribe.clear()
        return topics

    def void_book(self, table: str, symbol: str, reason: str) -> Resync | None:
        """Void the L2 state holding `symbol`'s book and queue its topic for a fresh partial,
        as an unknown id would (the symbol's own topic, or the whole unfiltered table); the
        `Resync` to emit, or None when no partial of that book is held."""
        l2 = self._l2.get(table)
        book = l2.books.get(symbol) if l2 is not None else None
        if book is None:
            return None
        return self._l2_void(table, book, reason)

    def waiting_for_partial(self) -> list[str]:
        """Subscribed (or acknowledged) topics whose partial has not arrived yet."""
        return [
            topic
            for topic, (table, symbol) in self._subscribed.items()
            if not self._has_state(table, symbol)
        ]

    def mark_subscribed(self, topics: Iterable[str]) -> None:
        """Record topics the client subscribed to (before their acks arrive)."""
        for topic in topics:
            self._subscribed[topic] = parse_topic(topic)

    def mark_unsubscribed(self, topics: Iterable[str]) -> None:
        """Forget topics and drop their state."""
        for topic in topics:
            self._subscribed.pop(topic, None)
            self._drop_state(*parse_topic(topic))

    def subscribed_topics(self) -> list[str]:
        """Topics currently subscribed or acknowledged."""
        return list(self._subscribed)

    def has_partial(self, topic: str) -> bool:
        """Whether the topic's state was initialized by a partial."""
        return self._has_state(*parse_topic(topic))

    def book_symbols(self, table: str) -> list[str]:
        """Symbols with a live L2 state in `table`."""
        l2 = self._l2.get(table)
        return list(l2.books) if l2 else []

    def level_count(self, table: str, symbol: str) -> int:
        """Number of levels (both sides) held for an L2 symbol, 0 when none."""
        l2 = self._l2.get(table)
        book = l2.books.get(symbol) if l2 else None
        return len(book.buy) + len(book.sell) if book else 0

    # ------------------------------------------------------------------ state helpers

    def _has_state(self, table: str, symbol: str | None) -> bool:
        l2 = self._l2.get(table)
        if l2 is not None:
            if symbol is None:
                return l2.wildcard
            return symbol in l2.books
        group = self._groups.get(table)
        if group is None:
            return False
        if symbol is None:
            return group.wildcard is not None
        return symbol in group.by_symbol

    def _drop_state(self, table: str, symbol: str | None) -> None:
        l2 = self._l2.get(table)
        if l2 is not None:
            if symbol is None:
                # In place: a delta being applied may hold a reference to this dict.
                for sym in [s for s, b in l2.books.items() if b.scope is None]:
                    del l2.books[sym]
                l2.wildcard = False
            else:
                l2.books.pop(symbol, None)
            return
        group = self._groups.get(table)
        if group is not None:
            if symbol is None:
                group.wildcard = None
            else:
                group.by_symbol.pop(symbol, None)

    def _resync(self, table: str, symbol: str | None, reason: str) -> Resync:
        """Void a state, queue its topic for a fresh partial and describe it as an event."""
        self._drop_state(table, symbol)
        self._resubscribe[topic_of(table, symbol)] = None
        self.stats.resyncs += 1
        return Resync(self.venue, table, symbol, reason)

    def _malformed(self, message: str, request: Any = None) -> FeedError:
        self.stats.malformed += 1
        return FeedError(self.venue, message, None, request)

    # ------------------------------------------------------------------ control messages

    def _apply_control(self, msg: dict[str, Any]) -> list[Event]:
        if "success" in msg and (OP_SUBSCRIBE in msg or OP_UNSUBSCRIBE in msg):
            return self._apply_ack(msg)
        if "error" in msg or "status" in msg:
            return self._apply_error(msg)
        if "cancelTime" in msg:
            return self._apply_cancel_all_after(msg)
        if "success" in msg:
            request = msg.get("request")
            op = _request_op(request)
            if op in AUTH_OPS:
                if msg.get("success") is True:
                    return [AuthResult(self.venue, True)]
                self.stats.errors += 1
                return [AuthResult(self.venue, False, "authentication refused")]
            return []
        info = msg.get("info")
        if info is not None:
            if "version" in msg or str(info).startswith(WELCOME_INFO_PREFIX):
                self.welcome = msg
            return []
        return [self._malformed("unrecognised message")]

    def _apply_ack(self, msg: dict[str, Any]) -> list[Event]:
        op: Literal["subscribe", "unsubscribe"] = (
            "subscribe" if OP_SUBSCRIBE in msg else "unsubscribe"
        )
        topic = msg.get(op)
        if not isinstance(topic, str):
            return [self._malformed("acknowledgement without a topic")]
        success = msg.get("success") is True
        error = msg.get("error")
        if op == OP_SUBSCRIBE:
            if success:
                self._subscribed[topic] = parse_topic(topic)
        elif success:
            self._subscribed.pop(topic, None)
            self._drop_state(*parse_topic(topic))
        return [
            SubscriptionAck(self.venue, topic, op, success, None if error is None else str(error))
        ]

    def _apply_error(self, msg: dict[str, Any]) -> list[Event]:
        self.stats.errors += 1
        status = msg.get("status")
        status = status if isinstance(status, int) else None
        error = str(msg.get("error") or "error reply")
        request = msg.get("request")
        op = _request_op(request)
        if op in AUTH_OPS and (status in AUTH_ERROR_STATUSES or status is None):
            return [AuthResult(self.venue, False, error, status)]
        events: list[Event] = [FeedError(self.venue, error, status, request)]
        if (
            isinstance(request, dict)
            and op in (OP_SUBSCRIBE, OP_UNSUBSCRIBE)
            and ALREADY_SUBSCRIBED_TEXT not in error
        ):
            args = request.get("args")
            topics = [args] if isinstance(args, str) else args if isinstance(args, list) else []
            ack_op: Literal["subscribe", "unsubscribe"] = (
                "subscribe" if op == OP_SUBSCRIBE else "unsubscribe"
            )
            for topic in topics:
                if not isinstance(topic, str):
                    continue
                if op == OP_SUBSCRIBE:
                    self._subscribed.pop(topic, None)
                events.append(SubscriptionAck(self.venue, topic, ack_op, False, error))
        return events

    def _apply_cancel_all_after(self, msg: dict[str, Any]) -> list[Event]:
        try:
            now = parse_ts(msg["now"])
            raw_cancel = msg.get("cancelTime")
            cancel_time = None if raw_cancel in (0, None, "0", "") else parse_ts(raw_cancel)
        except ROW_ERRORS:
            return [self._malformed("malformed cancelAllAfter reply", msg.get("request"))]
        request = msg.get("request")
        args = request.get("args") if isinstance(request, dict) else None
        if isinstance(args, list) and args:
            args = args[0]
        if isinstance(args, int | float) and not isinstance(args, bool):
            timeout_ms = int(args)
        else:
            timeout_ms = 0 if cancel_time is None else round((cancel_time - now) * 1000)
        return [CancelAllAfterReply(self.venue, now, cancel_time, timeout_ms)]

    # ------------------------------------------------------------------ table messages

    def _apply_table(self, table: Any, msg: dict[str, Any]) -> list[Event]:
        if type(table) is not str:
            return [self._malformed(f"unknown table {table!r}")]
        action = msg.get("action")
        if type(action) is not str:
            return [self._malformed(f"unknown action {action!r} on {table}")]
        data = msg.get("data")
        if type(data) is not list:
            return [self._malformed(f"table message without data list: {table}")]
        self.stats.rows += len(data)
        if table in L2_TABLES:
            if action == PARTIAL:
                return self._l2_partial(table, data, msg)
            l2 = self._l2.get(table)
            if l2 is None:
                if data:
                    self.stats.dropped_before_partial += 1
                return []
            if action in _ACTIONS:
                return self._l2_delta(l2, table, action, rows_from_dicts(data))
            return [self._malformed(f"unknown action {action!r} on {table}")]
        if table not in KNOWN_TABLES:
            return [self._malformed(f"unknown table {table!r}")]
        if action == PARTIAL:
            return self._partial(table, data, msg)
        if action in _ACTIONS:
            return self._delta(table, action, data)
        return [self._malformed(f"unknown action {action!r} on {table}")]

    # ---- L2 books

    def _l2_partial(self, table: str, data: list[Any], msg: dict[str, Any]) -> list[Event]:
        scope = _filter_symbol(msg)
        l2 = self._l2.get(table)
        if l2 is None:
            l2 = self._l2[table] = _L2Table()
        venue = self.venue
        if scope is None:
            self._drop_state(table, None)
            l2.wildcard = True
        else:
            l2.books.pop(scope, None)
        fresh: dict[str, tuple[_Book, list[PriceSize], list[PriceSize]]] = {}
        if scope is not None:
            fresh[scope] = (_Book(scope, scope), [], [])
        try:
            for r in data:
                sym = r["symbol"] if scope is None else scope
                entry = fresh.get(sym)
                if entry is None:
                    entry = fresh[sym] = (_Book(sym, None), [], [])
                book, bids, asks = entry
                side = r["side"]
                price = r["price"]
                if price is None:
                    raise BadRowError("level without price")
                if side == BUY:
                    book.buy[r["id"]] = price
                    bids.append((price, r["size"]))
                elif side == SELL:
                    book.sell[r["id"]] = price
                    asks.append((price, r["size"]))
                else:
                    raise BadRowError(f"bad side {side!r}")
        except ROW_ERRORS as exc:
            if scope is None:
                l2.wildcard = False
            error = self._malformed(f"{table} partial row unusable: {describe_error(exc)}")
            return [error, self._resync(table, scope, "partial with unusable rows")]
        ts = _row_ts(data)
        events: list[Event] = []
        for sym, (book, bids, asks) in fresh.items():
            book.buy = _compacted(book.buy)
            book.sell = _compacted(book.sell)
            l2.books[sym] = book
            events.append(BookLevels(venue, sym, bids, asks, True, ts))
        return events

    def _l2_open(self, l2: _L2Table, table: str, sym: Any, action: str, out: list[Event]) -> Any:
        """The book for a delta symbol without one: created under an unfiltered partial on
        insert; otherwise an unknown key (unfiltered) or a delta before its partial."""
        if l2.wildcard and isinstance(sym, str):
            if action == INSERT:
                book = l2.books[sym] = _Book(sym, None)
                return book
            self.stats.unknown_keys += 1
            out.append(self._resync(table, None, f"{action} for unknown symbol {sym!r}"))
            return None
        self.stats.dropped_before_partial += 1
        return None

    def _l2_delta(self, l2: _L2Table, table: str, action: Any, data: list[Any]) -> list[Event]:
        """Apply an insert/update/delete message (its rows as L2Row/UnusableRow) to the books
        of an L2 table.

        The hot path. Rows are taken in runs of one symbol (BitMEX sends one symbol per
        message, so usually a single run): the run's book is looked up once and the run goes
        through the action's run function (app.feeds.bitmex.l2_runs); a BookLevels event is
        emitted per run. A run whose book is voided (unknown id, unusable row) is skipped to
        its end.
        """
        run = RUNS.get(action) if type(action) is str else None
        if run is None:
            return [self._malformed(f"unknown action {action!r} on {table}")]
        if not data:
            return []
        out: list[Event] = []
        books = l2.books
        it = iter(data)
        rows: Iterator[Any] = it  # the current run's rows: from `head` on, then the rest of it
        head: Any = data[0]  # first row of the current run (still unread in `it` at first)
        ts: Any = END
        while head is not END:
            symbol: Any = END
            book: Any = None
            void = ""
            bids: list[PriceSize] = []
            asks: list[PriceSize] = []
            try:
                symbol = head.symbol
                book = books.get(symbol) if type(symbol) is str else None
                if book is None:
                    book = self._l2_open(l2, table, symbol, action, out)
                    if book is None:
                        head = self._l2_skip(it, symbol, table, action, out)
                        rows = chain((head,), it)
                        continue
                head = run(rows, symbol, book.buy, book.sell, bids, asks)
            except UnknownIdError as exc:
                self.stats.unknown_keys += 1
                void = str(exc)
            except ROW_ERRORS as exc:
                out.append(self._malformed(f"{table} {action} row unusable: {describe_error(exc)}"))
                void = "row could not be applied"
                if symbol is END and rows is it:
                    next(it)  # the first run's unusable head row, still unread in `it`
            if void:
                if book is not None:
                    out.append(self._l2_void(table, book, void))
                head = self._l2_skip(it, symbol, table, action, out)
            elif bids or asks:
                if ts is END:
                    ts = _run_ts(data)
                    if head is END and not out:  # the usual frame: one run, nothing else
                        return [BookLevels(self.venue, symbol, bids, asks, False, ts)]
                out.append(BookLevels(self.venue, symbol, bids, asks, False, ts))
            if head is not END:
                rows = chain((head,), it)
        return out

    def _l2_skip(
        self, rows: Iterator[Any], symbol: Any, table: str, action: str, out: list[Event]
    ) -> Any:
        """Skip the rest of a run that is not applied: the first row of another symbol, or
        END. Rows without a usable symbol are reported."""
        for r in rows:
            try:
                if r.symbol != symbol:
                    return r
            except ROW_ERRORS as exc:
                out.append(self._malformed(f"{table} {action} row unusable: {describe_error(exc)}"))
        return END

    def _l2_void(self, table: str, book: _Book, reason: str) -> Resync:
        """Resync the state a book belongs to (its symbol, or the unfiltered subscription)."""
        if book.scope is None:
            return self._resync(table, None, f"{book.symbol}: {reason}")
        return self._resync(table, book.scope, reason)

    # ---- trades

    def _trade_inserts(self, rows: list[TradeRow]) -> list[Event] | None:
        """Typed trade inserts as Trades events, routed like `_delta` routes trade rows; None
        (nothing counted or changed) when the generic path must take the frame: no trade
        subscription yet, or a timestamp only the generic path can judge."""
        group = self._groups.get(TRADE)
        if group is None:
            return None
        states = group.by_symbol
        wildcard = group.wildcard
        venue = self.venue
        by_symbol: dict[str, list[Trade]] = {}
        dropped = False
        for r in rows:
            symbol = r.symbol
            state = (states.get(symbol) or wildcard) if states else wildcard
            if state is None:
                dropped = True
                continue
            try:
                ts = parse_ts(r.timestamp)
            except ValueError:
                return None
            trade = Trade(
                venue, symbol, r.side, r.price, r.size, ts, r.trdMatchID, r.foreignNotional
            )
            batch = by_symbol.get(symbol)
            if batch is None:
                by_symbol[symbol] = [trade]
            else:
                batch.append(trade)
        stats = self.stats
        stats.messages += 1
        stats.rows += len(rows)
        if dropped:
            stats.dropped_before_partial += 1
        return [Trades(venue, symbol, trades, False) for symbol, trades in by_symbol.items()]

    # ---- other tables

    def _partial(self, table: str, data: list[Any], msg: dict[str, Any]) -> list[Event]:
        scope = _filter_symbol(msg)
        filt = msg.get("filter")
        account = filt.get("account") if isinstance(filt, dict) else None
        keys_raw = msg.get("keys")
        keys: tuple[str, ...]
        if isinstance(keys_raw, list) and all(isinstance(k, str) for k in keys_raw):
            keys = tuple(keys_raw)
        else:
            keys = DEFAULT_KEYS.get(table, ())
        if not all(type(r) is dict for r in data):
            return [self._malformed(f"{table} partial has a row that is not an object")]
        store = bool(keys) and table not in STATELESS_TABLES
        state = _State(table, scope, keys, store, account)
        group = self._groups.get(table)
        if group is None:
            group = self._groups[table] = _Group()
        rows = state.rows
        if rows is not None:
            try:
                for r in data:
                    rows[state.key(r)] = r
            except ROW_ERRORS as exc:
                self._drop_state(table, scope)
                error = self._malformed(f"{table} partial row unusable: {describe_error(exc)}")
                return [error, self._resync(table, scope, "partial with unusable rows")]
        if scope is None:
            group.wildcard = state
        else:
            group.by_symbol[scope] = state
        return self._emit(table, PARTIAL, data, state, scope)

    def _delta(self, table: str, action: str, data: list[Any]) -> list[Event]:
        group = self._groups.get(table)
        if group is None:
            if data:
                self.stats.dropped_before_partial += 1
            return []
        applied: list[dict[str, Any]] = []
        first: _State | None = None
        trailing: list[Event] = []
        dropped = False
        by_symbol = group.by_symbol
        wildcard = group.wildcard
        for r in data:
            if type(r) is not dict:
                trailing.append(self._malformed(f"{table} {action} row is not an object"))
                continue
            state = group.route(r) if by_symbol else wildcard
            if state is None:
                dropped = True
                continue
            if first is None:
                first = state
            rows = state.rows
            if rows is None:
                if action != INSERT:
                    trailing.append(self._malformed(f"{action} on insert-only table {table}"))
                    continue
                applied.append(r)
                continue
            try:
                key = state.key(r)
            except ROW_ERRORS as exc:
                trailing.append(self._malformed(f"{table} {action} row: {describe_error(exc)}"))
                trailing.append(self._resync(table, state.symbol, "row could not be applied"))
                continue
            if action == INSERT:
                rows[key] = r
                applied.append(r)
            elif action == UPDATE:
                old = rows.get(key)
                if old is None:
                    self.stats.unknown_keys += 1
                    trailing.append(self._resync(table, state.symbol, f"update for unknown {key}"))
                    continue
                merged = {**old, **r}
                rows[key] = merged
                applied.append(merged)
            else:
                old = rows.pop(key, None)
                if old is None:
                    self.stats.unknown_keys += 1
                    trailing.append(self._resync(table, state.symbol, f"delete for unknown {key}"))
                    continue
                applied.append(old)
        if dropped:
            self.stats.dropped_before_partial += 1
        if not applied:
            return trailing
        assert first is not None
        events = self._emit(table, action, applied, first, None)
        events.extend(trailing)
        return events

    # ---- conversion of applied rows to events

    def _emit(
        self,
        table: str,
        action: str,
        rows: list[dict[str, Any]],
        state: _State,
        scope: str | None,
    ) -> list[Event]:
        snapshot = action == PARTIAL
        converted: Converted | None = None
        if table == TRADE:
            converted = trades_from_rows(self.venue, rows, snapshot, scope)
        elif table == QUOTE:
            converted = quotes_from_rows(self.venue, rows)
        elif table == ORDER_BOOK_10:
            converted = book10_from_rows(self.venue, rows, action)
        else:
            interval = TRADE_BIN_INTERVALS.get(table)
            if interval is not None:
                converted = bars_from_rows(self.venue, rows, snapshot, scope, interval)
        if converted is not None:
            events, problems = converted
            events.extend(self._malformed(problem) for problem in problems)
            return events
        account = state.account
        if account is None and rows:
            account = rows[0].get("account")
        return [
            TableRows(
                self.venue,
                table,
                action,  # type: ignore[arg-type]
                list(state.keys),
                rows,
                self.clock(),
                None if account is None else str(account),
            )
        ]


# ---------------------------------------------------------------------- module helpers


def _request_op(request: Any) -> str | None:
    """The `op` of an echoed request, when it is a string."""
    op = request.get("op") if isinstance(request, dict) else None
    return op if isinstance(op, str) else None


def _filter_symbol(msg: dict[str, Any]) -> str | None:
    filt = msg.get("filter")
    if isinstance(filt, dict):
        symbol = filt.get("symbol")
        if isinstance(symbol, str) and symbol and symbol != "*":
            return symbol
    return None


def _row_ts(data: list[Any]) -> float | None:
    """Timestamp of a message (its last row's), when the era's rows carry one.

    The feed's own shape ("2026-03-02T12:00:01.234Z") is read from the timestamp caches
    inline; anything else (or a second not cached yet) goes through parse_ts_or_none.
    """
    try:
        text = data[-1]["timestamp"]
        return SECOND_EPOCHS[text[:19]] + MILLIS_Z[text[19:]]
    except (LookupError, TypeError):
        pass
    if not data or type(data[-1]) is not dict:
        return None
    return parse_ts_or_none(data[-1].get("timestamp"))


def _compacted(levels: dict[Any, Any]) -> dict[Any, Any]:
    """The same id -> price map, rebuilt from fresh number objects allocated side by side.

    A partial's ids and prices lie scattered among the rows it was parsed into, so in a large
    book the random lookups of later deltas miss the cache on every key and price they touch;
    objects allocated together share cache lines (about 6 % more deltas per second at 50,000
    levels with changes spread over the whole book). `+ 0` copies an int or a float by value
    (only a -0.0 price, which no venue sends, would come back as 0.0); a map with other key or
    price types raises TypeError there and is kept as it is.
    """
    try:
        return {key + 0: price + 0 for key, price in levels.items()}
    except TypeError:
        return levels


def _run_ts(rows: list[Any]) -> float | None:
    """Timestamp of an L2 delta message (its last row's), when the era's rows carry one."""
    try:
        text = rows[-1].timestamp
        return SECOND_EPOCHS[text[:19]] + MILLIS_Z[text[19:]]
    except (LookupError, TypeError, AttributeError, BadRowError):
        pass
    if not rows:
        return None
    try:
        return parse_ts_or_none(rows[-1].timestamp)
    except BadRowError:
        return None


__all__ = ["BitmexEngine", "EngineStats", "parse_topic", "topic_of"]
