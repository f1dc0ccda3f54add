"""L2Book: snapshot/delta semantics, best prices, crossed detection, grouping arithmetic."""

from __future__ import annotations

import random

import pytest

from app.feeds.events import BookLevels
from app.state.book import L2Book


def levels(
    bids: list[tuple[float, float]], asks: list[tuple[float, float]], snapshot: bool = False
) -> BookLevels:
    return BookLevels("bitmex", "XBTUSD", list(bids), list(asks), snapshot)


def make_book(tick: float | None = 0.5) -> L2Book:
    book = L2Book("XBTUSD", tick)
    book.apply(
        levels(
            [(100.0, 1), (99.5, 2), (99.0, 3), (97.0, 4)],
            [(100.5, 5), (101.0, 6), (103.5, 7)],
            snapshot=True,
        )
    )
    return book


def test_best_prices_spread_mid_and_order() -> None:
    book = make_book()
    assert book.best_bid() == (100.0, 1)
    assert book.best_ask() == (100.5, 5)
    assert book.spread() == 0.5
    assert book.mid() == 100.25
    assert book.bids() == [(100.0, 1), (99.5, 2), (99.0, 3), (97.0, 4)]
    assert book.asks() == [(100.5, 5), (101.0, 6), (103.5, 7)]
    assert book.bids(2) == [(100.0, 1), (99.5, 2)]
    assert book.asks(2) == [(100.5, 5), (101.0, 6)]
    assert book.bids(0) == [] and book.asks(0) == []
    assert book.bids(99) == book.bids()
    assert not book.is_crossed()


def test_empty_book_reads() -> None:
    book = L2Book()
    assert book.best_bid() is None and book.best_ask() is None
    assert book.spread() is None and book.mid() is None
    assert not book.is_crossed()
    assert book.bids() == [] and book.grouped("Buy", 1.0, 5) == []


def test_snapshot_replaces_everything() -> None:
    book = make_book()
    book.apply(levels([(50.0, 1)], [(60.0, 2)], snapshot=True))
    assert book.bids() == [(50.0, 1)]
    assert book.asks() == [(60.0, 2)]
    assert book.snapshots == 2


def test_empty_snapshot_initialises_an_empty_book() -> None:
    book = make_book()
    book.apply(levels([], [], snapshot=True))
    assert len(book) == 0


def test_delta_size_zero_removes_and_absent_removal_is_harmless() -> None:
    book = make_book()
    v = book.version
    book.apply(levels([(100.0, 0), (42.0, 0)], [(100.5, 9), (102.0, 1)]))
    assert book.best_bid() == (99.5, 2)
    assert book.asks() == [(100.5, 9), (101.0, 6), (102.0, 1), (103.5, 7)]
    assert book.version == v + 1
    assert book.size_at("Buy", 100.0) == 0.0


def test_crossed_detection() -> None:
    book = make_book()
    book.apply(levels([(100.5, 1)], []))
    assert book.is_crossed()  # locked counts as crossed
    book.apply(levels([(100.5, 0)], []))
    assert not book.is_crossed()
    book.apply(levels([(102.0, 1)], []))
    assert book.is_crossed()


def test_changed_prices_for_flash() -> None:
    book = make_book()
    assert book.take_changed_prices() == set()  # the first snapshot does not flash
    book.apply(levels([(99.5, 10), (90.0, 0)], [(101.0, 0)]))
    assert book.take_changed_prices() == {99.5, 90.0, 101.0}
    assert book.take_changed_prices() == set()
    # a later snapshot (orderBook10 style) flashes only what differs
    book.apply(
        levels(
            [(100.0, 1), (99.5, 10), (99.0, 3), (97.0, 4)],
            [(100.5, 5), (103.5, 8)],
            snapshot=True,
        )
    )
    assert book.take_changed_prices() == {103.5}


def test_clear_marks_stale_until_snapshot() -> None:
    book = make_book()
    book.clear(stale=True)
    assert len(book) == 0 and book.stale
    book.apply(levels([(1.0, 1)], [(2.0, 1)], snapshot=True))
    assert not book.stale


def test_size_at_snaps_computed_prices() -> None:
    book = L2Book("X", 0.1)
    book.apply(levels([(98459.9, 5)], [(98460.3, 7)], snapshot=True))
    computed = 984599 * 0.1  # float noise: 98459.90000000001
    assert computed != 98459.9
    assert book.size_at("Buy", computed) == 5
    assert book.size_at("Sell", 984603 * 0.1) == 7
    assert book.size_at("Sell", 98460.4) == 0.0


def test_levels_between_best_first() -> None:
    book = make_book()
    assert book.levels_between("Buy", 99.0, 100.0) == [(100.0, 1), (99.5, 2), (99.0, 3)]
    assert book.levels_between("Sell", 103.5, 100.5) == [(100.5, 5), (101.0, 6), (103.5, 7)]
    assert book.levels_between("Sell", 101.5, 103.0) == []


def test_grouped_floor_bids_ceil_asks_with_cumulative() -> None:
    book = make_book(0.5)
    # group 1.0 (2 ticks): bids floor -> 100: 1, 99: 2+3, 97: 4
    assert book.grouped("Buy", 1.0, 10) == [(100.0, 1, 1), (99.0, 5, 6), (97.0, 4, 10)]
    # asks ceil -> 101: 5+6, 104: 7
    assert book.grouped("Sell", 1.0, 10) == [(101.0, 11, 11), (104.0, 7, 18)]
    assert book.grouped("Buy", 1.0, 2) == [(100.0, 1, 1), (99.0, 5, 6)]
    # group 5 ticks = 2.5
    assert book.grouped("Buy", 2.5, 10) == [(100.0, 1, 1), (97.5, 5, 6), (95.0, 4, 10)]
    assert book.grouped("Sell", 2.5, 10) == [(102.5, 11, 11), (105.0, 7, 18)]


def test_grouped_by_one_tick_is_the_plain_book_with_cumulative() -> None:
    book = make_book(0.5)
    assert book.grouped("Buy", 0.5, 10) == [
        (100.0, 1, 1),
        (99.5, 2, 3),
        (99.0, 3, 6),
        (97.0, 4, 10),
    ]
    # a group below the tick means one tick
    assert book.grouped("Buy", 0.1, 2) == [(100.0, 1, 1), (99.5, 2, 3)]


def test_grouped_tiny_tick_is_exact() -> None:
    tick = 1e-8
    book = L2Book("SHIBUSDT", tick)
    bids = [(0.00001899, 10), (0.00001898, 20), (0.0000189, 30), (0.00001889, 40)]
    asks = [(0.00001901, 1), (0.0000191, 2), (0.00001911, 3)]
    book.apply(levels(bids, asks, snapshot=True))
    # group 10 ticks = 1e-7
    assert book.grouped("Buy", 1e-7, 5) == [(0.0000189, 60, 60), (0.0000188, 40, 100)]
    assert book.grouped("Sell", 1e-7, 5) == [(0.0000191, 3, 3), (0.0000192, 3, 6)]
    assert book.price_decimals == 8


def test_grouped_k_ticks_matches_a_brute_force_decimal_computation() -> None:
    from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

    rng = random.Random(7)
    for tick in (0.5, 0.05, 0.01, 1e-8, 0.0005, 1.0):
        book = L2Book("X", tick)
        d_tick = Decimal(repr(tick))
        mid = 10000
        bids = [
            (float(d_tick * (mid - rng.randint(1, 400))), float(rng.randint(1, 9)))
            for _ in range(80)
        ]
        asks = [
            (float(d_tick * (mid + rng.randint(0, 400))), float(rng.randint(1, 9)))
            for _ in range(80)
        ]
        book.apply(levels(bids, asks, snapshot=True))
        for k in (1, 2, 5, 10, 25):
            group = float(d_tick * k)
            for side, rounding in (("Buy", ROUND_FLOOR), ("Sell", ROUND_CEILING)):
                src = book.bids() if side == "Buy" else book.asks()
                expected: dict[Decimal, float] = {}
                for p, s in src:
                    bucket = (Decimal(repr(p)) / Decimal(repr(group))).to_integral_value(rounding)
                    expected[bucket] = expected.get(bucket, 0.0) + s
                keys = sorted(expected, reverse=(side == "Buy"))
                cum = 0.0
                want = []
                for key in keys:
                    cum += expected[key]
                    want.append((float(key * Decimal(repr(group))), expected[key], cum))
                got = book.grouped(side, group, len(want) + 5)
                assert got == want, (tick, k, side)


def test_grouped_without_tick_uses_decimal() -> None:
    book = make_book(None)
    assert book.tick_size is None
    assert book.grouped("Buy", 1.0, 10) == [(100.0, 1, 1), (99.0, 5, 6), (97.0, 4, 10)]
    assert book.grouped("Sell", 1.0, 10) == [(101.0, 11, 11), (104.0, 7, 18)]
    assert book.grouped("Sell", 0.0, 2) == [(100.5, 5, 5), (101.0, 6, 11)]


def test_bucket_price_and_grouped_between() -> None:
    book = make_book(0.5)
    assert book.bucket_price("Buy", 99.5, 1.0) == 99.0
    assert book.bucket_price("Sell", 100.5, 1.0) == 101.0
    assert book.bucket_price("Sell", 101.0, 1.0) == 101.0
    assert book.grouped_between("Buy", 1.0, 98.0, 100.0) == {100.0: 1, 99.0: 5}
    assert book.group_step(1.2) == 1.0
    assert book.round_price(99.50000000001) == 99.5


def test_tick_setter_changes_grouping() -> None:
    book = make_book(None)
    book.tick_size = 0.5
    assert book.price_decimals == 1
    book.tick_size = 0  # invalid -> unknown
    assert book.tick_size is None


def test_nan_prices_are_ignored() -> None:
    book = make_book()
    book.apply(levels([(float("nan"), 5)], []))
    assert book.bids()[0] == (100.0, 1)


def test_random_deltas_match_a_plain_dict() -> None:
    rng = random.Random(1)
    book = L2Book("X", 0.5)
    ref_b: dict[float, float] = {}
    ref_a: dict[float, float] = {}
    for _ in range(3000):
        side_ref, side = (ref_b, "b") if rng.random() < 0.5 else (ref_a, "a")
        price = rng.randint(1, 200) * 0.5 + (0 if side == "b" else 100)
        size = 0 if rng.random() < 0.3 else rng.randint(1, 50)
        if size:
            side_ref[price] = size
        else:
            side_ref.pop(price, None)
        ev = levels([(price, size)], []) if side == "b" else levels([], [(price, size)])
        book.apply(ev)
    assert book.bids() == sorted(ref_b.items(), reverse=True)
    assert book.asks() == sorted(ref_a.items())


@pytest.mark.parametrize("n", [1, 3])
def test_total_size(n: int) -> None:
    book = make_book()
    assert book.total_size("Buy", n) == sum(s for _, s in book.bids(n))


def test_imbalance() -> None:
    book = make_book()
    assert book.imbalance(1) == (1 - 5) / 6
    assert book.imbalance(100) == (10 - 18) / 28
    assert L2Book().imbalance() is None
