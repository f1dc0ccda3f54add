"""How the tape writes its cells: times, prices, sizes and values of one market's prints.

Prices show the tick's decimals, or more when a print has more (a legacy BitMart book grouped at
0.1 still shows a 0.01 print exactly). Sizes show the lot step's decimals (BitMEX: integers), or
the most decimals any size had when the venue sends no lot step (BitMart), so the Size column
lines up: 2.000 under 2.100. Values below 10 share the decimals that give the smallest of them
three significant digits (a coin-quoted market's values in ETH: 2.0783 above 0.0256). All are
learned from the rows as they arrive, never shrink, and start over with another market.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from app.widgets.format import (
    MAX_SIZE_DECIMALS,
    PriceDecimals,
    SizeDecimals,
    decimals_for_digits,
    fit_size_decimals,
    fmt_price,
    fmt_size,
)
from app.widgets.glyphs import TIMES

if TYPE_CHECKING:
    from collections.abc import Iterable

    from app.state.tape import TapeRow

COMPACT_SIZE = 1e6  # fmt_size writes sizes from here on as 1.23M / 1.23B
SUM_DIGITS = 12  # significant digits a sum of venue sizes is trusted to
SMALL_VALUE = 9.995  # values from here on are written whole or compact (950, 12.5K)
SMALL_VALUE_DIGITS = 3  # significant digits the smallest value below SMALL_VALUE keeps


# Blank places as wide as a digit and as a decimal point (figure space, punctuation space): a
# single print's price leaves them where a merged row's VWAP has one more decimal.
DIGIT_GAP = "\u2007"
POINT_GAP = "\u2008"


def fmt_time(ts: float) -> str:
    """Local wall-clock time with milliseconds ("" for a timestamp no clock can show)."""
    try:
        whole = math.floor(ts)
        clock = time.strftime("%H:%M:%S", time.localtime(whole))
    except (ValueError, OverflowError, OSError):
        return ""
    return clock + f".{min(999, int((ts - whole) * 1000)):03d}"


def fmt_notional(value: float) -> str:
    """Compact quote value: 950 · 12.5K · 1.25M · 7.41B."""
    mag = abs(value)  # each unit from where the smaller one would round up to 1000 of it
    if mag >= 999_995_000:
        return f"{value / 1e9:.2f}B"
    if mag >= 999_950:
        return f"{value / 1e6:.2f}M"
    if mag >= 9_999.5:
        return f"{value / 1e3:.1f}K"
    return f"{value:,.0f}"


def small_value_decimals(value: float) -> int:
    """Decimals that show a value below `SMALL_VALUE` with `SMALL_VALUE_DIGITS` significant
    digits (2.07 → 2, 0.0256 → 4); 0 for any other value."""
    mag = abs(value)
    if not 0 < mag < SMALL_VALUE:
        return 0
    return min(MAX_SIZE_DECIMALS, decimals_for_digits(mag, SMALL_VALUE_DIGITS))


def fmt_value(value: float, small_decimals: int = 2) -> str:
    """A print's quote value for a right-aligned column: compact like `fmt_notional`, with a
    trailing space where K/M would be so the last digits line up (`950 ` above `12.5K`), and a
    value below `SMALL_VALUE` with `small_decimals` decimals so a small print or a coin-quoted
    market (values in ETH or BTC) never reads 0: 7.20 · 0.0256."""
    if not math.isfinite(value):
        return ""
    if 0 < abs(value) < SMALL_VALUE:
        text = f"{value:,.{max(0, min(MAX_SIZE_DECIMALS, small_decimals))}f}"
    else:
        text = fmt_notional(value)
    return text if text[-1].isalpha() else text + " "


def without_sum_noise(value: float) -> float:
    """A sum of venue sizes rounded to `SUM_DIGITS` significant digits: the float noise of the
    addition is gone (0.1 + 0.2 → 0.3), the decimals the sizes had are kept."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, SUM_DIGITS - 1 - math.floor(math.log10(abs(value))))


class TapeFormat:
    """Decimals of one market's prices, sizes and small values, and a tape row's texts.

    `learn(rows)` looks at rows once, when they first arrive; the decimals only grow, so a
    column never flickers. A Size column too narrow for the largest size seen (`set_size_width`)
    shows fewer decimals, never so few that the smallest size seen reads 0. Values below
    `SMALL_VALUE` share the decimals that give the smallest of them three significant digits.
    """

    def __init__(self) -> None:
        self._prices = PriceDecimals()
        self._sizes = SizeDecimals()
        self._largest = 0.0  # largest size written out in full (below COMPACT_SIZE)
        self._smallest = math.inf  # smallest non-zero size
        self._width: int | None = None
        self.price_decimals = 0
        self.size_decimals = 0  # decimals the Size column shows (the market's, maybe fewer)
        self.value_decimals = 0  # decimals of values below SMALL_VALUE

    @property
    def key(self) -> tuple[int, int, int]:
        """What every text depends on: price, shown size and small value decimals."""
        return self.price_decimals, self.size_decimals, self.value_decimals

    @property
    def market_size_decimals(self) -> int:
        """The market's size decimals (lot step, else the most seen) before any width fit."""
        return self._sizes.decimals

    def reset(self) -> None:
        """Forget the market (another symbol or venue); the column width stays."""
        self._prices.reset()
        self._sizes.reset()
        self._largest = 0.0
        self._smallest = math.inf
        self.value_decimals = 0
        self._update()

    def set_price_step(self, step: float | None) -> bool:
        """The market's price step (None: unknown). True when the texts change."""
        self._prices.set_step(step)
        return self._update()

    def set_lot_step(self, step: float | None) -> bool:
        """The market's size step (None: the venue sends none). True when the texts change."""
        self._sizes.set_step(step)
        return self._update()

    def set_size_width(self, chars: int | None) -> bool:
        """Characters the Size column shows (None: no limit). True when the texts change."""
        self._width = None if chars is None else max(1, chars)
        return self._update()

    def learn(self, rows: Iterable[TapeRow]) -> bool:
        """Take the decimals and the size range of newly arrived rows. True when the texts of
        rows formatted before change."""
        prices, sizes = self._prices, self._sizes
        largest, smallest = self._largest, self._smallest
        value_decimals = self.value_decimals
        for row in rows:
            size = row.size
            if row.count == 1:
                prices.observe(row.price)  # a merged row's price is a VWAP: not a venue price
                sizes.observe(size)
            else:
                sizes.observe(without_sum_noise(size))
            if 0 < size < smallest:
                smallest = size
            if largest < size < COMPACT_SIZE:
                largest = size
            if row.notional < SMALL_VALUE:
                value_decimals = max(value_decimals, small_value_decimals(row.notional))
        self._largest, self._smallest = largest, smallest
        before = self.value_decimals
        self.value_decimals = value_decimals
        return self._update() or value_decimals != before

    def _update(self) -> bool:
        before = self.key
        self.price_decimals = self._prices.decimals
        decimals = self._sizes.decimals
        if self._width is not None and self._largest > 0:
            decimals = fit_size_decimals(self._largest, self._smallest, decimals, self._width)
        self.size_decimals = decimals
        return self.key != before

    def texts(self, row: TapeRow) -> tuple[str, ...]:
        """Time, price, size, count and value texts of one row."""
        decimals = self.price_decimals
        # a merged row shows its VWAP with one more decimal; a single print leaves that place
        # (and the point) blank so the decimal points line up in the right-aligned column
        if row.count > 1:
            price = fmt_price(row.price, decimals + 1)
        elif row.price > 0:
            price = fmt_price(row.price, decimals) + (
                DIGIT_GAP if decimals else POINT_GAP + DIGIT_GAP
            )
        else:
            price = ""  # a liquidation the venue sent without a price
        if row.is_liquidation:
            count = "LIQ"
        else:
            count = f"{TIMES}{row.count}" if row.count > 1 else ""
        return (
            fmt_time(row.timestamp),
            price,
            fmt_size(row.size, self.size_decimals, blank_zero=False),
            count,
            fmt_value(row.notional, self.value_decimals),
        )

    def tooltip(self, row: TapeRow) -> str:
        """The row in full: exact size, price and value, however narrow the columns."""
        size = f"{row.size:,.{self.market_size_decimals}f}"
        value = f"{row.notional:,.{self.value_decimals}f}"
        if row.is_liquidation:
            price = fmt_price(row.price, self.price_decimals) if row.price > 0 else "no price"
            return f"liquidation: {row.side} {size} @ {price}, value {value}"
        if row.count > 1:
            price = fmt_price(row.price, self.price_decimals + 1)
            return f"{row.count} prints: {row.side} {size} @ {price} (VWAP), value {value}"
        price = fmt_price(row.price, self.price_decimals)
        return f"print: {row.side} {size} @ {price}, value {value}"
