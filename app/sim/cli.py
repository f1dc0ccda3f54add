"""`depthdesk sim`: run the simulated exchange until SIGINT/SIGTERM.

One market, three front-ends: the BitMEX realtime server (plain and multiplexed), and next to
it the BitMart v3 spot and legacy openws servers publishing the same books and prints under the
same symbol names, the legacy port also serving the REST symbol details (`--no-bitmart` leaves
them out). With `--port 0` every front-end takes a free port.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

BITMART_V3_PORT = 8767
BITMART_LEGACY_PORT = 8766


def _bitmart_ports(args: argparse.Namespace) -> tuple[int, int]:
    """(v3, legacy) ports: as given, else free ones next to `--port 0`, else the defaults."""
    free = args.port == 0
    v3 = args.bitmart_port if args.bitmart_port is not None else (0 if free else BITMART_V3_PORT)
    legacy = args.bitmart_legacy_port
    if legacy is None:
        legacy = 0 if free else BITMART_LEGACY_PORT
    return v3, legacy


def _accounts(text: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, sep, secret = item.partition(":")
        if not sep or not key or not secret:
            raise argparse.ArgumentTypeError("accounts are KEY:SECRET pairs separated by commas")
        pairs.append((key, secret))
    return pairs


def _symbols(text: str) -> list[str]:
    symbols = [s.strip().upper() for s in text.split(",") if s.strip()]
    if not symbols:
        raise argparse.ArgumentTypeError("at least one symbol is needed")
    return symbols


def _faults(text: str) -> list[object]:
    from app.sim.config import FaultSpec

    try:
        return list(FaultSpec.parse_list(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _burst(text: str) -> tuple[float, float, float]:
    """Parse RATE:SECONDS@EVERY."""
    try:
        spec, _, every = text.partition("@")
        rate, _, seconds = spec.partition(":")
        values = float(rate), float(seconds or 2.0), float(every or 10.0)
    except ValueError:
        raise argparse.ArgumentTypeError("expected RATE:SECONDS@EVERY, e.g. 5000:2@10") from None
    if min(values) <= 0:
        raise argparse.ArgumentTypeError("burst rate, length and period must be positive")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `depthdesk sim`."""
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="listen port (0 = any free port)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the market")
    parser.add_argument(
        "--rate", type=float, default=50.0, help="market actions per second (book messages)"
    )
    parser.add_argument(
        "--symbols", type=_symbols, default=["XBTUSD", "ETHUSD"], help="e.g. XBTUSD,ETHUSD"
    )
    parser.add_argument(
        "--accounts",
        type=_accounts,
        default=None,
        help="demo accounts KEY:SECRET,... (default: one generated account)",
    )
    parser.add_argument(
        "--freeze-after", type=float, default=None, help="stop the market after S seconds"
    )
    parser.add_argument(
        "--truth-out", type=Path, default=None, help="write the simulator's books here at exit"
    )
    parser.add_argument(
        "--heartbeat-close",
        type=float,
        default=35.0,
        help="close ?heartbeat=true sockets silent for S seconds (default 35)",
    )
    parser.add_argument(
        "--conn-limit", type=int, default=None, help="handshakes per minute per IP before 429"
    )
    parser.add_argument(
        "--funding-interval", type=float, default=8 * 3600.0, help="funding interval in seconds"
    )
    parser.add_argument(
        "--burst",
        type=_burst,
        default=None,
        metavar="RATE:SECONDS@EVERY",
        help="burst mode: RATE actions/s for SECONDS every EVERY seconds, e.g. 5000:2@10",
    )
    parser.add_argument(
        "--demo-interval",
        type=float,
        default=1.2,
        help="mean seconds between a demo account's own order actions",
    )
    parser.add_argument(
        "--bitmart-port",
        type=int,
        default=None,
        help=f"BitMart v3 spot port (default {BITMART_V3_PORT}, or a free one with --port 0)",
    )
    parser.add_argument(
        "--bitmart-legacy-port",
        type=int,
        default=None,
        help=f"BitMart legacy openws port (default {BITMART_LEGACY_PORT}, or free with --port 0)",
    )
    parser.add_argument(
        "--no-bitmart", action="store_true", help="serve BitMEX only (no BitMart front-ends)"
    )
    parser.add_argument(
        "--faults",
        type=_faults,
        default=[],
        help="scheduled faults, e.g. drop@10,stall@20:3,malformed@30,unknown-row@40,"
        "delay-partials@0:2,burst@50:5000:3",
    )


async def _serve(args: argparse.Namespace) -> int:
    from app.sim.bitmex.server import SimServer
    from app.sim.config import SimConfig

    burst_rate, burst_seconds, burst_every = args.burst or (5000.0, 2.0, None)
    config = SimConfig(
        host=args.host,
        port=args.port,
        seed=args.seed,
        rate=args.rate,
        symbols=args.symbols,
        accounts=args.accounts,
        freeze_after=args.freeze_after,
        heartbeat_close_after=args.heartbeat_close,
        connection_limit_per_minute=args.conn_limit,
        funding_interval=args.funding_interval,
        faults=list(args.faults),
        demo_interval=args.demo_interval,
        burst_every=burst_every,
        burst_rate=burst_rate,
        burst_seconds=burst_seconds,
    )
    sim = SimServer(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await sim.start()
    except OSError as exc:
        print(f"depthdesk sim: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    bitmart = None
    if not args.no_bitmart:
        from app.sim.bitmart.server import BitmartSim, BitmartSimConfig

        v3_port, legacy_port = _bitmart_ports(args)
        bitmart = BitmartSim(
            BitmartSimConfig(
                host=args.host, legacy_port=legacy_port, v3_port=v3_port, seed=args.seed
            ),
            exchange=sim.exchange,
        )
        try:
            await bitmart.start()
        except OSError as exc:
            await sim.stop()
            print(
                f"depthdesk sim: cannot listen for BitMart on {args.host}"
                f" ({v3_port}, {legacy_port}): {exc}",
                file=sys.stderr,
            )
            return 2
    print(f"Simulated BitMEX realtime API at {sim.url} (multiplexed: {sim.mux_url})", flush=True)
    print(f"Symbols: {', '.join(config.symbols)}; {config.rate:g} market actions/s", flush=True)
    for creds in sim.accounts:
        # Demo credentials of this local simulator: printing them is the point.
        print(
            f"Demo account {creds.account}: API key {creds.key}  secret {creds.secret}", flush=True
        )
    if bitmart is not None:
        print(f"BitMart v3 spot API at {bitmart.v3_url}", flush=True)
        print(f"BitMart legacy openws API at {bitmart.legacy_url}", flush=True)
        print(f"BitMart symbols (v3 and legacy): {', '.join(bitmart.symbols)}", flush=True)
        print(f"BitMart legacy symbol details at {bitmart.details_url}", flush=True)
    try:
        await stop.wait()
    finally:
        if bitmart is not None:
            await bitmart.stop()
        await sim.stop()
        if args.truth_out is not None:
            sim.write_truth(args.truth_out)
            print(f"Truth written to {args.truth_out}", flush=True)
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the simulator until interrupted; exit 0 after a clean shutdown."""
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return 0
