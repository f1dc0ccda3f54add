"""The simulated exchange: market-maker and taker agents, demo accounts, liquidations.

Venue-neutral. `step()` performs one random market action (a maker quote, a cancel or an
aggressive order) through the matching engine; `tick(now)` advances time-driven state (fair
price walk, bins, instrument statistics, funding, demo-account agents, liquidations, dead man's
switches). Every consequence is reported to the listeners as `app.sim.market.events` objects,
synchronously and in order, so front-ends publish a consistent stream.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import string
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from app.feeds.events import Side, Trade
from app.sim.market.accounts import DemoAccount, DemoOrder, Execution
from app.sim.market.book import BookResult, Fill, RestingOrder
from app.sim.market.events import (
    BinClosed,
    BookChanged,
    FundingApplied,
    InstrumentTicked,
    LiquidationOrderChanged,
    MarginChanged,
    OrderChanged,
    PositionChanged,
    Print,
    SimEvent,
    TradesPrinted,
)
from app.sim.market.instruments import spec_for
from app.sim.market.symbol import SymbolMarket

Listener = Callable[[SimEvent], None]
MM_OWNER = "mm"
TAKER_OWNER = "taker"
LIQ_OWNER = "liq"
ACCOUNT_PREFIX = "acct:"
INITIAL_LEVELS = 60
TARGET_ORDERS = 300
MIN_LEVELS = 8
MARK_EVERY_S = 1.0
LIQ_ORDER_TTL_S = 20.0
PUBLIC_LIQ_MEAN_S = 15.0
DEMO_MAX_OPEN = 4


@dataclass(slots=True)
class _LiqOrder:
    symbol: str
    order: RestingOrder
    expires: float


def _opposite(side: Side) -> Side:
    return "Sell" if side == "Buy" else "Buy"


def generate_credentials(rng: random.Random) -> tuple[str, str]:
    """A BitMEX-looking API key (24 chars) and secret (48 chars) from `rng`."""
    alphabet = string.ascii_letters + string.digits
    key = "".join(rng.choice(alphabet) for _ in range(24))
    secret = "".join(rng.choice(alphabet + "-_") for _ in range(48))
    return key, secret


class Exchange:
    """All simulated markets and demo accounts of one simulator instance."""

    def __init__(
        self,
        symbols: list[str],
        *,
        seed: int = 1,
        clock: Callable[[], float] = time.time,
        accounts: list[tuple[str, str]] | None = None,
        funding_interval: float = 8 * 3600.0,
        demo_activity: bool = True,
        demo_interval: float = 1.2,
    ) -> None:
        self.rng = random.Random(seed)
        self.clock = clock
        self.listeners: list[Listener] = []
        self.frozen = False
        self.demo_activity = demo_activity
        self.demo_interval = demo_interval
        now = clock()
        self._level_ids = itertools.count(self.rng.randint(10**8, 9 * 10**8))
        self._mm_ids = itertools.count(1)
        self.markets: dict[str, SymbolMarket] = {
            s: SymbolMarket(spec_for(s), self.rng, now, self._level_ids, funding_interval)
            for s in symbols
        }
        self._mm_orders: dict[str, list[str]] = {s: [] for s in symbols}
        self._liq_orders: dict[str, _LiqOrder] = {}
        self._last_mark: dict[str, float] = dict.fromkeys(symbols, now)
        self._last_tick = now
        for m in self.markets.values():
            self._seed_book(m)
        creds = accounts if accounts is not None else [generate_credentials(self.rng)]
        self.accounts: dict[str, DemoAccount] = {}
        for i, (key, secret) in enumerate(creds):
            acct = DemoAccount(
                number=100_001 + i, key=key, secret=secret, next_agent_at=now + demo_interval
            )
            for m in self.markets.values():
                acct.position(m.spec).mark_price = m.stats.mark_price
                acct.balance(m.spec.settl_currency)
            acct.balance("USDt")
            self.accounts[key] = acct
        if demo_activity:
            for acct in self.accounts.values():
                self._seed_demo_orders(acct)

    # -- ids ------------------------------------------------------------------------------

    def new_uuid(self) -> str:
        """A random-looking GUID drawn from the seeded generator."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # -- listeners ------------------------------------------------------------------------

    def _emit(self, event: SimEvent) -> None:
        for listener in self.listeners:
            listener(event)

    # -- seeding --------------------------------------------------------------------------

    def _seed_book(self, m: SymbolMarket) -> None:
        fair = m.fair_ticks
        for i in range(INITIAL_LEVELS):
            for side in ("Buy", "Sell"):
                price = fair - 1 - i if side == "Buy" else fair + 1 + i
                for _ in range(self.rng.randint(1, 3)):
                    self._mm_rest(m, side, price, self._maker_size(m), emit=False)

    def _seed_demo_orders(self, acct: DemoAccount) -> None:
        for m in self.markets.values():
            lot = m.spec.lot_size
            self.place_order(acct, m.spec.symbol, "Buy", lot * self.rng.randint(1, 5))
            for side in ("Buy", "Sell"):
                best = m.book.best(side)
                base = best.price if best is not None else m.fair_ticks
                offset = self.rng.randint(2, 8)
                price = base - offset if side == "Buy" else base + offset
                qty = lot * self.rng.randint(1, 10)
                self.place_order(acct, m.spec.symbol, side, qty, m.spec.price(price))

    def _maker_size(self, m: SymbolMarket) -> int:
        return m.spec.lot_size * max(1, int(self.rng.paretovariate(1.3) * 5))

    # -- market actions -------------------------------------------------------------------

    def step(self) -> int:
        """One random market action on a random symbol; returns the number of book changes.

        Takers trade more (and in the fair price's direction) the further the book's mid has
        drifted from the fair price; makers add quotes around the fair price and cancel stale
        or distant ones, more eagerly once the book holds more than `TARGET_ORDERS`.
        """
        if self.frozen or not self.markets:
            return 0
        m = self.markets[self.rng.choice(list(self.markets))]
        book = m.book
        bid_depth, ask_depth = book.depth("Buy"), book.depth("Sell")
        if bid_depth < MIN_LEVELS or ask_depth < MIN_LEVELS:
            return self._maker_add(m, "Buy" if bid_depth <= ask_depth else "Sell")
        gap = m.fair_ticks - m.spec.ticks(m.mid())
        if self.rng.random() < 0.16 + min(0.3, abs(gap) / 40):
            return self._taker(m, gap)
        n_orders = len(book.orders)
        if n_orders < TARGET_ORDERS // 2:
            add_share = 0.8
        elif n_orders < TARGET_ORDERS:
            add_share = 0.62
        else:
            add_share = 0.42
        if self.rng.random() < add_share:
            side: Side = (
                "Buy" if self.rng.random() < ask_depth / (bid_depth + ask_depth) else "Sell"
            )
            return self._maker_add(m, side)
        return self._maker_cancel(m)

    def _maker_add(self, m: SymbolMarket, side: Side) -> int:
        fair = m.fair_ticks
        offset = int(self.rng.expovariate(1 / 8.0))
        if side == "Buy":
            ask = m.book.best("Sell")
            top = min(fair - 1, ask.price - 1) if ask is not None else fair - 1
            price = top - offset
        else:
            bid = m.book.best("Buy")
            top = max(fair + 1, bid.price + 1) if bid is not None else fair + 1
            price = top + offset
        if price <= 0:
            return 0
        return self._mm_rest(m, side, price, self._maker_size(m), emit=True)

    def _mm_rest(self, m: SymbolMarket, side: Side, price: int, qty: int, *, emit: bool) -> int:
        order_id = f"m{next(self._mm_ids)}"
        order = RestingOrder(order_id, MM_OWNER, side, price, qty, qty)
        result = m.book.submit(order, rest=True)
        self._mm_orders[m.spec.symbol].append(order_id)
        if emit:
            self._publish(m, result)
        return len(result.changes)

    def _maker_cancel(self, m: SymbolMarket) -> int:
        """Cancel the stalest of a few sampled maker orders (wrong side of fair, or far)."""
        ids = self._mm_orders[m.spec.symbol]
        if len(ids) > 2 * len(m.book.orders) + 64:
            ids[:] = [oid for oid in ids if oid in m.book.orders]
        fair = m.fair_ticks
        best_id: str | None = None
        best_score = -1
        for _ in range(3):
            if not ids:
                break
            idx = self.rng.randrange(len(ids))
            oid = ids[idx]
            order = m.book.orders.get(oid)
            if order is None:
                ids[idx] = ids[-1]
                ids.pop()
                continue
            wrong_side = order.price >= fair if order.side == "Buy" else order.price <= fair
            score = abs(order.price - fair) + (10_000 if wrong_side else 0)
            if score > best_score:
                best_id, best_score = oid, score
        if best_id is None:
            return 0
        result = m.book.cancel(best_id)
        self._publish(m, result)
        return len(result.changes)

    def _taker(self, m: SymbolMarket, gap: int) -> int:
        """An aggressive order; pulled towards the fair price when the book lags it."""
        reach = self.rng.randint(0, 3)
        if abs(gap) > 2 and self.rng.random() < 0.85:
            side: Side = "Buy" if gap > 0 else "Sell"
            reach += min(abs(gap) // 3, 12)
        else:
            side = "Buy" if self.rng.random() < 0.5 else "Sell"
        best = m.book.best(_opposite(side))
        if best is None:
            return 0
        price = best.price + reach if side == "Buy" else best.price - reach
        qty = m.spec.lot_size * max(1, int(self.rng.paretovariate(1.5) * 3))
        order = RestingOrder(f"t{next(self._mm_ids)}", TAKER_OWNER, side, price, qty, qty)
        result = m.book.submit(order, rest=False)
        self._publish(m, result)
        return len(result.changes)

    # -- publication of a book operation --------------------------------------------------

    def _publish(self, m: SymbolMarket, result: BookResult) -> None:
        now = self.clock()
        symbol = m.spec.symbol
        if result.changes:
            self._emit(BookChanged(symbol, result.changes, now))
        if not result.fills:
            return
        prints: list[Print] = []
        for fill in result.fills:
            price = m.spec.price(fill.price)
            prints.append(m.record_print(fill.taker.side, price, fill.qty, now, self.new_uuid()))
        self._emit(TradesPrinted(symbol, prints, now))
        self._emit(InstrumentTicked(m, ("last",), now))
        for fill, pr in zip(result.fills, prints, strict=True):
            self._route_fill(m, fill, fill.maker, "AddedLiquidity", pr)
            self._route_fill(m, fill, fill.taker, "RemovedLiquidity", pr)

    def _route_fill(
        self, m: SymbolMarket, fill: Fill, order: RestingOrder, liquidity: str, pr: Print
    ) -> None:
        owner = order.owner
        if owner.startswith(ACCOUNT_PREFIX):
            acct = self.accounts.get(owner[len(ACCOUNT_PREFIX) :])
            if acct is not None:
                self._account_fill(acct, m, order.order_id, fill.qty, pr, liquidity)
        elif owner == LIQ_OWNER and order is fill.maker:
            action: Literal["update", "delete"] = "update" if order.leaves > 0 else "delete"
            if action == "delete":
                self._liq_orders.pop(order.order_id, None)
            self._emit(
                LiquidationOrderChanged(
                    m.spec.symbol,
                    order.order_id,
                    order.side,
                    m.spec.price(order.price),
                    order.leaves,
                    action,
                )
            )

    def _account_fill(
        self, acct: DemoAccount, m: SymbolMarket, order_id: str, qty: int, pr: Print, liq: str
    ) -> None:
        order = acct.orders.get(order_id)
        if order is None:
            return
        spec = m.spec
        order.leaves_qty -= qty
        order.cum_qty += qty
        order.notional_sum += pr.price * qty
        order.avg_px = round(order.notional_sum / order.cum_qty, spec.decimals + 2)
        order.ord_status = "Filled" if order.leaves_qty == 0 else "PartiallyFilled"
        order.working = order.leaves_qty > 0
        order.timestamp = pr.timestamp
        rate = spec.maker_fee if liq == "AddedLiquidity" else spec.taker_fee
        signed = qty if order.side == "Buy" else -qty
        exec_cost = spec.value(signed, pr.price)
        comm = round(abs(exec_cost) * rate)
        ex = Execution(
            exec_id=self.new_uuid(),
            order=order,
            exec_type="Trade",
            timestamp=pr.timestamp,
            last_qty=qty,
            last_px=pr.price,
            liquidity=liq,
            commission=rate,
            exec_cost=exec_cost,
            exec_comm=comm,
            trd_match_id=pr.match_id,
        )
        fields = ("ordStatus", "leavesQty", "cumQty", "avgPx", "workingIndicator")
        self._emit(OrderChanged(acct, order, "update", fields, ex))
        self._book_position(acct, m, order.side, qty, pr.price, comm, pr.timestamp)

    def _book_position(
        self,
        acct: DemoAccount,
        m: SymbolMarket,
        side: Side,
        qty: int,
        price: float,
        comm: int,
        ts: float,
    ) -> None:
        spec = m.spec
        pos = acct.position(spec)
        was_flat = pos.current_qty == 0
        realised = pos.apply_fill(spec, side, qty, price)
        pos.realised_pnl -= comm
        pos.exec_comm += comm
        pos.timestamp = ts
        pos.last_price = price
        if was_flat and pos.current_qty:
            pos.opening_timestamp = ts
        bal = acct.balance(spec.settl_currency)
        bal.realised_pnl += realised - comm
        bal.commission += comm
        bal.timestamp = ts
        self._emit(PositionChanged(acct, pos, ("fill",)))
        self._emit(MarginChanged(acct, spec.settl_currency, wallet=True))

    # -- demo account API -----------------------------------------------------------------

    def account(self, key: str) -> DemoAccount:
        """The demo account with API key `key` (KeyError if unknown)."""
        return self.accounts[key]

    def place_order(
        self,
        acct: DemoAccount,
        symbol: str,
        side: Side,
        qty: int,
        price: float | None = None,
        *,
        text: str = "Submitted via API.",
    ) -> DemoOrder:
        """Place a limit order (`price` given) or a market order for a demo account."""
        m = self.markets[symbol]
        spec = m.spec
        now = self.clock()
        if price is not None:
            ticks = spec.ticks(price)
            price = spec.price(ticks)
        else:
            best = m.book.best(_opposite(side))
            ref = best.price if best is not None else m.fair_ticks
            ticks = ref + 200 if side == "Buy" else max(1, ref - 200)
        order = DemoOrder(
            order_id=self.new_uuid(),
            account=acct.number,
            symbol=symbol,
            side=side,
            order_qty=qty,
            price=price,
            ord_type="Limit" if price is not None else "Market",
            time_in_force="GoodTillCancel" if price is not None else "ImmediateOrCancel",
            settl_currency=spec.settl_currency,
            currency=spec.quote_currency,
            created=now,
            leaves_qty=qty,
            text=text,
            timestamp=now,
        )
        acct.orders[order.order_id] = order
        self._emit(
            OrderChanged(acct, order, "insert", (), Execution(self.new_uuid(), order, "New", now))
        )
        resting = RestingOrder(order.order_id, ACCOUNT_PREFIX + acct.key, side, ticks, qty, qty)
        result = m.book.submit(resting, rest=order.ord_type == "Limit")
        self._publish(m, result)
        if order.ord_type == "Market" and order.leaves_qty > 0:
            self._cancel_record(acct, order, "Canceled: Market order had no more liquidity")
        self._prune_orders(acct)
        return order

    def cancel_order(
        self, acct: DemoAccount, order_id: str, text: str = "Canceled via API."
    ) -> bool:
        """Cancel a working demo order; False if it is not open."""
        order = acct.orders.get(order_id)
        if order is None or not order.is_open:
            return False
        m = self.markets[order.symbol]
        result = m.book.cancel(order_id)
        self._publish(m, result)
        self._cancel_record(acct, order, text)
        return True

    def cancel_all(self, acct: DemoAccount, text: str, symbol: str | None = None) -> int:
        """Cancel every working order of an account (optionally of one symbol)."""
        count = 0
        for order in acct.open_orders(symbol):
            count += self.cancel_order(acct, order.order_id, text)
        return count

    def _cancel_record(self, acct: DemoAccount, order: DemoOrder, text: str) -> None:
        now = self.clock()
        order.ord_status = "Canceled"
        order.leaves_qty = 0
        order.working = False
        order.text = text
        order.timestamp = now
        ex = Execution(self.new_uuid(), order, "Canceled", now, text=text)
        fields = ("ordStatus", "leavesQty", "workingIndicator", "text")
        self._emit(OrderChanged(acct, order, "update", fields, ex))

    def _prune_orders(self, acct: DemoAccount, keep: int = 200) -> None:
        closed = [oid for oid, o in acct.orders.items() if not o.is_open]
        for oid in closed[: max(0, len(closed) - keep)]:
            del acct.orders[oid]

    def set_cancel_all_after(self, acct: DemoAccount, timeout_ms: int) -> float | None:
        """Arm (timeout_ms > 0) or disarm (0) the dead man's switch; returns the cancel time."""
        if timeout_ms <= 0:
            acct.cancel_all_at = None
        else:
            acct.cancel_all_at = self.clock() + timeout_ms / 1000.0
        return acct.cancel_all_at

    def set_leverage(self, acct: DemoAccount, symbol: str, leverage: float) -> None:
        """Change a position's isolated leverage (recomputes its liquidation price)."""
        m = self.markets[symbol]
        pos = acct.position(m.spec)
        pos.leverage = leverage
        pos.recompute_prices(m.spec)
        self._emit(PositionChanged(acct, pos, ("leverage",)))

    def set_fair(self, symbol: str, price: float) -> None:
        """Move a symbol's fair (and mark) price at once and re-mark every position."""
        m = self.markets[symbol]
        m.fair = price
        self._mark(m, self.clock())

    # -- time-driven state ----------------------------------------------------------------

    def tick(self, now: float | None = None) -> None:
        """Advance time-driven state to `now`."""
        now = self.clock() if now is None else now
        dt = max(0.0, now - self._last_tick)
        self._last_tick = now
        for acct in self.accounts.values():
            if acct.cancel_all_at is not None and now >= acct.cancel_all_at:
                acct.cancel_all_at = None
                self.cancel_all(acct, "Canceled: Cancel all after timeout\nSubmitted via API.")
        if self.frozen:
            return
        for m in self.markets.values():
            m.walk(now)
            self._roll_bins(m, now)
            if now - self._last_mark[m.spec.symbol] >= MARK_EVERY_S:
                self._mark(m, now)
            if now >= m.stats.next_funding:
                self._fund(m, now)
            if self.rng.random() < dt / PUBLIC_LIQ_MEAN_S:
                self._public_liquidation(m)
        for oid, liq in list(self._liq_orders.items()):
            if now >= liq.expires:
                self._drop_liq(oid)
        if self.demo_activity:
            for acct in self.accounts.values():
                if now >= acct.next_agent_at:
                    spread = self.demo_interval / 2
                    acct.next_agent_at = now + self.rng.uniform(spread, 3 * spread)
                    self._demo_agent(acct)

    def _roll_bins(self, m: SymbolMarket, now: float) -> None:
        for tf, series in m.bins.items():
            for closed in series.roll(now):
                self._emit(BinClosed(m.spec.symbol, tf, closed))

    def _mark(self, m: SymbolMarket, now: float) -> None:
        self._last_mark[m.spec.symbol] = now
        st = m.stats
        digits = max(2, m.spec.decimals)
        st.fair_price = round(m.fair, digits)
        st.mark_price = st.fair_price
        st.index_price = round(m.fair * (1 + self.rng.gauss(0, 2e-5)), digits)
        st.indicative_funding_rate = max(
            -0.0375, min(0.0375, st.indicative_funding_rate + self.rng.gauss(0, 2e-6))
        )
        st.open_interest = max(0, st.open_interest + self.rng.randint(-20, 20) * m.spec.lot_size)
        self._emit(InstrumentTicked(m, ("mark",), now))
        for acct in self.accounts.values():
            pos = acct.positions.get(m.spec.symbol)
            if pos is None:
                continue
            pos.mark_price = st.mark_price
            pos.timestamp = now
            if pos.current_qty:
                self._emit(PositionChanged(acct, pos, ("mark",)))
                self._emit(MarginChanged(acct, m.spec.settl_currency, wallet=False))
                if pos.should_liquidate():
                    self._liquidate(acct, m, now)

    def _fund(self, m: SymbolMarket, now: float) -> None:
        st = m.stats
        st.funding_rate = round(st.indicative_funding_rate, 6)
        funding_time = st.next_funding
        self._emit(FundingApplied(m.spec.symbol, st.funding_rate, funding_time, m.funding_interval))
        while st.next_funding <= now:
            st.next_funding += m.funding_interval
        self._emit(InstrumentTicked(m, ("funding",), now))

    def _liquidate(self, acct: DemoAccount, m: SymbolMarket, now: float) -> None:
        spec = m.spec
        pos = acct.position(spec)
        qty = abs(pos.current_qty)
        side: Side = "Sell" if pos.current_qty > 0 else "Buy"
        price = pos.bankrupt_price or m.stats.mark_price
        self.cancel_all(acct, "Canceled: Liquidation", symbol=spec.symbol)
        pos.pos_state = "Liquidation"
        self._emit(PositionChanged(acct, pos, ("posState",)))
        order = DemoOrder(
            order_id=self.new_uuid(),
            account=acct.number,
            symbol=spec.symbol,
            side=side,
            order_qty=qty,
            price=price,
            ord_type="Limit",
            time_in_force="ImmediateOrCancel",
            settl_currency=spec.settl_currency,
            currency=spec.quote_currency,
            created=now,
            ord_status="Filled",
            leaves_qty=0,
            cum_qty=qty,
            avg_px=price,
            text="Liquidation",
            timestamp=now,
            working=False,
            notional_sum=price * qty,
        )
        acct.orders[order.order_id] = order
        signed = qty if side == "Buy" else -qty
        ex = Execution(
            exec_id=self.new_uuid(),
            order=order,
            exec_type="Trade",
            timestamp=now,
            last_qty=qty,
            last_px=price,
            liquidity="RemovedLiquidity",
            commission=0.0,
            exec_cost=spec.value(signed, price),
            exec_comm=0,
            trd_match_id=self.new_uuid(),
            text="Liquidation",
        )
        self._emit(OrderChanged(acct, order, "insert", (), ex))
        pos.pos_state = "Liquidated"
        self._book_position(acct, m, side, qty, price, 0, now)
        pos.pos_state = ""
        self._emit(PositionChanged(acct, pos, ("posState",)))
        self._place_liq(m, side, qty, spec.ticks(price))

    def _public_liquidation(self, m: SymbolMarket) -> None:
        side: Side = self.rng.choice(("Buy", "Sell"))
        same = m.book.best(side)
        if same is None:
            return
        price = (
            same.price - self.rng.randint(0, 2)
            if side == "Buy"
            else same.price + self.rng.randint(0, 2)
        )
        qty = m.spec.lot_size * self.rng.randint(20, 300)
        self._place_liq(m, side, qty, price)

    def _place_liq(self, m: SymbolMarket, side: Side, qty: int, price: int) -> None:
        opp = m.book.best(_opposite(side))
        if opp is not None:
            price = min(price, opp.price - 1) if side == "Buy" else max(price, opp.price + 1)
        order = RestingOrder(self.new_uuid(), LIQ_OWNER, side, price, qty, qty)
        self._liq_orders[order.order_id] = _LiqOrder(
            m.spec.symbol, order, self.clock() + LIQ_ORDER_TTL_S
        )
        self._emit(
            LiquidationOrderChanged(
                m.spec.symbol, order.order_id, side, m.spec.price(price), qty, "insert"
            )
        )
        self._publish(m, m.book.submit(order, rest=True))

    def _drop_liq(self, order_id: str) -> None:
        liq = self._liq_orders.pop(order_id, None)
        if liq is None:
            return
        m = self.markets[liq.symbol]
        result = m.book.cancel(order_id)
        self._publish(m, result)
        o = liq.order
        self._emit(
            LiquidationOrderChanged(
                liq.symbol, order_id, o.side, m.spec.price(o.price), o.leaves, "delete"
            )
        )

    def liquidation_orders(self) -> list[tuple[str, RestingOrder]]:
        """Live liquidation orders as (symbol, order), oldest first."""
        return [(liq.symbol, liq.order) for liq in self._liq_orders.values()]

    def _demo_agent(self, acct: DemoAccount) -> None:
        m = self.markets[self.rng.choice(list(self.markets))]
        spec = m.spec
        open_orders = acct.open_orders(spec.symbol)
        if len(open_orders) >= DEMO_MAX_OPEN:
            self.cancel_order(acct, open_orders[0].order_id)
            return
        pos = acct.position(spec)
        limit = 40 * spec.lot_size
        side: Side = self.rng.choice(("Buy", "Sell"))
        if abs(pos.current_qty) > limit:
            side = "Sell" if pos.current_qty > 0 else "Buy"
        qty = spec.lot_size * self.rng.randint(1, 10)
        if self.rng.random() < 0.12:
            self.place_order(acct, spec.symbol, side, qty)
            return
        best = m.book.best(side)
        if best is None:
            return
        offset = self.rng.randint(0, 3)
        price = best.price - offset if side == "Buy" else best.price + offset
        self.place_order(acct, spec.symbol, side, qty, spec.price(price))

    # -- truth ----------------------------------------------------------------------------

    def truth(self, symbol: str, venue: str = "bitmex") -> dict[str, Any]:
        """The book of `symbol` in the `depthdesk feed --book-out` JSON shape."""
        m = self.markets[symbol]
        spec = m.spec
        last = m.last_print
        last_trade = None
        if last is not None:
            trade = Trade(
                venue=venue,
                symbol=symbol,
                side=last.side,
                price=last.price,
                size=float(last.size),
                timestamp=last.timestamp,
                trade_id=last.match_id,
            )
            last_trade = dataclasses.asdict(trade)
        return {
            "venue": venue,
            "symbol": symbol,
            "bids": [[spec.price(lv.price), float(lv.size)] for lv in m.book.levels("Buy")],
            "asks": [[spec.price(lv.price), float(lv.size)] for lv in m.book.levels("Sell")],
            "trades": m.trades_count,
            "last_trade": last_trade,
            "resyncs": 0,
            "reconnects": 0,
            "dropped_before_partial": 0,
        }


__all__ = ["Exchange", "Listener", "generate_credentials"]
