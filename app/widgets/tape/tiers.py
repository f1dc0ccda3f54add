"""Automatic highlight tiers: thresholds that fit a market's own print values.

A tier is worth showing only if it marks some prints and not others. The tiers are learned once
from a bounded sample of the market's first rows: for each tier the 1-2-5 number (…, 500, 1,000,
2,000, 5,000, …) whose share of the sample at or above it comes closest to the tier's target
share (that of its percentile: the top 20 %, 3 % and 0.3 % of rows), strictly increasing, never
marking half the rows or more. A market whose prints are worth 0.02 BTC gets tiers like 0.05,
one worth 50,000 USDT tiers like 50,000.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable

TIER_PERCENTILES = (80.0, 97.0, 99.7)
LEARN_PRINTS = 100  # prints seen before the tiers are learned
QUIET_MIN_ROWS = 30  # a quiet market learns from this many rows ...
QUIET_WAIT_S = 60.0  # ... once it has been shown this long
SAMPLE_ROWS = 500  # the newest rows the tiers are learned from, at most
MAX_SHARE = 0.5  # a tier never marks this share of the sample or more
OVER_COST = 2.0  # a share above the target weighs this much more than one below it
_MANTISSAS = (1, 2, 5)
_SEARCH = 3  # 1-2-5 steps searched either side of the percentile's own


def nice_value(step: int) -> float:
    """The 1-2-5 number of a step index: 0 → 1, 1 → 2, 2 → 5, 3 → 10, -1 → 0.5, ..."""
    exponent, mantissa = divmod(step, 3)
    return float(f"{_MANTISSAS[mantissa]}e{exponent}")


def nice_step(value: float) -> int:
    """The step index of the 1-2-5 number nearest `value` (on a log scale; value > 0)."""
    base = 3 * math.floor(math.log10(value))
    return min(
        range(base - 1, base + 4), key=lambda s: abs(math.log(nice_value(s)) - math.log(value))
    )


def percentile(ordered: list[float], pct: float) -> float:
    """The `pct` percentile of ascending, non-empty `ordered` (linear between ranks)."""
    rank = (len(ordered) - 1) * pct / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def learn_tiers(values: Iterable[float]) -> tuple[float, float, float] | None:
    """Three strictly increasing 1-2-5 thresholds for print values like `values` (None when
    fewer than QUIET_MIN_ROWS of them are positive numbers). Sorts the sample once."""
    ordered = sorted(v for v in values if v > 0 and math.isfinite(v))
    count = len(ordered)
    if count < QUIET_MIN_ROWS:
        return None

    def share(threshold: float) -> float:
        return (count - bisect.bisect_left(ordered, threshold)) / count

    floor_share = 0.5 / count  # "none in the sample": about half a row's worth
    steps: list[int] = []
    for pct in TIER_PERCENTILES:
        target = 1.0 - pct / 100.0
        around = nice_step(percentile(ordered, pct))
        lowest = around - _SEARCH if not steps else max(around - _SEARCH, steps[-1] + 1)
        candidates = [
            s
            for s in range(lowest, max(around, lowest) + _SEARCH + 1)
            if share(nice_value(s)) < MAX_SHARE
        ]
        best = min(candidates, key=lambda s: _miss(max(share(nice_value(s)), floor_share), target))
        steps.append(best)
    first, second, third = (nice_value(s) for s in steps)
    return first, second, third


def _miss(share: float, target: float) -> float:
    """How far a tier's share is from its target (log ratio; too many rows count double)."""
    ratio = math.log(share / target)
    return ratio * OVER_COST if ratio > 0 else -ratio


def ready_to_learn(prints_seen: int, rows: int, shown_for_s: float) -> bool:
    """True once a market's tiers can be learned: LEARN_PRINTS prints seen, or a quiet market
    shown for QUIET_WAIT_S with QUIET_MIN_ROWS rows."""
    if rows < QUIET_MIN_ROWS:
        return False
    return prints_seen >= LEARN_PRINTS or shown_for_s >= QUIET_WAIT_S
