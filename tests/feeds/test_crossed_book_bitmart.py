"""BitMart books that stay crossed: v3 depth/increase100 re-requests a snapshot (session with a
settable clock, and the client against the simulator over loopback); whole-book pushes (v3
depth5/20/50, legacy depth) and recordings request nothing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.feeds.bitmart import constants as c
from app.feeds.bitmart.client_legacy import BitmartLegacyClient, BitmartLegacyConfig
from app.feeds.bitmart.client_v3 import BitmartClient, BitmartConfig, V3ClientStats, V3Session
from app.feeds.bitmart.deflate import deflate
from app.feeds.bitmart.parse_v3 import V3Parser
from app.feeds.bitmart.rate_limit import ConnectionGate
from app.feeds.events import BookLevels, Event, Resync
from app.headless.replay import ReplayFeed
from app.sim.bitmart.legacy import LegacySimOptions
from app.sim.bitmart.server import BitmartSim, BitmartSimConfig
from app.sim.bitmart.v3 import V3SimOptions
from app.state.crossed_guard import CrossedBookGuard
from app.state.market import MarketState

SYM = "BTC_USDT"
INCREASE = f"{c.V3_CH_DEPTH_INCREASE}:{SYM}"


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


class Wired:
    """A v3 session whose events go to a MarketState and then the crossed-book guard."""

    def __init__(self, topic: str) -> None:
        self.clock = Clock()
        self.state = MarketState(c.VENUE_V3, clock=self.clock)
        self.events: list[Event] = []
        self.session = V3Session(
            BitmartConfig(url="ws://v3.invalid/api"),  # never dialled: frames are handed in
            V3Parser(),
            self.on_event,
            V3ClientStats(),
            self.clock,
            None,
        )
        self.guard = CrossedBookGuard(self.state, self.request)
        self.session.add([topic], self.clock())
        self.session.opened(self.clock())

    def request(self, symbol: str, reason: str) -> bool:
        return self.session.request_fresh_book(symbol, reason, self.clock())

    def on_event(self, event: Event) -> None:
        self.events.append(event)
        self.state.apply(event)
        self.guard.after_event(event)

    def push(self, table: str, row: dict[str, Any]) -> list[str | bytes]:
        """One deflated server frame; the frames the session sends in response."""
        frame = deflate(json.dumps({"table": table, "data": [{"symbol": SYM, **row}]}))
        return self.session.received(self.clock(), frame)

    def increase(self, kind: str, version: int, bids: Any = (), asks: Any = ()) -> list[Any]:
        row = {"type": kind, "version": version, "bids": list(bids), "asks": list(asks)}
        return self.push(c.V3_CH_DEPTH_INCREASE, {**row, "ms_t": 1})

    def book(self) -> tuple[list[Any], list[Any]]:
        book = self.state.book(SYM)
        return book.bids(), book.asks()

    def close(self) -> None:
        """Give back the process-wide open-socket count that `opened()` took."""
        self.session.closed("test over")


@pytest.fixture
def wire() -> Iterator[Callable[[str], Wired]]:
    """Makes `Wired` sessions and closes them after the test, whatever its outcome."""
    made: list[Wired] = []

    def make(topic: str) -> Wired:
        made.append(Wired(topic))
        return made[-1]

    yield make
    for wired in made:
        wired.close()


def test_increase100_book_left_crossed_requests_a_snapshot_like_a_version_gap(
    wire: Callable[[str], Wired],
) -> None:
    w = wire(INCREASE)
    assert w.increase("snapshot", 1, [["100", "1"]], [["101", "1"], ["102", "1"]]) == []
    assert w.increase("update", 2, bids=[["101.5", "2"]]) == []  # the ask's removal was lost
    assert w.state.crossed == {SYM}
    w.clock.now += 0.5
    assert w.increase("update", 3, bids=[["99", "1"]]) == []
    w.clock.now += 0.5
    (frame,) = w.increase("update", 4, asks=[["103", "1"]])  # sent with this frame's replies
    assert json.loads(frame) == {"op": "request", "args": [INCREASE]}
    (resync,) = [e for e in w.events if isinstance(e, Resync)]
    assert resync.table == c.V3_CH_DEPTH_INCREASE and resync.symbol == SYM
    assert resync.reason == "book crossed for 1.0 s: bid 101.5 >= ask 101.0"
    assert w.session.stats.resyncs == 1 and w.session.stats.snapshot_requests == 1
    assert w.state.book(SYM).stale and w.book() == ([], []) and w.state.crossed == set()
    assert w.increase("update", 5, bids=[["98", "1"]]) == []  # dropped until the snapshot
    assert w.book() == ([], []) and w.guard.pending() == [SYM]
    assert w.increase("snapshot", 9, [["100.5", "3"]], [["101", "1"]]) == []
    assert w.book() == ([(100.5, 3.0)], [(101.0, 1.0)])
    assert not w.state.book(SYM).stale and w.guard.pending() == []
    assert w.session.deadline() is None  # no snapshot awaited any more
    w.increase("update", 10, bids=[["100.6", "1"]])
    assert w.book()[0][0] == (100.6, 1.0) and w.guard.requests == 1


def test_whole_book_pushes_and_recordings_request_nothing(
    wire: Callable[[str], Wired], tmp_path: Path
) -> None:
    w = wire(f"{c.V3_CH_DEPTH_PREFIX}5:{SYM}")
    for _ in range(6):  # crossed in every push: the venue's own book, not lost updates
        w.push(f"{c.V3_CH_DEPTH_PREFIX}5", {"bids": [["101", "1"]], "asks": [["100", "1"]]})
        w.clock.now += 0.5
    assert w.state.crossed == {SYM} and w.guard.requests == 0 and w.guard.declined == 0
    assert not w.request(SYM, "asked directly") and w.session.stats.snapshot_requests == 0
    assert not [e for e in w.events if isinstance(e, Resync)]
    legacy = BitmartLegacyClient(
        BitmartLegacyConfig(symbols=[SYM], topics=[c.LEGACY_CH_ORDER]), lambda _e: None
    )
    assert not legacy.request_fresh_book(SYM, "each push is a whole book")
    recording = tmp_path / "empty.rec"
    recording.write_text("")
    assert not ReplayFeed(recording, lambda _e: None).request_fresh_book(SYM, "recorded")


def sim_config() -> BitmartSimConfig:
    return BitmartSimConfig(
        rate=300.0,
        legacy=LegacySimOptions(connect_interval=0.15, subscribe_deadline=1.0, push_interval=0.03),
        v3=V3SimOptions(snapshot_interval=0.03, increase_interval=0.02, idle_update_after=0.2),
    )


async def wait_until(predicate: Any, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


@pytest.mark.asyncio
async def test_v3_client_request_goes_out_and_the_simulator_sends_a_fresh_snapshot() -> None:
    async with BitmartSim(sim_config()) as sim:
        events: list[Event] = []
        config = BitmartConfig(
            url=sim.v3_url,
            symbols=[SYM],
            topics=[f"{c.V3_CH_DEPTH_INCREASE}:ETH_USDT", f"{c.V3_CH_DEPTH_PREFIX}5"],
            backoff_initial=0.05,
            snapshot_timeout=1.0,
        )
        client = BitmartClient(config, events.append, gate=ConnectionGate(0.0, 1))
        task = asyncio.create_task(client.run())

        def snapshots() -> int:
            return sum(
                1
                for e in events
                if isinstance(e, BookLevels) and e.symbol == "ETH_USDT" and e.snapshot
            )

        try:
            assert not client.request_fresh_book("ETH_USDT", "before connecting")
            await wait_until(lambda: client.parser.depth_version("ETH_USDT") is not None)
            assert not client.request_fresh_book(SYM, "depth5 pushes whole books")
            assert client.request_fresh_book("ETH_USDT", "book crossed")
            assert not client.request_fresh_book("ETH_USDT", "a snapshot is already awaited")
            (resync,) = [e for e in events if isinstance(e, Resync)]
            assert resync.symbol == "ETH_USDT" and resync.reason == "book crossed"
            await wait_until(lambda: snapshots() >= 2)
            assert sim.v3.stats.snapshot_requests == 1
            assert client.stats.resyncs == 1 and client.stats.reconnects == 0
        finally:
            await client.close()
            await task
