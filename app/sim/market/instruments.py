"""Contract specifications of simulated instruments and their money arithmetic.

Prices inside the simulator are integer ticks; `InstrumentSpec` converts between ticks and
prices and computes contract values in the settlement currency's minor unit (e.g. XBt).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from decimal import Decimal

PRICE_CACHE_SIZE = 200_000


@dataclass(frozen=True)
class InstrumentSpec:
    """One tradable contract. `multiplier` follows BitMEX: negative for inverse contracts."""

    symbol: str
    tick_size: float
    lot_size: int
    start_price: float
    multiplier: int
    is_inverse: bool
    is_quanto: bool
    underlying: str
    quote_currency: str
    settl_currency: str
    position_currency: str
    typ: str = "FFWCSX"
    maker_fee: float = -0.0001
    taker_fee: float = 0.00075
    maint_margin: float = 0.0035
    init_margin: float = 0.01
    volatility: float = 1.0e-4  # relative fair-price volatility per sqrt(second)

    @functools.cached_property
    def decimals(self) -> int:
        """Number of decimals needed to print a price exactly."""
        exponent = Decimal(str(self.tick_size)).normalize().as_tuple().exponent
        return max(0, -int(exponent))

    @functools.cached_property
    def _price_cache(self) -> dict[int, float]:
        return {}

    def price(self, ticks: int) -> float:
        """Price of an integer tick count, rounded to the tick's decimals (memoized)."""
        cache = self._price_cache
        price = cache.get(ticks)
        if price is None:
            price = round(ticks * self.tick_size, self.decimals)
            if len(cache) < PRICE_CACHE_SIZE:
                cache[ticks] = price
        return price

    def ticks(self, price: float) -> int:
        """Nearest integer tick count of a price."""
        return round(price / self.tick_size)

    def value(self, qty: int, price: float) -> int:
        """Signed value of `qty` contracts at `price`, in settlement minor units.

        Inverse (XBTUSD): multiplier / price per contract (negative for a long, as BitMEX
        reports costs). Quanto/linear: multiplier * price per contract.
        """
        if price <= 0:
            return 0
        if self.is_inverse:
            return round(qty * self.multiplier / price)
        return round(qty * self.multiplier * price)

    def value_exact(self, qty: int, price: float) -> float:
        """`value` without rounding to whole minor units (for position arithmetic)."""
        if price <= 0:
            return 0.0
        if self.is_inverse:
            return qty * self.multiplier / price
        return float(qty * self.multiplier * price)

    def price_for_value(self, qty: int, value: float) -> float | None:
        """Inverse of `value`: the price at which `qty` contracts are worth `value`."""
        if qty == 0 or value == 0:
            return None
        if self.is_inverse:
            result = qty * self.multiplier / value
        else:
            result = value / (qty * self.multiplier)
        if result <= 0 or math.isnan(result) or math.isinf(result):
            return None
        return result

    def home_notional(self, qty: int, price: float) -> float:
        """Size in the underlying (XBT for XBTUSD; the XBT value for quanto contracts)."""
        if self.is_inverse:
            return qty / price if price else 0.0
        return abs(self.value(qty, price)) / 1e8

    def foreign_notional(self, qty: int, price: float) -> float:
        """Size in the quote currency (e.g. USD)."""
        if self.is_inverse:
            return float(qty)
        return qty * price


KNOWN_SPECS: dict[str, InstrumentSpec] = {
    "XBTUSD": InstrumentSpec(
        symbol="XBTUSD",
        tick_size=0.5,
        lot_size=100,
        start_price=60000.0,
        multiplier=-100_000_000,
        is_inverse=True,
        is_quanto=False,
        underlying="XBT",
        quote_currency="USD",
        settl_currency="XBt",
        position_currency="USD",
    ),
    "ETHUSD": InstrumentSpec(
        symbol="ETHUSD",
        tick_size=0.05,
        lot_size=1,
        start_price=3000.0,
        multiplier=100,
        is_inverse=False,
        is_quanto=True,
        underlying="ETH",
        quote_currency="USD",
        settl_currency="XBt",
        position_currency="",
    ),
    "SOLUSD": InstrumentSpec(
        symbol="SOLUSD",
        tick_size=0.01,
        lot_size=1,
        start_price=150.0,
        multiplier=1000,
        is_inverse=False,
        is_quanto=True,
        underlying="SOL",
        quote_currency="USD",
        settl_currency="XBt",
        position_currency="",
    ),
}


def spec_for(symbol: str) -> InstrumentSpec:
    """The known spec of `symbol`, or a plausible quanto contract for any other name."""
    known = KNOWN_SPECS.get(symbol)
    if known is not None:
        return known
    base = symbol[:-3] if symbol.endswith("USD") and len(symbol) > 3 else symbol
    seed = sum(ord(ch) for ch in symbol)
    return InstrumentSpec(
        symbol=symbol,
        tick_size=0.01,
        lot_size=1,
        start_price=float(20 + seed % 180),
        multiplier=1000,
        is_inverse=False,
        is_quanto=True,
        underlying=base,
        quote_currency="USD",
        settl_currency="XBt",
        position_currency="",
    )
