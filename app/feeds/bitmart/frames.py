"""What both BitMart parsers share: side names, the malformed-frame error, base counters,
exact best-first book levels, percent changes, and short object texts for error messages."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.feeds.bitmart.numbers import to_decimal
from app.feeds.events import PriceSize, Side

SIDES: dict[str, Side] = {"buy": "Buy", "sell": "Sell"}


class MalformedFrameError(ValueError):
    """A frame whose structure or numbers cannot be used."""


@dataclass(slots=True)
class ParserStats:
    """Counters every BitMart parser keeps."""

    messages: int = 0
    malformed: int = 0
    errors: int = 0
    unknown: int = 0


def exact_level(price: Any, size: Any, size_name: str) -> tuple[Decimal, Decimal]:
    """One book level read exactly; a non-positive price or a negative size is malformed."""
    price_dec = to_decimal(price, "price")
    size_dec = to_decimal(size, size_name)
    if price_dec <= 0 or size_dec < 0:
        raise MalformedFrameError(f"bad level {price_dec} x {size_dec}")
    return price_dec, size_dec


def best_first(levels: list[tuple[Decimal, Decimal]], descending: bool) -> list[PriceSize]:
    """Exact levels sorted best first (bids descending) as floats; a repeated price is
    malformed."""
    levels.sort(key=lambda lv: lv[0], reverse=descending)
    if len({p for p, _ in levels}) != len(levels):
        raise MalformedFrameError("duplicate price in a book side")
    return [(float(p), float(s)) for p, s in levels]


def percent(fraction: Any) -> float | None:
    """A signed fraction ("fluctuation": "-0.0123") as a percentage; None when absent."""
    if fraction in (None, ""):
        return None
    return float(to_decimal(fraction, "fluctuation") * 100)


def short(msg: Any, limit: int = 200) -> str:
    """`msg` as text, cut to `limit` characters."""
    text = str(msg)
    return text if len(text) <= limit else text[:limit] + "…"
