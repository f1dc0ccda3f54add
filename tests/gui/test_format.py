"""Number formatting used by every widget."""

from __future__ import annotations

import math

from app.widgets.format import (
    MAX_PRICE_DECIMALS,
    SizeDecimals,
    decimals_for_step,
    decimals_to_show,
    fit_size_decimals,
    fmt_money,
    fmt_pct,
    fmt_price,
    fmt_signed,
    fmt_size,
    fmt_step,
    infer_tick,
    price_decimals_seen,
    size_decimals,
)


def test_decimals_for_step() -> None:
    assert decimals_for_step(0.5) == 1
    assert decimals_for_step(0.01) == 2
    assert decimals_for_step(5.0) == 0
    assert decimals_for_step(1e-8) == 8


def test_decimals_for_tiny_big_and_noisy_steps() -> None:
    assert decimals_for_step(1e-7) == 7 and decimals_for_step(3e-7) == 7
    assert decimals_for_step(2.5e-8) == 9 and decimals_for_step(1e-11) == 11
    assert decimals_for_step(1e-15) == MAX_PRICE_DECIMALS
    assert decimals_for_step(0.1 + 0.2) == 1  # float noise is no decimal
    assert decimals_for_step(1e-7 * 3) == 7
    assert decimals_for_step(50.0) == 0 and decimals_for_step(1e16) == 0
    for bad in (0.0, -0.5, math.nan, math.inf):
        assert decimals_for_step(bad) == 2


def test_prices_and_steps_never_use_scientific_notation() -> None:
    assert fmt_price(0.0001268, decimals_for_step(1e-7)) == "0.0001268"
    assert fmt_price(0.00000612, decimals_for_step(1e-8)) == "0.00000612"
    assert fmt_price(6.129e-6, decimals_for_step(1e-10)) == "0.0000061290"
    assert fmt_price(61234.5, decimals_for_step(0.5)) == "61,234.5"  # XBTUSD as before
    assert fmt_price(1e16, 1) == "10,000,000,000,000,000.0"
    assert fmt_price(0.5, -3) == "0"  # a negative decimals count is no decimals
    assert fmt_step(1e-7) == "0.0000001" and fmt_step(1e-8) == "0.00000001"
    assert fmt_step(2.5e-8) == "0.000000025" and fmt_step(0.5) == "0.5"
    assert fmt_step(5.0) == "5" and fmt_step(1000.0) == "1,000"
    assert fmt_step(1e16) == "10,000,000,000,000,000"
    assert fmt_step(1e-7 * 3) == "0.0000003"
    assert fmt_step(None) == "" and fmt_step(math.nan) == ""
    for value in (1e-7, 1e-8, 3.3e-9, 1e-12, 1e15, 1e16, 1e21, 123456789012.5):
        for text in (fmt_step(value), fmt_price(value, 12), fmt_size(value)):
            assert "e" not in text.lower(), text


def test_price_decimals_seen_and_tiny_ticks_inferred() -> None:
    assert price_decimals_seen([0.0001268, 0.0001266]) == 7
    assert price_decimals_seen([61234.5, 61240.0]) == 1
    assert price_decimals_seen([0.1 + 0.2]) == 1
    assert price_decimals_seen([]) is None and price_decimals_seen([math.nan]) is None
    assert infer_tick([0.0001268, 0.0001269, 0.0001266]) == 1e-7
    assert infer_tick([6.1290e-6, 6.1291e-6, 6.1295e-6]) == 1e-10
    assert infer_tick([100.0, 100.5, math.nan, 101.5]) == 0.5
    assert infer_tick([-1.0, -0.5]) == 0.5
    assert infer_tick([5.0, 5.0 + 1e-16]) is None  # float noise is no gap


def test_sizes_prices_and_money() -> None:
    assert fmt_size(0) == "" and fmt_size(0, blank_zero=False) == "0"
    assert fmt_size(1234) == "1,234"
    assert fmt_size(0.25) == "0.25"
    assert fmt_size(0.00012345) == "0.0001"
    assert fmt_size(0.0000123) == "0.0000123"  # a tiny size never reads 0
    assert fmt_size(1.5e9) == "1.50B" and fmt_size(1.5e13) == "15,000.00B"
    assert fmt_size(12_345_678) == "12.35M"
    assert fmt_price(60000.5, 1) == "60,000.5"
    assert fmt_price(None, 1) == ""
    assert fmt_signed(-0.0000001, 6) == "0.000000"
    assert fmt_signed(0.5, 2) == "+0.50"
    assert fmt_money(-0.0000001, 4) == "0.0000"
    assert fmt_pct(7.51, 1, signed=True) == "+7.5%"


def test_sizes_with_lot_decimals_line_up() -> None:
    column = [fmt_size(s, 3) for s in (0.5, 0.123, 1.2, 1234.5)]
    assert column == ["0.500", "0.123", "1.200", "1,234.500"]
    assert fmt_size(0.1 + 0.2, 3) == "0.300"  # float noise of sums never shows
    assert fmt_size(1e-12, 3) == "" and fmt_size(-1e-12, 3, blank_zero=False) == "0.000"
    assert fmt_size(1200, 0) == "1,200" and fmt_size(12_345_678, 3) == "12.35M"
    assert fmt_size(1.5, 12) == "1.50000000"  # at most eight decimals
    assert fmt_size(float("nan"), 3) == "" and fmt_size(None, 3) == ""


def test_size_decimals_of_one_size() -> None:
    assert size_decimals(0.5) == 1 and size_decimals(0.123) == 3 and size_decimals(100.0) == 0
    assert size_decimals(1e-9) == 8 and size_decimals(0.1 + 0.2) == 8
    assert size_decimals(float("inf")) == 0 and size_decimals(2e-5, cap=4) == 4


def test_size_decimals_learn_from_lot_step_and_sizes_and_never_shrink() -> None:
    sizes = SizeDecimals()
    assert sizes.decimals == 0
    sizes.set_step(100.0)  # BitMEX XBTUSD lot
    for s in (100.0, 2500.0):
        sizes.observe(s)
    assert sizes.decimals == 0
    sizes.reset()
    for s in (0.5, 1.2):  # a venue without a lot step: decimals seen so far
        sizes.observe(s)
    assert sizes.decimals == 1
    sizes.observe(0.123)
    assert sizes.decimals == 3
    for s in (2.0, 0.5, float("nan"), float("-inf")):
        sizes.observe(s)
    assert sizes.decimals == 3  # never shrinks
    sizes.observe(1e-11)
    assert sizes.decimals == 8  # capped
    fresh = SizeDecimals()
    fresh.set_step(0.001)
    assert fresh.decimals == 3  # the lot step decides before any size is seen
    fresh.set_step(None)
    fresh.set_step(-1.0)
    assert fresh.decimals == 3


def test_narrow_columns_drop_decimals_but_never_show_a_size_as_zero() -> None:
    assert decimals_to_show(0.00012, 5) == 4 and decimals_to_show(0.5, 3) == 1
    assert decimals_to_show(3.2, 3) == 0 and decimals_to_show(0.0, 3) == 0
    assert decimals_to_show(1e-9, 5) == 5
    # 1,059.73288 needs 11 characters: at 8 the column shows 2 decimals
    assert fit_size_decimals(1059.73288, 0.5, 5, 11) == 5
    assert fit_size_decimals(1059.73288, 0.5, 5, 8) == 2
    assert fmt_size(1059.73288, 2) == "1,059.73"
    # a tiny size in the same column keeps the decimals that show it, even if 1,059 overflows
    assert fit_size_decimals(1059.73288, 0.00012, 5, 8) == 4
    assert fit_size_decimals(1059.7, 0.5, 1, 3) == 1 and fit_size_decimals(5.0, 1.0, 0, 1) == 0
