"""Small conversions shared by the stores: money units, venue timestamps, tick arithmetic."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

# Venue minor units -> (display code, divisor). BitMEX reports money in the settlement
# currency's minor unit: XBt = satoshi (1e-8 XBT), USDt = 1e-6 USDT, Gwei = 1e-9 ETH.
CURRENCY_UNITS: dict[str, tuple[str, float]] = {
    "XBt": ("XBT", 1e8),
    "USDt": ("USDT", 1e6),
    "Gwei": ("ETH", 1e9),
}


def display_currency(code: str | None) -> str:
    """The display code for a venue currency code (`XBt` -> `XBT`); unknown codes unchanged."""
    if code is None:
        return ""
    unit = CURRENCY_UNITS.get(code)
    return unit[0] if unit else code


def to_display(value: Any, code: str | None) -> float | None:
    """A money amount in the currency's display unit, or None when the value is missing."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    unit = CURRENCY_UNITS.get(code) if code else None
    return number / unit[1] if unit else number


def as_float(value: Any) -> float | None:
    """A float from a JSON value, None for null/garbage (bools are not numbers here)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def parse_time(value: Any) -> float | None:
    """Epoch seconds from an ISO-8601 venue timestamp (or a number already in seconds)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def tick_decimals(tick: float | None) -> int:
    """Number of decimals needed to print multiples of `tick` exactly (0.5 -> 1, 1e-8 -> 8)."""
    if tick is None or tick <= 0:
        return 8
    try:
        exponent = Decimal(repr(tick)).normalize().as_tuple().exponent
    except InvalidOperation:
        return 8
    return max(0, -exponent) if isinstance(exponent, int) else 8
