"""Number formatting shared by the widgets (prices by tick, compact sizes, money)."""

from __future__ import annotations

import math


def decimals_for_step(step: float) -> int:
    """How many decimals show a price on a grid of `step` exactly (0.5 → 1, 0.01 → 2, 5 → 0)."""
    if step <= 0 or not math.isfinite(step):
        return 2
    text = f"{step:.10f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def fmt_price(price: float | None, decimals: int) -> str:
    """A price with thousands separators and exactly `decimals` decimals."""
    if price is None or not math.isfinite(price):
        return ""
    return f"{price:,.{decimals}f}"


def fmt_size(size: float | None, blank_zero: bool = True) -> str:
    """A compact size: 1,234 · 0.25 · 12.35M · 1.20B."""
    if size is None or not math.isfinite(size):
        return ""
    if size == 0 and blank_zero:
        return ""
    mag = abs(size)
    if mag >= 1e9:
        return f"{size / 1e9:.2f}B"
    if mag >= 1e6:
        return f"{size / 1e6:.2f}M"
    if mag >= 100 or size == int(size):
        return f"{size:,.0f}"
    return f"{size:,.4f}".rstrip("0").rstrip(".")


def fmt_money(value: float | None, decimals: int = 2) -> str:
    """Money with a sign only when negative."""
    if value is None or not math.isfinite(value):
        return ""
    if round(value, decimals) == 0:
        value = 0.0
    mag = abs(value)
    if mag >= 1e6:
        return f"{value / 1e6:,.2f}M"
    return f"{value:,.{decimals}f}"


def fmt_signed(value: float | None, decimals: int = 2) -> str:
    """A number with an explicit + or - sign."""
    if value is None or not math.isfinite(value):
        return ""
    if round(value, decimals) == 0:
        return f"{0.0:,.{decimals}f}"  # never "-0.00"
    return f"{value:+,.{decimals}f}"


def fmt_pct(value: float | None, decimals: int = 2, signed: bool = False) -> str:
    """A percentage (value already in percent units)."""
    if value is None or not math.isfinite(value):
        return ""
    return f"{value:+.{decimals}f}%" if signed else f"{value:.{decimals}f}%"
