"""Text for account table cells: quantities, prices, money, times (no Qt)."""

from __future__ import annotations

import math
import time
from typing import Any

from app.state.units import as_float
from app.widgets.format import shown_price_decimals

#: decimals shown per display currency (XBT to the satoshi is too noisy for a table)
MONEY_DECIMALS = {"XBT": 6, "ETH": 6, "USDT": 2, "USD": 2}
DEFAULT_MONEY_DECIMALS = 4
DASH = "\u2013"  # en dash


def field(row: Any, name: str, default: Any = None) -> Any:
    """A field of a view object (dataclass attribute) or of a raw dict row."""
    if isinstance(row, dict):
        return row.get(name, default)
    return getattr(row, name, default)


def first(row: Any, *names: str) -> Any:
    """The first of several field names that is present and not None."""
    for name in names:
        value = field(row, name)
        if value is not None:
            return value
    return None


def as_number(value: Any) -> float | None:
    """A finite float from a row value, else None."""
    number = as_float(value)
    return number if number is not None and math.isfinite(number) else None


def fmt_qty(value: Any) -> str:
    number = as_number(value)
    if number is None:
        return DASH
    if number == int(number):
        return f"{int(number):,}"
    return f"{number:,.4f}".rstrip("0").rstrip(".")


def fmt_price(value: Any, decimals: int | None = None) -> str:
    """A price at `decimals` (its market's), else at the decimals it is written with."""
    number = as_number(value)
    if number is None:
        return DASH
    if decimals is None:
        decimals = shown_price_decimals(None, (number,))
    return f"{number:,.{decimals}f}"


def money_decimals(currency: str | None) -> int:
    return MONEY_DECIMALS.get((currency or "").upper(), DEFAULT_MONEY_DECIMALS)


def shown_sign(value: Any, currency: str | None) -> int:
    """Sign of a money value as displayed (a value that rounds to zero has no sign)."""
    number = as_number(value)
    if number is None:
        return 0
    rounded = round(number, money_decimals(currency))
    return (rounded > 0) - (rounded < 0)


def fmt_money(value: Any, currency: str | None) -> str:
    number = as_number(value)
    if number is None:
        return DASH
    decimals = money_decimals(currency)
    rounded = round(number, decimals)
    return f"{(rounded if rounded != 0 else 0.0):,.{decimals}f}"


def fmt_leverage(value: Any) -> str:
    number = as_number(value)
    if number is None:
        return DASH
    return f"{number:.2f}\u00d7"  # multiplication sign


def fmt_time(value: Any) -> str:
    """HH:MM:SS local time of an epoch second value."""
    number = as_number(value)
    if number is None or number <= 0:
        return DASH
    return time.strftime("%H:%M:%S", time.localtime(number))


def fmt_datetime(value: Any) -> str:
    number = as_number(value)
    if number is None or number <= 0:
        return DASH
    ms = int((number - int(number)) * 1000)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(number)) + f".{ms:03d}"


def fmt_countdown(seconds: float | None) -> str:
    """`0:42` style countdown; negative values show as expired."""
    if seconds is None:
        return DASH
    if seconds <= 0:
        return "0:00"
    whole = math.ceil(seconds)
    return f"{whole // 60}:{whole % 60:02d}"
