"""TradeTape: ring bound, newest first, same-timestamp aggregation, liquidations, dedupe."""

from __future__ import annotations

import pytest

from app.feeds.events import Trade, Trades
from app.state.tape import TapeRow, TradeDeduper, TradeTape


def tr(
    ts: float,
    side: str,
    price: float,
    size: float,
    tid: str | None = None,
    symbol: str = "XBTUSD",
    notional: float | None = None,
) -> Trade:
    return Trade("bitmex", symbol, side, price, size, ts, tid, notional)  # type: ignore[arg-type]


def batch(*trades: Trade) -> Trades:
    return Trades("bitmex", trades[0].symbol, list(trades))


def test_same_timestamp_same_side_prints_merge_with_vwap() -> None:
    tape = TradeTape()
    tape.apply(
        batch(tr(1.0, "Buy", 100.0, 10, notional=10), tr(1.0, "Buy", 101.0, 30, notional=30))
    )
    rows = tape.rows()
    assert len(rows) == 1
    row = rows[0]
    assert row.count == 2
    assert row.size == 40
    assert row.price == pytest.approx((100 * 10 + 101 * 30) / 40)
    assert row.notional == 40
    assert tape.trades_seen == 2
    assert tape.last_trade is not None and tape.last_trade.price == 101.0


def test_merge_spans_batches_but_not_sides_times_or_symbols() -> None:
    tape = TradeTape()
    tape.apply(batch(tr(1.0, "Buy", 100.0, 1)))
    tape.apply(batch(tr(1.0, "Buy", 100.5, 1)))  # same order split over two frames
    tape.apply(batch(tr(1.0, "Sell", 100.0, 1)))
    tape.apply(batch(tr(2.0, "Sell", 99.5, 1)))
    tape.apply(batch(tr(2.0, "Sell", 99.5, 1, symbol="ETHUSD")))
    rows = tape.rows()
    assert [(r.symbol, r.side, r.timestamp, r.count) for r in rows] == [
        ("ETHUSD", "Sell", 2.0, 1),
        ("XBTUSD", "Sell", 2.0, 1),
        ("XBTUSD", "Sell", 1.0, 1),
        ("XBTUSD", "Buy", 1.0, 2),
    ]
    assert tape.version == 5


def test_non_consecutive_prints_do_not_merge() -> None:
    tape = TradeTape()
    tape.apply(batch(tr(1.0, "Buy", 100, 1), tr(1.0, "Sell", 100, 1), tr(1.0, "Buy", 100, 1)))
    assert [r.count for r in tape.rows()] == [1, 1, 1]


def test_ring_is_bounded_newest_first() -> None:
    tape = TradeTape(maxlen=5)
    tape.apply(batch(*[tr(float(i), "Buy", 100 + i, 1) for i in range(12)]))
    rows = tape.rows()
    assert len(rows) == 5
    assert [r.timestamp for r in rows] == [11.0, 10.0, 9.0, 8.0, 7.0]
    assert tape.trades_seen == 12
    assert [r.timestamp for r in tape.rows(2)] == [11.0, 10.0]


def test_notional_sources() -> None:
    tape = TradeTape(notional_fn=lambda price, qty: qty)  # inverse contract: qty is USD
    tape.apply(batch(tr(1.0, "Buy", 50000.0, 100)))
    assert tape.rows()[0].notional == 100
    tape2 = TradeTape()
    tape2.apply(batch(tr(1.0, "Buy", 2.0, 100)))
    assert tape2.rows()[0].notional == 200
    tape3 = TradeTape(notional_fn=lambda price, qty: qty)
    tape3.apply(batch(tr(1.0, "Buy", 2.0, 100, notional=123.0)))
    assert tape3.rows()[0].notional == 123.0


def test_filters() -> None:
    tape = TradeTape()
    tape.apply(batch(tr(1.0, "Buy", 10.0, 1), tr(2.0, "Buy", 10.0, 50), tr(3.0, "Sell", 10.0, 5)))
    assert [r.size for r in tape.rows(min_size=5)] == [5, 50]
    assert [r.size for r in tape.rows(min_notional=400)] == [50]
    assert [r.size for r in tape.rows(n=1, min_size=5)] == [5]


def test_liquidation_rows_are_never_merged() -> None:
    tape = TradeTape()
    tape.apply(batch(tr(1.0, "Sell", 100.0, 1)))
    tape.add_liquidation(TapeRow(1.0, "XBTUSD", "Sell", 100.0, 500, 1, 500, True, "liq-1"))
    tape.apply(batch(tr(1.0, "Sell", 100.0, 1)))
    rows = tape.rows()
    assert [r.is_liquidation for r in rows] == [False, True, False]
    assert rows[2].count == 1


def test_deduper_drops_repeated_ids_but_not_placeholders() -> None:
    d = TradeDeduper(memory=3)
    a, b = tr(1, "Buy", 1, 1, "a"), tr(2, "Buy", 1, 1, "b")
    zero = "00000000-0000-0000-0000-000000000000"
    assert d.fresh([a, b]) == [a, b]
    assert d.fresh([a, b]) == []
    z1, z2 = tr(3, "Buy", 1, 0, zero), tr(4, "Buy", 1, 0, zero)
    assert d.fresh([z1, z2]) == [z1, z2]
    assert d.fresh([tr(5, "Buy", 1, 1, None)])[0].trade_id is None
    c = tr(6, "Buy", 1, 1, "c")
    assert d.fresh([a, c]) == [c]
    assert d.duplicates == 3
    # memory is bounded: old ids are forgotten
    for i in range(5):
        d.fresh([tr(10 + i, "Buy", 1, 1, f"x{i}")])
    assert d.fresh([a]) == [a]


def test_deduper_snapshot_without_ids_drops_prints_not_newer_than_seen() -> None:
    d = TradeDeduper()
    live = [tr(10.0, "Buy", 1, 1), tr(11.0, "Sell", 1, 1)]
    assert d.fresh(live) == live
    again = [tr(9.0, "Buy", 1, 1), tr(11.0, "Sell", 1, 1), tr(12.0, "Buy", 2, 1)]
    assert d.fresh(again, snapshot=True) == [again[2]]  # only the print made while away
    # outside a snapshot an id-less print is always new (same-ms prints are legitimate)
    same = [tr(12.0, "Buy", 2, 1)]
    assert d.fresh(same) == same
    assert d.newest == 12.0
