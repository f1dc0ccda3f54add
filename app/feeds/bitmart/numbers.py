"""Exact number handling for BitMart frames.

BitMart sends prices and amounts as JSON strings (sometimes bare numbers). Frames are decoded
with `json.loads(parse_float=Decimal)` so a bare decimal never passes through binary floating
point; every numeric field is then read with `to_decimal`, which accepts str, int and Decimal
(and an explicit leading `+`). Floats for the venue-neutral events are made only at the end,
from the exact value.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any


class BadNumberError(ValueError):
    """A numeric field that is missing, not a number, or not finite."""


def loads(text: str | bytes) -> Any:
    """Decode a JSON frame keeping every non-integer number as an exact Decimal."""
    return json.loads(text, parse_float=Decimal)


def to_decimal(value: Any, field: str = "value") -> Decimal:
    """An exact finite Decimal from a string, int or Decimal; BadNumberError otherwise."""
    if isinstance(value, bool) or value is None:
        raise BadNumberError(f"{field}: not a number: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise BadNumberError(f"{field}: not a number: {value!r}") from None
    else:
        raise BadNumberError(f"{field}: not a number: {value!r}")
    if not result.is_finite():
        raise BadNumberError(f"{field}: not finite: {value!r}")
    return result


def to_int(value: Any, field: str = "value") -> int:
    """An integer from an int, an integral Decimal or an integral numeric string."""
    dec = to_decimal(value, field)
    if dec != dec.to_integral_value():
        raise BadNumberError(f"{field}: not an integer: {value!r}")
    return int(dec)


def to_float(value: Any, field: str = "value") -> float:
    """The float nearest to the exact decimal value."""
    return float(to_decimal(value, field))


def opt_float(value: Any, field: str = "value") -> float | None:
    """Like to_float, but None/"" stay None."""
    if value is None or value == "":
        return None
    return to_float(value, field)


def ms_to_seconds(value: Any, field: str = "time") -> float:
    """Epoch milliseconds (int or numeric string) to epoch seconds."""
    return float(to_decimal(value, field) / 1000)


def split_unit(value: Any, field: str = "rate") -> tuple[Decimal, str | None]:
    """`"0.05 USD"` → (Decimal("0.05"), "USD"); a bare number has no unit."""
    if isinstance(value, str):
        parts = value.split()
        if len(parts) == 2:
            return to_decimal(parts[0], field), parts[1]
        if len(parts) == 1:
            return to_decimal(parts[0], field), None
        raise BadNumberError(f"{field}: not 'number unit': {value!r}")
    return to_decimal(value, field), None


def decimal_text(value: Decimal) -> str:
    """Plain (non-exponent) text of a Decimal, as BitMart writes numbers."""
    return format(value, "f")
