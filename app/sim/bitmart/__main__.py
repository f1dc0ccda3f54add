"""`python -m app.sim.bitmart`: run the BitMart simulator (legacy and v3) until interrupted.

    python -m app.sim.bitmart [--legacy-port 8766] [--v3-port 8767] [--symbols BTC_USDT,ETH_USDT]
        [--seed 1] [--rate 50] [--gap-every S] [--duration S] [--truth-out FILE]

Prints the two URLs and the legacy symbol details URL, then serves. `--gap-every S` skips an
increase100 version of every symbol every S seconds (clients must resync); `--truth-out` writes
the books at exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path

from app.sim.bitmart.server import DEFAULT_SYMBOLS, BitmartSim, BitmartSimConfig


def build_parser() -> argparse.ArgumentParser:
    """Options of the BitMart simulator."""
    parser = argparse.ArgumentParser(prog="python -m app.sim.bitmart", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--legacy-port", type=int, default=8766, help="0 = any free port")
    parser.add_argument("--v3-port", type=int, default=8767, help="0 = any free port")
    parser.add_argument("--symbols", default=",".join(DEFAULT_SYMBOLS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=50.0, help="market actions per second")
    parser.add_argument("--gap-every", type=float, default=None, help="version gap period (s)")
    parser.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    parser.add_argument("--truth-out", type=Path, default=None)
    return parser


async def serve(args: argparse.Namespace) -> int:
    """Run until SIGINT/SIGTERM or --duration."""
    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    config = BitmartSimConfig(
        host=args.host,
        legacy_port=args.legacy_port,
        v3_port=args.v3_port,
        seed=args.seed,
        rate=args.rate,
        symbols=symbols,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with BitmartSim(config) as sim:
        print(f"legacy openws: {sim.legacy_url}", flush=True)
        print(f"v3 spot:       {sim.v3_url}", flush=True)
        print(f"legacy symbol details: {sim.details_url}", flush=True)
        elapsed = 0.0
        while not stop.is_set():
            period = args.gap_every or 1.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), period)
            elapsed += period
            if args.gap_every and not stop.is_set():
                for symbol in sim.symbols:
                    sim.gap(symbol)
            if args.duration is not None and elapsed >= args.duration:
                break
        if args.truth_out is not None:
            books = [sim.truth(s) for s in sim.symbols]
            args.truth_out.write_text(json.dumps(books, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"bitmart sim: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
