"""Shared pieces of the BitMart client ↔ simulator tests."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from app.feeds.bitmart import details_fetch
from app.feeds.bitmart.rate_limit import ConnectionGate
from app.feeds.events import BookLevels, Event
from app.sim.bitmart.legacy import LegacySimOptions
from app.sim.bitmart.server import BitmartSim, BitmartSimConfig
from app.sim.bitmart.v3 import V3SimOptions

FAST_INTERVAL = 0.15


def fast_sim_config(**legacy: Any) -> BitmartSimConfig:
    """A simulator with short timings: fast pushes, 0.15 s connection interval."""
    options = {"connect_interval": FAST_INTERVAL, "subscribe_deadline": 1.0, "push_interval": 0.03}
    options.update(legacy)
    return BitmartSimConfig(
        rate=300.0,
        legacy=LegacySimOptions(**options),
        v3=V3SimOptions(snapshot_interval=0.03, increase_interval=0.02, idle_update_after=0.2),
    )


def fast_gate(interval: float = FAST_INTERVAL) -> ConnectionGate:
    """A private 1-per-interval gate (tests never share the process-wide 4 s one)."""
    return ConnectionGate(interval, 1)


class Collector:
    """Records events in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type[Any], venue: str | None = None) -> list[Any]:
        """Events of one class (optionally one venue)."""
        return [
            e
            for e in self.events
            if isinstance(e, kind) and (venue is None or getattr(e, "venue", None) == venue)
        ]


async def wait_until(predicate: Callable[[], bool], within: float = 5.0) -> None:
    """Poll `predicate` until true; fail after `within` s."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


class LocalBook:
    """A plain price → size book built from BookLevels events of one symbol."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self.snapshots = 0

    def apply(self, event: Event) -> None:
        """Apply one event if it is a BookLevels of this symbol."""
        if not isinstance(event, BookLevels) or event.symbol != self.symbol:
            return
        if event.snapshot:
            self.snapshots += 1
            self.bids.clear()
            self.asks.clear()
        for side, levels in ((self.bids, event.bids), (self.asks, event.asks)):
            for price, size in levels:
                if size == 0:
                    side.pop(price, None)
                else:
                    side[price] = size

    def top(self, n: int | None = None) -> tuple[list[list[float]], list[list[float]]]:
        """(bids, asks) best first as [price, size] lists."""
        bids = [[p, self.bids[p]] for p in sorted(self.bids, reverse=True)][:n]
        asks = [[p, self.asks[p]] for p in sorted(self.asks)][:n]
        return bids, asks


def book_served(sim: BitmartSim, symbol: str) -> bool:
    """True once the simulator has sent `symbol`'s book to a client of either front-end."""
    legacy = any(symbol in conn.sent_book_seq for conn in sim.legacy.conns)
    return legacy or any(symbol in conn.sent_version for conn in sim.v3.conns)


def trades_served(sim: BitmartSim, symbol: str, after: int) -> bool:
    """True once a client was sent `symbol`'s trades up to a print later than `after`."""
    sent = [conn.sent_print_seq for conn in sim.legacy.conns]
    sent += [conn.sent_print_seq for conn in sim.v3.conns]
    return any(seq.get(symbol, after) > after for seq in sent)


def update_published(sim: BitmartSim, symbol: str) -> bool:
    """True once a v3 client was sent an increase100 update newer than its last snapshot."""
    version = sim.market.views[symbol].version
    return any(version > conn.sent_version.get(symbol, version) for conn in sim.v3.conns)


async def serve_then_freeze(
    sim: BitmartSim, symbol: str, *, gap: bool = False, live: float = 0.3
) -> None:
    """Freeze the market once a client has its book, has followed `live` s of activity and
    has been sent at least one new trade.

    With `gap`, a version gap is then injected (after a published update, so the idle
    heartbeat cannot carry the skipped version), and the market runs `live` s more once the
    client has asked for a fresh snapshot. Every step waits for what the client did, not for
    a fixed time, so a slow machine only makes the test slower. The feed under test should end
    on `--idle-exit` (nothing arrives once the frozen market's last changes are delivered).
    """
    await wait_until(lambda: book_served(sim, symbol), within=10.0)
    printed = sim.market.views[symbol].print_seq
    await asyncio.sleep(live)
    await wait_until(lambda: trades_served(sim, symbol, printed), within=10.0)
    if gap:
        await wait_until(lambda: update_published(sim, symbol), within=10.0)
        requests = sim.v3.stats.snapshot_requests
        sim.gap(symbol)
        await wait_until(lambda: sim.v3.stats.snapshot_requests > requests, within=10.0)
        await asyncio.sleep(live)
    sim.freeze()


def forget_shared_fetches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make this test fetch symbol details anew: a port reused from another test's server must
    not get that server's shared answer (call from an autouse fixture)."""
    monkeypatch.setattr(details_fetch, "_fetches", {})


def unused_port_url() -> str:
    """A details URL on a loopback port with nothing listening (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v2/symbols_details"
