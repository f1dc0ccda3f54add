"""Number formatting used by every widget."""

from __future__ import annotations

from app.widgets.format import (
    SizeDecimals,
    decimals_for_step,
    decimals_to_show,
    fit_size_decimals,
    fmt_money,
    fmt_pct,
    fmt_price,
    fmt_signed,
    fmt_size,
    size_decimals,
)


def test_decimals_for_step() -> None:
    assert decimals_for_step(0.5) == 1
    assert decimals_for_step(0.01) == 2
    assert decimals_for_step(5.0) == 0
    assert decimals_for_step(1e-8) == 8


def test_sizes_prices_and_money() -> None:
    assert fmt_size(0) == "" and fmt_size(0, blank_zero=False) == "0"
    assert fmt_size(1234) == "1,234"
    assert fmt_size(0.25) == "0.25"
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
