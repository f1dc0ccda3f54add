"""`python -m bench`: orderBookL2 engine throughput at 10k and 50k levels with baselines."""

from __future__ import annotations

import platform
import sys
import time

from bench.l2_engine import Rate, run_size

MESSAGES = 24_000
TARGET_FLOOR_RATIO = 0.5
TARGET_SCALING = 0.8


def main() -> int:
    """Run the benchmark and print figures and target checks; exit 1 when a target is missed."""
    started = time.perf_counter()
    print(f"Depthdesk bench — Python {platform.python_version()} on {platform.machine()}")
    small = run_size(10_000, MESSAGES, naive_messages=150)
    large = run_size(50_000, MESSAGES, naive_messages=40)
    e10, e50 = small["engine"], large["engine"]
    f10, f50 = small["floor"], large["floor"]
    assert isinstance(e10, Rate) and isinstance(e50, Rate)
    assert isinstance(f10, Rate) and isinstance(f50, Rate)
    r10 = e10.msgs_per_s / f10.msgs_per_s
    r50 = e50.msgs_per_s / f50.msgs_per_s
    scaling = e50.msgs_per_s / e10.msgs_per_s
    ok_floor = r50 >= TARGET_FLOOR_RATIO
    ok_scaling = scaling >= TARGET_SCALING
    print("\n== summary")
    print(f"  engine / parse floor at 10k levels: {r10:.2f}")
    print(
        f"  engine / parse floor at 50k levels: {r50:.2f}"
        f"   (target >= {TARGET_FLOOR_RATIO}: {'met' if ok_floor else 'MISSED'})"
    )
    print(
        f"  engine throughput 50k / 10k levels: {scaling:.2f}"
        f"   (target >= {TARGET_SCALING}: {'met' if ok_scaling else 'MISSED'})"
    )
    print(f"  total bench time {time.perf_counter() - started:.0f} s")
    return 0 if ok_floor and ok_scaling and not small["unknown"] and not large["unknown"] else 1


if __name__ == "__main__":
    sys.exit(main())
