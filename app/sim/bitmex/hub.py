"""Renders the exchange's events as BitMEX table messages and fans them out to subscribers.

Each message is encoded once (orjson) and written to every subscribed session. Derived public
views (orderBookL2_25, orderBook10, quote) are diffed from the one order book, so every table a
client can subscribe to agrees with the book. Partials are images of the current state taken in
the same event-loop step as the registration, so image + following deltas are always consistent.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from app.sim.bitmex import rows
from app.sim.bitmex.constants import (
    BIN_TABLES,
    L2_25_DEPTH,
    OB10_DEPTH,
    T_EXECUTION,
    T_FUNDING,
    T_INSTRUMENT,
    T_L2,
    T_L2_25,
    T_LIQUIDATION,
    T_MARGIN,
    T_OB10,
    T_ORDER,
    T_POSITION,
    T_QUOTE,
    T_TRADE,
    T_WALLET,
)
from app.sim.bitmex.schema import PRIVATE_META, PUBLIC_META, QUIET_META
from app.sim.market.book import LevelChange
from app.sim.market.events import (
    BinClosed,
    BookChanged,
    FundingApplied,
    InstrumentTicked,
    LiquidationOrderChanged,
    MarginChanged,
    OrderChanged,
    PositionChanged,
    SimEvent,
    TradesPrinted,
)
from app.sim.market.symbol import SymbolMarket

if TYPE_CHECKING:
    from app.sim.market.accounts import DemoAccount
    from app.sim.market.exchange import Exchange

Row = dict[str, Any]
Topic = tuple[str, str | None]
INSTRUMENT_LAST_EVERY_S = 0.25
FUNDING_HISTORY = 12
EXECUTION_HISTORY = 100


class Subscriber(Protocol):
    """A logical connection the hub can write pre-encoded messages to."""

    subs: set[Topic]
    account: DemoAccount | None

    def send_raw(self, payload: bytes) -> None: ...


class _View25:
    """The published top-N levels of one side: level_id -> (price ticks, size)."""

    __slots__ = ("levels", "worst")

    def __init__(self) -> None:
        self.levels: dict[int, tuple[int, int]] = {}
        self.worst: int | None = None


class BitmexHub:
    """Subscription registry + renderer + fan-out for one simulator."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.subs: dict[Topic, set[Subscriber]] = {}
        self.account_sessions: dict[int, set[Subscriber]] = {}
        self.views25: dict[str, dict[str, _View25]] = {}
        self.ob10: dict[str, tuple[list[list[float]], list[list[float]]]] = {}
        self.ob10_worst: dict[str, tuple[int | None, int | None]] = {}
        self.quotes: dict[str, tuple[tuple[float, int] | None, tuple[float, int] | None]] = {}
        self.quote_ts: dict[str, float] = {}
        self.executions: dict[int, deque[Row]] = {}
        self.funding: dict[str, deque[Row]] = {}
        self._last_instrument: dict[str, float] = {}
        self._instrument_dirty: set[str] = set()
        self.messages_sent = 0
        now = exchange.clock()
        for sym, m in exchange.markets.items():
            self.quotes[sym] = self._top(m)
            self.quote_ts[sym] = now
            hist: deque[Row] = deque(maxlen=FUNDING_HISTORY)
            t = m.stats.next_funding - m.funding_interval * FUNDING_HISTORY
            for _ in range(FUNDING_HISTORY):
                rate = round(exchange.rng.gauss(0.0001, 0.00005), 6)
                hist.append(rows.funding_row(sym, t, m.funding_interval, rate))
                t += m.funding_interval
            self.funding[sym] = hist
        exchange.listeners.append(self.on_event)

    def detach(self) -> None:
        """Stop listening to the exchange."""
        if self.on_event in self.exchange.listeners:
            self.exchange.listeners.remove(self.on_event)

    # -- registry -------------------------------------------------------------------------

    def has_subs(self, table: str, symbol: str | None) -> bool:
        """Anyone subscribed to `table` for `symbol` (filtered or not)?"""
        return bool(self.subs.get((table, symbol)) or self.subs.get((table, None)))

    def add(self, session: Subscriber, table: str, symbol: str | None) -> None:
        """Register a subscription (deltas flow from now on)."""
        session.subs.add((table, symbol))
        self.subs.setdefault((table, symbol), set()).add(session)
        for sym in self._symbols(symbol):
            m = self.exchange.markets[sym]
            if table == T_L2_25 and sym not in self.views25:
                self.views25[sym] = {side: self._fresh25(m, side) for side in ("Buy", "Sell")}
            if table == T_OB10 and sym not in self.ob10:
                self._set_ob10(m)

    def remove(self, session: Subscriber, table: str, symbol: str | None) -> None:
        """Drop a subscription."""
        session.subs.discard((table, symbol))
        group = self.subs.get((table, symbol))
        if group is not None:
            group.discard(session)
            if not group:
                del self.subs[(table, symbol)]
        for sym in self._symbols(symbol):
            if table == T_L2_25 and not self.has_subs(T_L2_25, sym):
                self.views25.pop(sym, None)
            if table == T_OB10 and not self.has_subs(T_OB10, sym):
                self.ob10.pop(sym, None)

    def attach_account(self, session: Subscriber) -> None:
        """Route the session's account's private messages to it."""
        if session.account is not None:
            self.account_sessions.setdefault(session.account.number, set()).add(session)

    def drop(self, session: Subscriber) -> None:
        """Forget a closed session entirely."""
        for table, symbol in list(session.subs):
            self.remove(session, table, symbol)
        if session.account is not None:
            group = self.account_sessions.get(session.account.number)
            if group is not None:
                group.discard(session)

    def _symbols(self, symbol: str | None) -> Iterable[str]:
        if symbol is None:
            return list(self.exchange.markets)
        return [symbol] if symbol in self.exchange.markets else []

    # -- images (partials) ----------------------------------------------------------------

    def partial(self, table: str, symbol: str | None, account: DemoAccount | None) -> Row:
        """The partial message for a topic, from the current state."""
        now = self.exchange.clock()
        ts = rows.iso(now)
        symbols = self._symbols(symbol)
        data: list[Row] = []
        meta = PUBLIC_META.get(table) or PRIVATE_META.get(table) or QUIET_META
        filt: dict[str, Any] = {}
        if account is not None and table in PRIVATE_META:
            filt["account"] = account.number
        if symbol is not None:
            filt["symbol"] = symbol
        markets = self.exchange.markets
        if table in (T_L2, T_L2_25):
            depth = None if table == T_L2 else L2_25_DEPTH
            for sym in symbols:
                m = markets[sym]
                for side in ("Sell", "Buy"):
                    levels = m.book.levels(side, depth)
                    if side == "Sell":
                        levels = list(reversed(levels))
                    for lv in levels:
                        ch = LevelChange(side, lv.price, lv.level_id, lv.size, "insert")
                        data.append(rows.l2_row(m.spec, ch, ts))
        elif table == T_OB10:
            for sym in symbols:
                bids, asks = self.ob10.get(sym) or self._ob10_lists(markets[sym])
                data.append({"symbol": sym, "bids": bids, "asks": asks, "timestamp": ts})
        elif table == T_QUOTE:
            for sym in symbols:
                bid, ask = self.quotes[sym]
                data.append(rows.quote_row(sym, rows.iso(self.quote_ts[sym]), bid, ask))
        elif table == T_TRADE:
            for sym in symbols:
                last = markets[sym].last_print
                if last is not None:
                    data.append(rows.trade_row(markets[sym].spec, last))
        elif table in BIN_TABLES:
            tf = BIN_TABLES[table]
            for sym in symbols:
                data.extend(rows.bin_row(sym, b) for b in markets[sym].bins[tf].history)
        elif table == T_INSTRUMENT:
            for sym in symbols:
                bid, ask = self.quotes[sym]
                data.append(
                    rows.instrument_row(
                        markets[sym], now, bid[0] if bid else None, ask[0] if ask else None
                    )
                )
        elif table == T_FUNDING:
            for sym in symbols:
                data.extend(self.funding[sym])
        elif table == T_LIQUIDATION:
            for sym, o in self.exchange.liquidation_orders():
                if symbol is None or sym == symbol:
                    spec = markets[sym].spec
                    data.append(
                        rows.liquidation_row(o.order_id, sym, o.side, spec.price(o.price), o.leaves)
                    )
        elif account is not None:
            data = self._private_image(table, symbol, account)
        return {"table": table, "action": "partial", **meta, "filter": filt, "data": data}

    def _private_image(self, table: str, symbol: str | None, acct: DemoAccount) -> list[Row]:
        markets = self.exchange.markets
        if table == T_ORDER:
            return [rows.order_row(o) for o in acct.open_orders(symbol)]
        if table == T_EXECUTION:
            return [
                r
                for r in self.executions.get(acct.number, ())
                if symbol is None or r["symbol"] == symbol
            ]
        if table == T_POSITION:
            return [
                rows.position_row(markets[s].spec, p, full=True)
                for s, p in acct.positions.items()
                if symbol is None or s == symbol
            ]
        if table == T_MARGIN:
            return [self._margin_row(acct, c) for c in acct.balances]
        if table == T_WALLET:
            return [rows.wallet_row(acct, b) for b in acct.balances.values()]
        return []

    # -- event fan-out --------------------------------------------------------------------

    def _send(self, targets: Iterable[Subscriber], msg: Row) -> None:
        payload = orjson.dumps(msg)
        for s in targets:
            s.send_raw(payload)
            self.messages_sent += 1

    def targets(self, table: str, symbol: str) -> set[Subscriber]:
        a = self.subs.get((table, symbol))
        b = self.subs.get((table, None))
        if a and b:
            return a | b
        return a or b or set()

    def publish(self, table: str, symbol: str, action: str, data: list[Row]) -> None:
        """Send one table message to the subscribers of (table, symbol)."""
        targets = self.targets(table, symbol)
        if targets and data:
            self._send(targets, {"table": table, "action": action, "data": data})

    def on_event(self, ev: SimEvent) -> None:
        """Exchange listener: render and fan out one event."""
        if isinstance(ev, BookChanged):
            self._on_book(ev)
        elif isinstance(ev, TradesPrinted):
            spec = self.exchange.markets[ev.symbol].spec
            if self.has_subs(T_TRADE, ev.symbol):
                self.publish(
                    T_TRADE, ev.symbol, "insert", [rows.trade_row(spec, p) for p in ev.prints]
                )
        elif isinstance(ev, InstrumentTicked):
            self._on_instrument(ev)
        elif isinstance(ev, BinClosed):
            for table, tf in BIN_TABLES.items():
                if tf == ev.timeframe:
                    self.publish(table, ev.symbol, "insert", [rows.bin_row(ev.symbol, ev.bin)])
        elif isinstance(ev, FundingApplied):
            row = rows.funding_row(ev.symbol, ev.timestamp, ev.interval_s, ev.rate)
            self.funding[ev.symbol].append(row)
            self.publish(T_FUNDING, ev.symbol, "insert", [row])
        elif isinstance(ev, LiquidationOrderChanged):
            self._on_liquidation(ev)
        elif isinstance(ev, OrderChanged):
            self._on_order(ev)
        elif isinstance(ev, PositionChanged):
            spec = self.exchange.markets[ev.position.symbol].spec
            self._private(
                ev.account,
                T_POSITION,
                ev.position.symbol,
                "update",
                [rows.position_row(spec, ev.position, full=False)],
            )
        elif isinstance(ev, MarginChanged):
            self._private(
                ev.account, T_MARGIN, None, "update", [self._margin_row(ev.account, ev.currency)]
            )
            if ev.wallet:
                bal = ev.account.balance(ev.currency)
                self._private(
                    ev.account, T_WALLET, None, "update", [rows.wallet_row(ev.account, bal)]
                )

    def _on_book(self, ev: BookChanged) -> None:
        m = self.exchange.markets[ev.symbol]
        sym = ev.symbol
        ts = rows.iso(ev.timestamp)
        if self.has_subs(T_L2, sym):
            self._publish_changes(T_L2, m, ev.changes, ts)
        view = self.views25.get(sym)
        if view is not None:
            self._update25(m, view, ev.changes, ts)
        if sym in self.ob10:
            self._update_ob10(m, ev.changes, ts)
        top = self._top(m)
        if top != self.quotes[sym]:
            self.quotes[sym] = top
            self.quote_ts[sym] = ev.timestamp
            if self.has_subs(T_QUOTE, sym):
                self.publish(T_QUOTE, sym, "insert", [rows.quote_row(sym, ts, top[0], top[1])])

    def _publish_changes(
        self, table: str, m: SymbolMarket, changes: list[LevelChange], ts: str
    ) -> None:
        for action in ("delete", "update", "insert"):
            group = [rows.l2_row(m.spec, ch, ts) for ch in changes if ch.action == action]
            if group:
                self.publish(table, m.spec.symbol, action, group)

    @staticmethod
    def _top(m: SymbolMarket) -> tuple[tuple[float, int] | None, tuple[float, int] | None]:
        bid = m.book.best("Buy")
        ask = m.book.best("Sell")
        return (
            (m.spec.price(bid.price), bid.size) if bid is not None else None,
            (m.spec.price(ask.price), ask.size) if ask is not None else None,
        )

    @staticmethod
    def _fresh25(m: SymbolMarket, side: str) -> _View25:
        view = _View25()
        levels = m.book.levels("Buy" if side == "Buy" else "Sell", L2_25_DEPTH)
        view.levels = {lv.level_id: (lv.price, lv.size) for lv in levels}
        view.worst = levels[-1].price if len(levels) >= L2_25_DEPTH else None
        return view

    def _update25(
        self, m: SymbolMarket, views: dict[str, _View25], changes: list[LevelChange], ts: str
    ) -> None:
        out: list[LevelChange] = []
        for side in ("Buy", "Sell"):
            view = views[side]
            worst = view.worst
            relevant = [
                ch
                for ch in changes
                if ch.side == side
                and (worst is None or (ch.price >= worst if side == "Buy" else ch.price <= worst))
            ]
            if not relevant:
                continue
            levels = view.levels
            if all(ch.action == "update" and ch.level_id in levels for ch in relevant):
                # Size changes of levels already shown: the top-N set is unchanged.
                for ch in relevant:
                    levels[ch.level_id] = (ch.price, ch.size)
                    out.append(ch)
                continue
            fresh = self._fresh25(m, side)
            old = view.levels
            for lid, (price, _size) in old.items():
                if lid not in fresh.levels:
                    out.append(LevelChange(side, price, lid, 0, "delete"))
            for lid, (price, size) in fresh.levels.items():
                prev = old.get(lid)
                if prev is None:
                    out.append(LevelChange(side, price, lid, size, "insert"))
                elif prev[1] != size:
                    out.append(LevelChange(side, price, lid, size, "update"))
            views[side] = fresh
        if out and self.has_subs(T_L2_25, m.spec.symbol):
            self._publish_changes(T_L2_25, m, out, ts)

    @staticmethod
    def _ob10_lists(m: SymbolMarket) -> tuple[list[list[float]], list[list[float]]]:
        p = m.spec.price
        bids = [[p(lv.price), lv.size] for lv in m.book.levels("Buy", OB10_DEPTH)]
        asks = [[p(lv.price), lv.size] for lv in m.book.levels("Sell", OB10_DEPTH)]
        return bids, asks

    def _set_ob10(self, m: SymbolMarket) -> None:
        sym = m.spec.symbol
        self.ob10[sym] = self._ob10_lists(m)
        bid_w = m.book.nth_price("Buy", OB10_DEPTH - 1)
        ask_w = m.book.nth_price("Sell", OB10_DEPTH - 1)
        self.ob10_worst[sym] = (bid_w, ask_w)

    def _update_ob10(self, m: SymbolMarket, changes: list[LevelChange], ts: str) -> None:
        sym = m.spec.symbol
        bid_w, ask_w = self.ob10_worst.get(sym, (None, None))
        relevant = False
        for ch in changes:
            worst = bid_w if ch.side == "Buy" else ask_w
            if worst is None or (ch.price >= worst if ch.side == "Buy" else ch.price <= worst):
                relevant = True
                break
        if not relevant:
            return
        before = self.ob10.get(sym)
        self._set_ob10(m)
        after = self.ob10[sym]
        if after != before and self.has_subs(T_OB10, sym):
            row = {"symbol": sym, "bids": after[0], "asks": after[1], "timestamp": ts}
            self.publish(T_OB10, sym, "update", [row])

    def _on_instrument(self, ev: InstrumentTicked) -> None:
        m = ev.market
        sym = m.spec.symbol
        if not self.has_subs(T_INSTRUMENT, sym):
            return
        if "last" in ev.fields:
            if ev.timestamp - self._last_instrument.get(sym, 0.0) < INSTRUMENT_LAST_EVERY_S:
                self._instrument_dirty.add(sym)
                return
            self._last_instrument[sym] = ev.timestamp
            self._instrument_dirty.discard(sym)
            self.publish(
                T_INSTRUMENT, sym, "update", [rows.instrument_last_update(m, ev.timestamp)]
            )
            return
        self._instrument_dirty.discard(sym)
        bid, ask = self.quotes[sym]
        row = rows.instrument_mark_update(
            m, ev.timestamp, bid[0] if bid else None, ask[0] if ask else None
        )
        self.publish(T_INSTRUMENT, sym, "update", [row])

    def flush(self) -> None:
        """Publish instrument statistics held back by the update throttle (e.g. at a freeze)."""
        now = self.exchange.clock()
        for sym in sorted(self._instrument_dirty):
            m = self.exchange.markets[sym]
            self.publish(T_INSTRUMENT, sym, "update", [rows.instrument_last_update(m, now)])
        self._instrument_dirty.clear()

    def _on_liquidation(self, ev: LiquidationOrderChanged) -> None:
        if ev.action == "insert":
            row = rows.liquidation_row(ev.order_id, ev.symbol, ev.side, ev.price, ev.leaves)
        elif ev.action == "update":
            row = {"orderID": ev.order_id, "symbol": ev.symbol, "leavesQty": ev.leaves}
        else:
            row = {"orderID": ev.order_id, "symbol": ev.symbol}
        self.publish(T_LIQUIDATION, ev.symbol, ev.action, [row])

    # -- private --------------------------------------------------------------------------

    def _private(
        self, acct: DemoAccount, table: str, symbol: str | None, action: str, data: list[Row]
    ) -> None:
        sessions = self.account_sessions.get(acct.number)
        if not sessions:
            return
        targets = [
            s
            for s in sessions
            if (table, None) in s.subs or (symbol is not None and (table, symbol) in s.subs)
        ]
        if targets:
            self._send(targets, {"table": table, "action": action, "data": data})

    def _on_order(self, ev: OrderChanged) -> None:
        acct = ev.account
        o = ev.order
        if ev.action == "insert":
            self._private(acct, T_ORDER, o.symbol, "insert", [rows.order_row(o)])
        else:
            self._private(acct, T_ORDER, o.symbol, "update", [rows.order_update(o, ev.fields)])
        spec = self.exchange.markets[o.symbol].spec
        exec_row = rows.execution_row(spec, ev.execution)
        self.executions.setdefault(acct.number, deque(maxlen=EXECUTION_HISTORY)).append(exec_row)
        self._private(acct, T_EXECUTION, o.symbol, "insert", [exec_row])

    def _margin_row(self, acct: DemoAccount, currency: str) -> Row:
        markets = self.exchange.markets
        upnl = maint = init = 0
        for sym, pos in acct.positions.items():
            if pos.currency != currency:
                continue
            spec = markets[sym].spec
            upnl += pos.unrealised_pnl(spec)
            maint += pos.maint_margin(spec)
            init += pos.pos_margin()
        for o in acct.open_orders():
            if o.settl_currency == currency and o.price is not None:
                spec = markets[o.symbol].spec
                lev = acct.position(spec).leverage
                init += round(abs(spec.value(o.leaves_qty, o.price)) / lev)
        return rows.margin_row(acct, acct.balance(currency), upnl, maint, init)
