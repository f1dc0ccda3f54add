"""Number formatting used by every widget."""

from __future__ import annotations

from app.widgets.format import (
    decimals_for_step,
    fmt_money,
    fmt_pct,
    fmt_price,
    fmt_signed,
    fmt_size,
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
