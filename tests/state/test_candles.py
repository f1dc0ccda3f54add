"""Candles: live bars from trades, venue bins as truth, 15m/4h aggregation, versions."""

from __future__ import annotations

import numpy as np
import pytest

from app.feeds.events import Bar, Bars, Trade, Trades
from app.state.candles import (
    RANK_PARTIAL,
    RANK_TRADES,
    RANK_VENUE,
    CandleSeries,
    CandleStore,
    floor_time,
    timeframe_seconds,
)

T0 = 1_700_000_000 - (1_700_000_000 % 86400)  # a UTC midnight


def trades(*prints: tuple[float, float, float]) -> Trades:
    return Trades(
        "bitmex", "XBTUSD", [Trade("bitmex", "XBTUSD", "Buy", p, s, ts) for ts, p, s in prints]
    )


def bars(tf: str, *rows: tuple[float, float, float, float, float, float]) -> Bars:
    return Bars("bitmex", "XBTUSD", tf, [Bar(*r) for r in rows])


def test_timeframe_parsing_and_floor() -> None:
    assert timeframe_seconds("15m") == 900
    assert timeframe_seconds("4h") == 14400
    assert timeframe_seconds("3m") == 180
    assert timeframe_seconds("x") is None and timeframe_seconds("0m") is None
    assert floor_time(T0 + 59.999, 60) == T0
    assert floor_time(T0 + 60.0, 60) == T0 + 60


def test_live_candle_from_trades_opens_at_the_trade_price() -> None:
    s = CandleSeries("1m")
    s.add_trade(T0 + 1, 100.0, 1)
    s.add_trade(T0 + 20, 105.0, 2)
    s.add_trade(T0 + 30, 95.0, 3)
    s.add_trade(T0 + 59.9, 101.0, 4)
    assert s.closed_count == 0
    assert s.live_bar() == Bar(T0, 100.0, 105.0, 95.0, 101.0, 10.0)
    s.add_trade(T0 + 61, 110.0, 1)  # gap up: the new candle opens at 110, not at 101
    assert s.live_bar() == Bar(T0 + 60, 110.0, 110.0, 110.0, 110.0, 1.0)
    t, o, h, lo, c, v = s.arrays()
    assert list(t) == [T0] and list(o) == [100.0] and list(c) == [101.0] and list(v) == [10.0]
    assert list(h) == [105.0] and list(lo) == [95.0]
    assert s.bars()[-1].open == 110.0


def test_versions_separate_closed_and_live() -> None:
    s = CandleSeries("1m")
    s.add_trade(T0 + 1, 100.0, 1)
    cv, lv = s.closed_version, s.live_version
    s.add_trade(T0 + 2, 101.0, 1)
    assert s.closed_version == cv and s.live_version == lv + 1
    s.add_trade(T0 + 70, 102.0, 1)
    assert s.closed_version == cv + 1


def test_arrays_are_read_only_views_and_grow() -> None:
    s = CandleSeries("1m", capacity=16)
    for i in range(1000):
        s.add_trade(T0 + 60 * i, float(i), 1)
    t, *_ = s.arrays()
    assert len(t) == 999 and s.live_bar() is not None and len(s) == 1000
    assert bool(np.all(np.diff(t) == 60))
    with pytest.raises(ValueError):
        t[0] = 1.0
    ta, oa, *_ = s.all_arrays()
    assert len(ta) == 1000 and oa[-1] == 999.0


def test_venue_bar_replaces_trade_built_bar() -> None:
    store = CandleStore()
    store.apply_trades(trades((T0 + 5, 100.0, 1), (T0 + 30, 102.0, 1)))
    m1 = store.series("1m")
    assert m1.rank_at(T0) == RANK_TRADES
    # the 1m bin for T0 arrives (after trades of the next minute started)
    store.apply_trades(trades((T0 + 60.1, 103.0, 1)))
    store.apply_bars(bars("1m", (T0, 99.0, 104.0, 98.0, 102.0, 50.0)))
    assert m1.bar_at(0) == Bar(T0, 99.0, 104.0, 98.0, 102.0, 50.0)
    assert m1.rank_at(T0) == RANK_VENUE
    assert m1.live_bar() == Bar(T0 + 60, 103.0, 103.0, 103.0, 103.0, 1.0)
    # a late print for the venue-closed minute never alters the venue's bar
    store.apply_trades(trades((T0 + 59, 200.0, 5)))
    assert m1.bar_at(0).high == 104.0


def test_venue_bar_for_the_live_interval_closes_it() -> None:
    s = CandleSeries("1m")
    s.add_trade(T0 + 5, 100.0, 1)
    s.set_bar(Bar(T0, 100.0, 101.0, 99.0, 100.5, 7.0))
    assert s.live_bar() is None and s.closed_count == 1
    s.add_trade(T0 + 65, 100.0, 1)
    assert s.live_bar() is not None and s.live_bar().open_time == T0 + 60  # type: ignore[union-attr]


def test_history_bins_inserted_before_live_bars_stay_sorted() -> None:
    store = CandleStore()
    store.apply_trades(trades((T0 + 600, 100.0, 1)))
    store.apply_bars(
        bars("1m", *[(T0 + 60 * i, 1.0 + i, 2.0 + i, 0.5 + i, 1.5 + i, 1.0) for i in range(5)])
    )
    m1 = store.series("1m")
    t, *_ = m1.arrays()
    assert list(t) == [T0 + 60 * i for i in range(5)]
    assert m1.live_bar() is not None and m1.live_bar().open_time == T0 + 600  # type: ignore[union-attr]
    # out-of-order older bin
    store.apply_bars(bars("1m", (T0 - 60, 9.0, 9.0, 9.0, 9.0, 9.0)))
    t, *_ = m1.arrays()
    assert t[0] == T0 - 60 and bool(np.all(np.diff(t) > 0))


def test_15m_built_from_5m_bins_and_4h_from_1h() -> None:
    store = CandleStore()
    store.apply_bars(
        bars(
            "5m",
            (T0, 10.0, 12.0, 9.0, 11.0, 1.0),
            (T0 + 300, 11.0, 15.0, 10.0, 14.0, 2.0),
            (T0 + 600, 14.0, 14.5, 8.0, 13.0, 3.0),
            (T0 + 900, 13.0, 13.0, 12.0, 12.5, 4.0),
        )
    )
    m15 = store.series("15m")
    assert m15.bar_at(0) == Bar(T0, 10.0, 15.0, 8.0, 13.0, 6.0)
    assert m15.rank_at(T0) == RANK_VENUE
    # second interval has only its first 5m bin: a partial, live
    assert m15.rank_at(T0 + 900) == RANK_PARTIAL
    assert m15.live_bar() == Bar(T0 + 900, 13.0, 13.0, 12.0, 12.5, 4.0)
    store.apply_bars(
        bars(
            "1h",
            *[(T0 + 3600 * i, 100.0 + i, 110.0 + i, 90.0 + i, 105.0 + i, 10.0) for i in range(8)],
        )
    )
    h4 = store.series("4h")
    assert h4.bar_at(0) == Bar(T0, 100.0, 113.0, 90.0, 108.0, 40.0)
    assert h4.bar_at(1) == Bar(T0 + 14400, 104.0, 117.0, 94.0, 112.0, 40.0)
    assert store.venue_timeframes == {"5m", "1h"}
    # 1d comes from 1h (coarsest venue source dividing a day) while no 1d bins arrive
    assert store.series("1d").live_bar() == Bar(T0, 100.0, 117.0, 90.0, 112.0, 80.0)


def test_partial_aggregate_keeps_following_trades_after_its_cover() -> None:
    store = CandleStore()
    store.apply_trades(trades((T0 + 100, 50.0, 1)))  # in 5m bucket T0 (before the bin)
    store.apply_bars(bars("5m", (T0, 40.0, 60.0, 30.0, 55.0, 10.0)))
    m15 = store.series("15m")
    assert m15.live_bar() == Bar(T0, 40.0, 60.0, 30.0, 55.0, 10.0)
    store.apply_trades(trades((T0 + 250, 70.0, 1)))  # before the cover end: already in the bin
    assert m15.live_bar() == Bar(T0, 40.0, 60.0, 30.0, 55.0, 10.0)
    store.apply_trades(trades((T0 + 310, 65.0, 2)))  # after: extends the live 15m bar
    assert m15.live_bar() == Bar(T0, 40.0, 65.0, 30.0, 65.0, 12.0)
    # the next 5m bin arrives while a print of its successor already happened
    store.apply_trades(trades((T0 + 600.5, 20.0, 3)))
    store.apply_bars(bars("5m", (T0 + 300, 55.0, 66.0, 54.0, 60.0, 8.0)))
    assert m15.live_bar() == Bar(T0, 40.0, 66.0, 20.0, 20.0, 21.0)
    # the last bin completes the interval: venue truth, no longer live
    store.apply_bars(bars("5m", (T0 + 600, 60.0, 61.0, 19.0, 21.0, 9.0)))
    assert m15.live_bar() is None
    assert m15.bar_at(-1) == Bar(T0, 40.0, 66.0, 19.0, 21.0, 27.0)


def test_all_timeframes_built_from_trades_without_bins() -> None:
    store = CandleStore()
    prints = [(T0 + 37 * i, 100.0 + (i % 7), 1.0) for i in range(400)]
    store.apply_trades(trades(*prints))
    for tf in ("1m", "5m", "15m", "1h", "4h", "1d"):
        s = store.series(tf)
        interval = timeframe_seconds(tf)
        assert interval is not None
        expected: dict[float, list[float]] = {}
        for ts, p, sz in prints:
            k = floor_time(ts, interval)
            if k not in expected:
                expected[k] = [p, p, p, p, 0.0]
            e = expected[k]
            e[1], e[2], e[3], e[4] = max(e[1], p), min(e[2], p), p, e[4] + sz
        got = {b.open_time: [b.open, b.high, b.low, b.close, b.volume] for b in s.bars()}
        assert got == expected, tf


def test_unknown_timeframe_ignored_and_empty_bars() -> None:
    store = CandleStore()
    assert not store.apply_bars(bars("weird", (T0, 1.0, 1.0, 1.0, 1.0, 1.0)))
    assert not store.apply_bars(Bars("bitmex", "XBTUSD", "1m", []))
    assert not store.apply_trades(Trades("bitmex", "XBTUSD", []))


def test_venue_candle_in_progress_stays_live_and_follows_trades() -> None:
    now = [T0 + 30.0]
    store = CandleStore(clock=lambda: now[0])
    m1 = store.series("1m")
    store.apply_bars(bars("1m", (T0, 100.0, 101.0, 99.0, 100.5, 10.0)))  # pushed mid-interval
    assert m1.closed_count == 0
    assert m1.live_bar() == Bar(T0, 100.0, 101.0, 99.0, 100.5, 10.0)
    store.apply_trades(trades((T0 + 20.0, 500.0, 1)))  # older than the push: already in it
    store.apply_trades(trades((T0 + 31.0, 102.0, 2)))
    assert m1.live_bar() == Bar(T0, 100.0, 102.0, 99.0, 102.0, 12.0)
    now[0] = T0 + 45.0
    store.apply_bars(bars("1m", (T0, 100.0, 103.0, 99.0, 103.0, 20.0)))  # the next push replaces
    assert m1.live_bar() == Bar(T0, 100.0, 103.0, 99.0, 103.0, 20.0)
    now[0] = T0 + 61.0
    store.apply_bars(bars("1m", (T0, 100.0, 103.0, 98.0, 99.0, 25.0)))  # final: closed, truth
    assert m1.live_bar() is None
    assert m1.bar_at(-1) == Bar(T0, 100.0, 103.0, 98.0, 99.0, 25.0)
    assert m1.rank_at(T0) == RANK_VENUE
