"""Number formatting shared by the widgets (prices by tick, sizes by lot step, money).

Every number is written in plain decimals with thousands separators, never in scientific
notation: a 1e-07 tick reads 0.0000001, a 1e16 price 10,000,000,000,000,000.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation

MAX_SIZE_DECIMALS = 8
MAX_PRICE_DECIMALS = 12
_CLEAN_DIGITS = 12  # significant digits a step or price is trusted to (float noise beyond)


def _written_decimals(value: float, cap: int) -> int:
    """Decimals `value` is written with once float noise is rounded off (0.5 → 1, 1e-07 → 7,
    0.1 + 0.2 → 1, 50 → 0), at most `cap`."""
    try:
        exponent = Decimal(f"{value:.{_CLEAN_DIGITS}g}").as_tuple().exponent
    except InvalidOperation:
        return cap
    return min(cap, max(0, -exponent)) if isinstance(exponent, int) else cap


def decimals_for_step(step: float) -> int:
    """How many decimals show a price on a grid of `step` exactly (0.5 → 1, 0.01 → 2, 5 → 0,
    1e-07 → 7), at most `MAX_PRICE_DECIMALS`."""
    if step <= 0 or not math.isfinite(step):
        return 2
    return _written_decimals(step, MAX_PRICE_DECIMALS)


def price_decimals_seen(prices: Iterable[float]) -> int | None:
    """The most decimals any of these venue prices is written with (None for no finite price):
    the decimals to show a market's prices with before its tick is known."""
    seen = [_written_decimals(p, MAX_PRICE_DECIMALS) for p in prices if math.isfinite(p)]
    return max(seen) if seen else None


def infer_tick(prices: Iterable[float]) -> float | None:
    """The smallest positive gap between consecutive prices (a tick guess before instruments)."""
    ordered = sorted(p for p in set(prices) if math.isfinite(p))
    # gaps below the float noise of the prices themselves are no gaps
    gaps = [b - a for a, b in itertools.pairwise(ordered) if b - a > max(-a, b) * 1e-12]
    if not gaps:
        return None
    gap = min(gaps)
    # snap to a clean decimal step (0.5, 0.01, 5, 0.0000001 ...)
    exponent = math.floor(math.log10(gap))
    for mult in (1, 2, 2.5, 5, 10):
        step = mult * 10**exponent
        if step >= gap * 0.999:
            return float(f"{step:.6g}")
    return gap


def fmt_price(price: float | None, decimals: int) -> str:
    """A price with thousands separators and exactly `decimals` decimals."""
    if price is None or not math.isfinite(price):
        return ""
    return f"{price:,.{max(0, decimals)}f}"


def fmt_step(step: float | None) -> str:
    """A price step (tick, row height) in as few plain decimals as write it exactly:
    0.5 · 0.0000001 · 25 · 1,000."""
    if step is None or not math.isfinite(step):
        return ""
    return fmt_price(step, _written_decimals(step, MAX_PRICE_DECIMALS))


def fmt_size(size: float | None, decimals: int | None = None, blank_zero: bool = True) -> str:
    """A size with thousands separators; millions and billions compact (12.35M, 1.20B).

    With `decimals` (a market's lot step, see `SizeDecimals`) every size below a million has
    exactly that many decimals, so a column of sizes lines up: 0.500 · 12.000 · 1,234.125.
    Without it the size is as short as possible: 1,234 · 0.25.
    """
    if size is None or not math.isfinite(size):
        return ""
    if decimals is not None:
        decimals = max(0, min(MAX_SIZE_DECIMALS, decimals))
        if round(size, decimals) == 0:
            size = 0.0  # float noise of a sum never prints as -0.000
    if size == 0 and blank_zero:
        return ""
    mag = abs(size)
    if mag >= 1e9:
        return f"{size / 1e9:,.2f}B"
    if mag >= 1e6:
        return f"{size / 1e6:.2f}M"
    if decimals is not None:
        return f"{size:,.{decimals}f}"
    if mag >= 100 or size == int(size):
        return f"{size:,.0f}"
    # four decimals, more for a size that would otherwise read 0 (0.0000123)
    places = 4 if mag >= 1e-4 else min(MAX_PRICE_DECIMALS, 2 - math.floor(math.log10(mag)))
    return f"{size:,.{places}f}".rstrip("0").rstrip(".")


def size_decimals(size: float, cap: int = MAX_SIZE_DECIMALS) -> int:
    """Decimals a size is written with (0.5 → 1, 0.123 → 3, 100 → 0), at most `cap`."""
    if not math.isfinite(size):
        return 0
    if size == int(size):
        return 0
    try:
        exponent = Decimal(repr(size)).normalize().as_tuple().exponent
    except InvalidOperation:
        return cap
    return min(cap, max(0, -exponent)) if isinstance(exponent, int) else cap


def decimals_for_digits(value: float, digits: int) -> int:
    """Decimals that show a positive `value` with `digits` significant digits (at least 0):
    0.0256 with 3 → 4, 60,000.5 with 8 → 3, 123 with 2 → 0."""
    return max(0, digits - 1 - math.floor(math.log10(value)))


def decimals_to_show(size: float, decimals: int) -> int:
    """The fewest decimals (at most `decimals`) that show a non-zero size as non-zero."""
    if size <= 0 or not math.isfinite(size):
        return 0
    return min(decimals, decimals_for_digits(size, 1))


def fit_size_decimals(largest: float, smallest: float, decimals: int, width: int) -> int:
    """Decimals (at most `decimals`) for a column of sizes `width` characters wide: as many as
    let the largest size fit, never so few that the smallest non-zero size would show as 0."""
    keep = decimals_to_show(smallest, decimals)
    while decimals > keep and len(fmt_size(largest, decimals)) > width:
        decimals -= 1
    return decimals


class MarketDecimals:
    """How many decimals one of a market's quantities (sizes, prices) is shown with.

    The step decides when the venue tells it (a lot of 100 → 0, 0.001 → 3; a tick of 1e-07 →
    7). Values seen so far count too, so a venue that never sends its step (BitMart) gets the
    most decimals any of its values had: stable, never shrinking, at most `places`. Observe
    raw venue values only, never sums or averages (float noise).
    """

    __slots__ = ("_places", "_seen", "_step")

    def __init__(self, places: int) -> None:
        self._places = places
        self._seen = 0
        self._step = 0

    @property
    def decimals(self) -> int:
        """Decimals to show every value of the market with."""
        return max(self._seen, self._step)

    def set_step(self, step: float | None) -> None:
        """The step, when known (None or a non-positive step is ignored)."""
        if step is not None and math.isfinite(step) and step > 0:
            self._step = _written_decimals(step, self._places)

    def observe(self, value: float) -> None:
        """Learn from one value the venue sent."""
        seen = self._seen
        if seen < self._places and math.isfinite(value) and round(value, seen) != value:
            self._seen = max(seen, size_decimals(value, self._places))

    def reset(self) -> None:
        """Forget everything (another market)."""
        self._seen = 0
        self._step = 0


class SizeDecimals(MarketDecimals):
    """Decimals of a market's sizes: the lot step's, or the most seen (at most
    `MAX_SIZE_DECIMALS`)."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(MAX_SIZE_DECIMALS)


class PriceDecimals(MarketDecimals):
    """Decimals of a market's prices: the tick's, or the most any print had when that is more
    (at most `MAX_PRICE_DECIMALS`)."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(MAX_PRICE_DECIMALS)


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


#: significant digits a price is shown with at most while its market's tick is unknown, so a
#: computed price (an average entry of 60,123.4567890123) reads 60,123.457, not its float tail
UNKNOWN_TICK_DIGITS = 8
UNKNOWN_PRICE_DECIMALS = 2  # nothing known at all: no tick, no price


def shown_price_decimals(step: float | None, prices: Iterable[float | None] = ()) -> int:
    """Decimals to write one market's prices with in a table or a status line: the tick's when
    known (0.5 → 1, 0.05 → 2, 1e-07 → 7), else the most decimals the shown prices are written
    with (0.0001268 → 7, 60,000.5 → 1), each counted up to `UNKNOWN_TICK_DIGITS`
    significant digits (a 100,000,000 "no liquidation" price leaves 0.0001268 its 7)."""
    if step is not None and math.isfinite(step) and step > 0:
        return decimals_for_step(step)
    shown = [abs(p) for p in prices if p is not None and math.isfinite(p) and p != 0]
    if not shown:
        return UNKNOWN_PRICE_DECIMALS
    return max(
        min(_written_decimals(p, MAX_PRICE_DECIMALS), decimals_for_digits(p, UNKNOWN_TICK_DIGITS))
        for p in shown
    )


def _no_step(symbol: str) -> float | None:
    del symbol
    return None


class SymbolPriceDecimals:
    """Decimals of each market's prices in a table of several markets (positions, liquidations,
    orders): `shown_price_decimals` of the market's tick, looked up with `step_of(symbol)`, and
    of the prices the table shows for that market, so one market's prices line up.

    `learn` takes the prices before the table formats them; `stale()` says a tick arrived or
    changed since, so the table formats again.
    """

    def __init__(self, step_of: Callable[[str], float | None] = _no_step) -> None:
        self.step_of = step_of
        self._steps: dict[str, float | None] = {}
        self._decimals: dict[str, int] = {}

    def learn(self, prices: Iterable[tuple[str, float | None]]) -> None:
        """The (symbol, price) pairs the table shows now (what was learned before is dropped)."""
        by_symbol: dict[str, list[float | None]] = {}
        for symbol, price in prices:
            by_symbol.setdefault(symbol, []).append(price)
        self._steps = {symbol: self._step(symbol) for symbol in by_symbol}
        self._decimals = {
            symbol: shown_price_decimals(self._steps[symbol], shown)
            for symbol, shown in by_symbol.items()
        }

    def decimals(self, symbol: str) -> int:
        """Decimals of `symbol`'s prices (its tick's alone when the table showed none of them)."""
        known = self._decimals.get(symbol)
        return known if known is not None else shown_price_decimals(self._step(symbol))

    def stale(self) -> bool:
        """True when the tick of a market learned about is not the one its decimals came from."""
        return any(self._step(symbol) != step for symbol, step in self._steps.items())

    def _step(self, symbol: str) -> float | None:
        step = self.step_of(symbol)
        return step if step is not None and math.isfinite(step) and step > 0 else None
