"""The venue-neutral market: matching engine, money arithmetic, bins, determinism."""

from __future__ import annotations

import itertools
import random

import pytest

from app.sim.market.accounts import Position
from app.sim.market.bins import HISTORY_BINS, BinSeries
from app.sim.market.book import OrderBook, RestingOrder
from app.sim.market.events import BookChanged, SimEvent
from app.sim.market.exchange import Exchange
from app.sim.market.instruments import KNOWN_SPECS, spec_for


def _order(oid: str, side: str, price: int, qty: int, owner: str = "mm") -> RestingOrder:
    return RestingOrder(oid, owner, side, price, qty, qty)  # type: ignore[arg-type]


def test_price_time_priority_and_collapsed_level_changes() -> None:
    book = OrderBook(itertools.count(500))
    assert book.submit(_order("a", "Sell", 101, 5)).changes[0].action == "insert"
    upd = book.submit(_order("b", "Sell", 101, 7)).changes
    assert [(c.action, c.size) for c in upd] == [("update", 12)]
    book.submit(_order("c", "Sell", 102, 4))
    first_id = book.side_map("Sell")[101].level_id
    result = book.submit(_order("t", "Buy", 102, 14, owner="taker"), rest=False)
    # "a" (older) fills before "b" at 101; then 102 is partly taken.
    assert [(f.maker.order_id, f.qty, f.price) for f in result.fills] == [
        ("a", 5, 101),
        ("b", 7, 101),
        ("c", 2, 102),
    ]
    assert [(c.action, c.price, c.size) for c in result.changes] == [
        ("delete", 101, 0),
        ("update", 102, 2),
    ]
    assert result.changes[0].level_id == first_id
    # A level re-created at the same price gets a new arbitrary id.
    again = book.submit(_order("d", "Sell", 101, 1)).changes[0]
    assert again.action == "insert" and again.level_id != first_id
    assert book.cancel("d").changes[0].action == "delete"
    assert book.cancel("nope").changes == []


def test_crossing_limit_rests_remainder() -> None:
    book = OrderBook(itertools.count(1))
    book.submit(_order("a", "Sell", 100, 3))
    result = book.submit(_order("b", "Buy", 100, 5))
    assert result.rested
    assert [(c.side, c.action, c.size) for c in result.changes] == [
        ("Sell", "delete", 0),
        ("Buy", "insert", 2),
    ]
    best_bid = book.best("Buy")
    assert best_bid is not None and best_bid.size == 2
    assert book.best("Sell") is None


def test_inverse_position_pnl_in_satoshis() -> None:
    spec = KNOWN_SPECS["XBTUSD"]
    pos = Position(account=1, symbol="XBTUSD", currency="XBt")
    assert pos.apply_fill(spec, "Buy", 100, 50000.0) == 0
    assert pos.current_qty == 100 and round(pos.cost) == -200000
    assert pos.avg_entry_price(spec) == pytest.approx(50000.0)
    pos.mark_price = 55000.0
    assert pos.unrealised_pnl(spec) == round(100e8 / 50000 - 100e8 / 55000)
    assert pos.liquidation_price is not None and pos.liquidation_price < 50000.0
    assert pos.bankrupt_price is not None and pos.bankrupt_price < pos.liquidation_price
    realised = pos.apply_fill(spec, "Sell", 100, 55000.0)
    assert realised == round(100e8 / 50000 - 100e8 / 55000)
    assert pos.current_qty == 0 and pos.liquidation_price is None


def test_quanto_position_flip_and_short_liquidation_above_entry() -> None:
    spec = KNOWN_SPECS["ETHUSD"]
    pos = Position(account=1, symbol="ETHUSD", currency="XBt")
    pos.apply_fill(spec, "Buy", 10, 3000.0)
    realised = pos.apply_fill(spec, "Sell", 15, 3100.0)
    assert realised == 10 * 100 * 100  # 10 contracts * 100 XBt per $ * $100
    assert pos.current_qty == -5
    assert pos.avg_entry_price(spec) == pytest.approx(3100.0)
    assert pos.liquidation_price is not None and pos.liquidation_price > 3100.0
    pos.mark_price = pos.liquidation_price
    assert pos.should_liquidate()


def test_unknown_symbols_get_a_plausible_spec() -> None:
    spec = spec_for("DOGEUSD")
    assert spec.symbol == "DOGEUSD" and spec.tick_size > 0 and spec.start_price > 0
    assert spec.price(spec.ticks(12.346)) == 12.35


def test_bins_are_end_stamped_and_empty_bins_carry_the_close() -> None:
    spec = KNOWN_SPECS["XBTUSD"]
    series = BinSeries(60, now=1_000_030.0, price=100.0)
    assert series.current.end == 1_000_080.0
    series.add_trade(spec, 101.0, 10)
    series.add_trade(spec, 99.5, 5)
    closed = series.roll(1_000_145.0)
    assert [b.end for b in closed] == [1_000_080.0, 1_000_140.0]
    first, empty = closed
    assert (first.open, first.high, first.low, first.close) == (101.0, 101.0, 99.5, 99.5)
    assert first.trades == 2 and first.volume == 15
    assert first.vwap == pytest.approx((101.0 * 10 + 99.5 * 5) / 15)
    assert empty.trades == 0 and empty.vwap is None and empty.open == empty.close == 99.5


def test_back_history_is_consistent_and_ends_at_the_live_price() -> None:
    spec = KNOWN_SPECS["XBTUSD"]
    series = BinSeries(300, now=1_700_000_000.0, price=60000.0)
    series.seed_history(random.Random(1), spec, 60000.0)
    hist = list(series.history)
    assert len(hist) == HISTORY_BINS
    assert hist[-1].close == 60000.0 and hist[-1].end == series.current.end - 300
    assert all(b.end - a.end == 300 for a, b in itertools.pairwise(hist))
    assert all(b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in hist)
    assert all(a.close == pytest.approx(b.open, rel=0.02) for a, b in itertools.pairwise(hist))


def _run(seed: int) -> list[dict[str, object]]:
    clock = itertools.count(1_700_000_000.0, 0.01)
    ex = Exchange(["XBTUSD", "ETHUSD"], seed=seed, clock=lambda: next(clock))
    for i in range(3000):
        ex.step()
        if i % 50 == 0:
            ex.tick()
    return [ex.truth(s) for s in ex.markets]


def test_seeded_runs_are_reproducible_and_books_never_cross() -> None:
    a = _run(42)
    assert a == _run(42)
    assert a != _run(43)
    for truth in a:
        bids, asks = truth["bids"], truth["asks"]
        assert isinstance(bids, list) and isinstance(asks, list)
        assert bids[0][0] < asks[0][0]
        assert [p for p, _ in bids] == sorted((p for p, _ in bids), reverse=True)


def test_every_book_change_is_reported_in_order() -> None:
    ex = Exchange(["XBTUSD"], seed=2)
    mirror: dict[tuple[str, int], int] = {}
    for side in ("Buy", "Sell"):
        for lv in ex.markets["XBTUSD"].book.levels(side):  # type: ignore[arg-type]
            mirror[(side, lv.price)] = lv.size

    def listen(ev: SimEvent) -> None:
        if isinstance(ev, BookChanged):
            for ch in ev.changes:
                key = (ch.side, ch.price)
                if ch.action == "insert":
                    assert key not in mirror
                    mirror[key] = ch.size
                elif ch.action == "update":
                    assert key in mirror
                    mirror[key] = ch.size
                else:
                    del mirror[key]

    ex.listeners.append(listen)
    for i in range(5000):
        ex.step()
        if i % 100 == 0:
            ex.tick()
    book = ex.markets["XBTUSD"].book
    expected = {(s, lv.price): lv.size for s in ("Buy", "Sell") for lv in book.levels(s)}  # type: ignore[arg-type]
    assert mirror == expected


def test_market_stays_healthy_over_simulated_minutes() -> None:
    t = [1_700_000_000.0]
    ex = Exchange(["XBTUSD", "ETHUSD"], seed=9, clock=lambda: t[0])
    for _sec in range(300):
        for _ in range(100):
            t[0] += 0.01
            ex.step()
        ex.tick()
        for m in ex.markets.values():
            book = m.book
            bid, ask = book.best("Buy"), book.best("Sell")
            assert bid is not None and ask is not None and bid.price < ask.price
            assert len(book.orders) < 1000
    for m in ex.markets.values():
        assert m.book.depth("Buy") >= 10 and m.book.depth("Sell") >= 10
        assert abs(m.fair_ticks - m.spec.ticks(m.mid())) < 100  # the book follows the fair price
        assert m.trades_count > 1000
        assert len(m.bins["1m"].history) == HISTORY_BINS
    acct = next(iter(ex.accounts.values()))
    assert any(o.cum_qty > 0 for o in acct.orders.values())
    assert 0 < len(acct.open_orders()) <= 4 * len(ex.markets)
