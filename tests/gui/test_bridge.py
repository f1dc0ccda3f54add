"""The bridge coalesces any event rate into at most one frame per timer tick."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from pytestqt.qtbot import QtBot

from app.bridge import HEALTH_ASPECT, STATUS_ASPECT, Bridge
from app.feeds.events import Event, FeedStatus, Latency, Resync, Trade, Trades
from app.state.market import MarketState
from tests.conftest import signal_future
from tests.gui.conftest import FakeSession, book

SYM = "XBTUSD"


def _burst(n: int) -> list[Event]:
    events: list[Event] = [
        book(
            SYM,
            [(100.0 - i * 0.5, 10.0) for i in range(50)],
            [(100.5 + i * 0.5, 10.0) for i in range(50)],
            snapshot=True,
        )
    ]
    for i in range(n - 1):
        if i % 10 == 0:
            events.append(
                Trades("bitmex", SYM, [Trade("bitmex", SYM, "Buy", 100.5, 1.0, float(i))])
            )
        else:
            events.append(book(SYM, [(100.0 - (i % 50) * 0.5, float(i % 97 + 1))], []))
    return events


def test_a_burst_of_5000_events_is_one_frame(qtbot: QtBot) -> None:
    state = MarketState("bitmex")
    bridge = Bridge(state, max_hz=60)
    frames: list[frozenset[str]] = []
    bridge.frame.connect(frames.append)
    for ev in _burst(5000):
        bridge.on_event(ev)
    assert frames == []  # nothing is painted from inside the feed callback
    qtbot.waitUntil(lambda: len(frames) >= 1, timeout=1000)
    qtbot.wait(3 * bridge.interval_ms)
    assert len(frames) == 1
    assert {f"book:{SYM}", f"trades:{SYM}"} <= frames[0]
    assert bridge.events_received == 5000
    assert len(state.book(SYM).bids()) == 50


def test_idle_bridge_stops_its_timer(qtbot: QtBot) -> None:
    bridge = Bridge(MarketState("bitmex"), max_hz=60)
    frames: list[object] = []
    bridge.frame.connect(frames.append)
    bridge.on_event(book(SYM, [(1.0, 1.0)], [(2.0, 1.0)], snapshot=True))
    qtbot.waitUntil(lambda: len(frames) == 1, timeout=1000)
    qtbot.waitUntil(lambda: not bridge._timer.isActive(), timeout=1000)
    qtbot.wait(50)
    assert len(frames) == 1


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_sustained_flood_is_capped_at_the_frame_rate() -> None:
    state = MarketState("bitmex")
    bridge = Bridge(state, max_hz=60)
    frames: list[float] = []
    bridge.frame.connect(lambda _aspects: frames.append(time.monotonic()))
    events = _burst(5000)
    started = time.monotonic()
    # 5,000 events delivered in 100 socket reads over ~0.3 s, as a real flood would arrive
    for i in range(0, len(events), 50):
        for ev in events[i : i + 50]:
            bridge.on_event(ev)
        await asyncio.sleep(0.003)
    if bridge._dirty:
        await asyncio.wait_for(signal_future(bridge.frame), 1.0)
    elapsed = time.monotonic() - started
    assert not bridge._dirty
    allowed = elapsed / (bridge.interval_ms / 1000.0) + 2
    assert 1 <= len(frames) <= allowed
    gaps = [b - a for a, b in itertools.pairwise(frames)]
    assert all(g >= bridge.interval_ms / 1000.0 * 0.5 for g in gaps)
    bridge.stop()


def test_bad_events_never_raise_and_show_up_as_status(qtbot: QtBot) -> None:
    class Broken:
        def apply(self, ev: Event) -> set[str]:
            raise ValueError("bad row")

    bridge = Bridge(Broken())
    frames: list[frozenset[str]] = []
    bridge.frame.connect(frames.append)
    bridge.on_event(book(SYM, [(1.0, 1.0)], [], snapshot=True))
    bridge.flush()
    assert bridge.apply_errors == 1
    assert STATUS_ASPECT in frames[0]


def test_feed_health_and_book_banner() -> None:
    bridge = Bridge(MarketState("bitmex"))
    bridge.on_event(FeedStatus("bitmex", "live", reconnects=2))
    bridge.on_event(Latency("bitmex", 12.5))
    health = bridge.feeds["bitmex"]
    assert (health.state, health.reconnects, health.rtt_ms) == ("live", 2, 12.5)
    assert bridge.books.banner(SYM) == ""
    bridge.on_event(book(SYM, [(1.0, 1.0)], [(2.0, 1.0)], snapshot=True))
    bridge.on_event(Resync("bitmex", "orderBookL2", SYM, "unknown id"))
    assert "resyncing" in bridge.books.banner(SYM)
    assert HEALTH_ASPECT in bridge._dirty
    bridge.on_event(book(SYM, [(1.0, 2.0)], [(2.0, 1.0)], snapshot=True))
    assert bridge.books.banner(SYM) == ""
    bridge.on_event(FeedStatus("bitmex", "stale"))
    assert "stale" in bridge.books.banner(SYM)
    assert bridge.feeds["bitmex"].errors == 1


def test_bitmart_depth_resync_raises_the_banner_and_the_ladder_shows_it(
    qtbot: QtBot, themes: object
) -> None:
    """A v3 `spot/depth/increase100` version gap is a book resync like BitMEX's orderBookL2:
    the banner shows until the fresh snapshot, and the ladder shows no stale sizes meanwhile."""
    from app.feeds.bitmart import constants as bm
    from app.feeds.events import BookLevels
    from app.widgets.ladder.widget import LadderWidget

    session = FakeSession(bm.VENUE_V3, "BTC_USDT")
    widget = LadderWidget()
    qtbot.addWidget(widget)
    widget.bind_session(session)  # type: ignore[arg-type]
    widget.show()
    bridge, sym = session.bridge, session.symbol
    bridge.on_event(BookLevels(bm.VENUE_V3, sym, [(100.0, 1.0)], [(100.5, 1.0)], True))
    bridge.flush()
    assert bridge.books.banner(sym) == "" and widget.banner.isHidden()
    bridge.on_event(Resync(bm.VENUE_V3, bm.V3_CH_DEPTH_INCREASE, sym, "version gap 7 -> 9"))
    bridge.flush()
    assert "resyncing (version gap 7 -> 9)" in bridge.books.banner(sym)
    assert not widget.banner.isHidden() and "resyncing" in widget.banner.text()
    assert not any(r.bid or r.ask for r in widget.model.rows())
    # a delta is not a snapshot: still resyncing
    bridge.on_event(BookLevels(bm.VENUE_V3, sym, [(100.0, 3.0)], [], False))
    assert "resyncing" in bridge.books.banner(sym)
    bridge.on_event(BookLevels(bm.VENUE_V3, sym, [(100.0, 2.0)], [(100.5, 1.0)], True))
    bridge.flush()
    assert bridge.books.banner(sym) == "" and widget.banner.isHidden()
    # a resync of a table that is not a book (BitMart trades) leaves the banner alone
    bridge.on_event(Resync(bm.VENUE_V3, bm.V3_CH_TRADE, sym, "gap"))
    assert bridge.books.banner(sym) == ""


def test_forwarded_rows_apply_as_forwarded_and_skip_feed_health() -> None:
    from app.feeds.events import Reset, TableRows

    bridge = Bridge(MarketState("bitmex"))
    bridge.on_event(FeedStatus("bitmex", "live"))
    events_before = bridge.feeds["bitmex"].events
    row = {"account": 1, "symbol": SYM, "currency": "XBt", "currentQty": 3, "isOpen": True}
    keys = ["account", "symbol", "currency"]
    bridge.on_forwarded(TableRows("bitmex", "position", "partial", keys, [row], 0.0))
    assert bridge.feeds["bitmex"].events == events_before  # not this feed's traffic
    assert "account" in bridge._dirty
    bridge.on_event(Reset("bitmex", "reconnect"))
    state = bridge.state
    assert isinstance(state, MarketState)
    assert not state.account.stale and state.account.positions()[0].qty == 3
