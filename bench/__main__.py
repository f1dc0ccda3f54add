"""`python -m bench`: orderBookL2 engine throughput at 10k and 50k levels with baselines.

Two stream shapes are measured: changes concentrated near the touch (as on a real book, the
shape the targets are judged on) and changes spread uniformly over the whole book (every
lookup a cache miss: the worst case, reported beside it).
"""

from __future__ import annotations

import platform
import sys
import time

from bench.l2_engine import SizeResult, measure, report
from bench.l2_stream import make_stream

MESSAGES = 24_000
SIZES = (10_000, 50_000)
SKEW = 100.0  # mean depth, in levels from the touch, of the levels that change
TARGET_FLOOR_RATIO = 0.5
TARGET_SCALING = 0.8


def _ratios(small: SizeResult, large: SizeResult) -> tuple[float, float, float, float]:
    """msgs/s ratios: engine/floor at 10k, engine/floor at 50k, engine 50k/10k as measured,
    and engine 50k/10k with each run normalized by its own parse floor (the floor does the
    same work at both sizes, so this cancels machine-speed drift between the two runs)."""
    e10, e50, f10, f50 = small.engine, large.engine, small.floor, large.floor
    r10 = e10.msgs_per_s / f10.msgs_per_s
    r50 = e50.msgs_per_s / f50.msgs_per_s
    return r10, r50, e50.msgs_per_s / e10.msgs_per_s, r50 / r10


def main() -> int:
    """Run the benchmark, print figures and target checks; exit 1 when a target is missed."""
    started = time.perf_counter()
    print(f"Depthdesk bench — Python {platform.python_version()} on {platform.machine()}")
    t0 = time.perf_counter()
    shapes = {"near touch": SKEW, "uniform": None}
    streams = [make_stream(levels, MESSAGES, skew) for skew in shapes.values() for levels in SIZES]
    print(f"streams generated in {time.perf_counter() - t0:.1f} s")
    measured = [measure(stream) for stream in streams]
    naive_budget: dict[tuple[int, float | None], int] = {
        (SIZES[0], SKEW): 150,
        (SIZES[1], SKEW): 40,
    }
    sized = [report(m, naive_budget.get((m.stream.levels, m.stream.skew), 0)) for m in measured]
    runs = {name: (sized[2 * k], sized[2 * k + 1]) for k, name in enumerate(shapes)}
    print("\n== summary (msgs/s; ratios of msgs/s)")
    print(f"  {'stream':<11} {'levels':>7} {'parse floor':>12} {'engine':>10} {'engine/floor':>13}")
    for name, pair in runs.items():
        for levels, run in zip(SIZES, pair, strict=True):
            floor, engine = run.floor.msgs_per_s, run.engine.msgs_per_s
            print(
                f"  {name:<11} {levels:>7,} {floor:>12,.0f} {engine:>10,.0f}"
                f" {engine / floor:>13.2f}"
            )
    results: dict[str, tuple[float, float, float, float]] = {}
    for name, (small, large) in runs.items():
        results[name] = _, _, raw, scaling = _ratios(small, large)
        print(f"  {name:<11} engine 50k/10k {scaling:.2f} floor-normalized ({raw:.2f} as measured)")
    _, r50, raw, scaling = results["near touch"]
    ok_floor = r50 >= TARGET_FLOOR_RATIO
    ok_scaling = scaling >= TARGET_SCALING
    print(
        f"  target engine/floor at 50k >= {TARGET_FLOOR_RATIO}: "
        f"{'met' if ok_floor else 'MISSED'} ({r50:.2f}, near-touch stream)"
    )
    print(
        f"  target 50k within 20% of 10k (>= {TARGET_SCALING}): "
        f"{'met' if ok_scaling else 'MISSED'} ({scaling:.2f} floor-normalized, {raw:.2f} raw;"
        " near-touch stream)"
    )
    clean = all(
        not run.unknown_keys and not run.dropped_before_partial
        for pair in runs.values()
        for run in pair
    )
    print(
        "  every stream applied with zero unknown keys and nothing dropped:"
        f" {'yes' if clean else 'NO'}"
    )
    print(f"  total bench time {time.perf_counter() - started:.0f} s")
    return 0 if ok_floor and ok_scaling and clean else 1


if __name__ == "__main__":
    sys.exit(main())
