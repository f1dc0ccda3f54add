"""Legacy order/trade precisions fitted to each symbol's valid range.

The openws server accepts an `order` or `trade` precision only within the symbol's
`price_min_precision` .. `price_max_precision` (REST symbol details). A precision the user
named must lie in that range; the client's default is moved into it instead, to the nearest
end: the default (6 digits, what public clients have always sent) becomes the symbol's finest
grouping when the symbol has fewer digits (0..5 → 5), its coarsest when it has more (7..9 → 7).
Without a known range a precision is sent as it is and the server decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from app.feeds.bitmart import constants as c
from app.feeds.bitmart.subscriptions import LegacySub, TopicError

Ranges = Mapping[str, tuple[int, int]]


def clamp_precision(precision: int, bounds: tuple[int, int]) -> int:
    """`precision` moved into `bounds` (min, max) at the nearest end."""
    low, high = bounds
    return min(max(precision, low), high)


def resolve_precision(sub: LegacySub, ranges: Ranges, default: int) -> LegacySub:
    """`sub` with its precision fitted to the symbol's range (if known).

    A defaulted precision becomes `default` clamped into the range; a named one outside the
    range raises TopicError. Other channels come back unchanged.
    """
    if sub.channel not in (c.LEGACY_CH_ORDER, c.LEGACY_CH_TRADE) or sub.param is None:
        return sub
    bounds = ranges.get(sub.symbol)
    if bounds is None:
        return sub
    if sub.defaulted:
        return replace(sub, param=clamp_precision(default, bounds))
    low, high = bounds
    if not low <= sub.param <= high:
        raise TopicError(
            f"precision {sub.param} of {sub.symbol} outside its range {low}..{high}: {sub.topic}"
        )
    return sub


def needs_range(sub: LegacySub) -> bool:
    """True for a subscription whose precision the symbol's range governs."""
    return sub.channel in (c.LEGACY_CH_ORDER, c.LEGACY_CH_TRADE) and sub.param is not None
