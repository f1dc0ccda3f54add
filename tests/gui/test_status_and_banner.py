"""Status bar per-feed summary and the ladder's banner (stale, resyncing, crossed book)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.bridge import Bridge
from app.feeds.bitmart.parse_v3 import V3Parser
from app.feeds.bitmex.engine import BitmexEngine
from app.feeds.events import FeedStatus, Latency, Reset, Resync
from app.gui import venues
from app.gui.session import FeedSession, SessionSpec
from app.gui.status_bar import StatusBar
from app.state.market import MarketState
from app.widgets.ladder.widget import LadderWidget
from tests.gui.conftest import book, instrument, keep_artifact, wait_until
from tests.headless.loopback import MiniBitmex, l2_partial, l2_row

SYM = "XBTUSD"


class _Spec:
    label = "Demo simulator"
    venue_key = "demo"
    symbol = SYM


class _Stats:
    messages = 0
    rtt_ms = None


class _Client:
    def __init__(self) -> None:
        self.stats = _Stats()


class _Session:
    def __init__(self) -> None:
        self.state = MarketState("bitmex")
        self.bridge = Bridge(self.state)
        self.symbol = SYM
        self.spec = _Spec()
        self.client = _Client()
        self.has_account = False


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_status_bar_shows_state_age_ping_rate_and_reconnects(qtbot: QtBot, themes) -> None:
    clock = Clock()
    session = _Session()
    session.bridge._clock = clock
    bar = StatusBar(clock=clock)
    qtbot.addWidget(bar)
    bar.bind_session(session)  # type: ignore[arg-type]
    session.bridge.on_event(FeedStatus("bitmex", "live", reconnects=3))
    session.bridge.on_event(Latency("bitmex", 42.0))
    bar.refresh()
    clock.now += 2.0
    session.client.stats.messages = 500
    bar.refresh()
    text = bar.indicator_texts()[0]
    assert "live" in text and "42 ms" in text and "250 msg/s" in text and "reconnects 3" in text
    assert "last 2.0s" in text
    assert themes.theme.ok in text
    session.bridge.on_event(Latency("bitmex", 0.34))  # a loopback round trip is not "0 ms"
    bar.refresh()
    assert "ping 0.3 ms" in bar.indicator_texts()[0]
    clock.now += 30.0  # nothing heard for 30 s: shown as stale even before the watchdog fires
    bar.refresh()
    assert themes.theme.warn in bar.indicator_texts()[0] and "stale" in bar.indicator_texts()[0]
    session.bridge.on_event(FeedStatus("bitmex", "down", detail="connection refused"))
    bar.refresh()
    assert themes.theme.alert in bar.indicator_texts()[0]


def test_ladder_banner_on_resync_and_reconnect(qtbot: QtBot, themes) -> None:
    session = _Session()
    session.state.apply(instrument(SYM, 0.5))
    widget = LadderWidget()
    qtbot.addWidget(widget)
    widget.bind_session(session)  # type: ignore[arg-type]
    widget.show()
    session.bridge.on_event(book(SYM, [(100.0, 1.0)], [(100.5, 1.0)], snapshot=True))
    session.bridge.flush()
    assert widget.banner.isHidden()
    session.bridge.on_event(Resync("bitmex", "orderBookL2", SYM, "unknown id on update"))
    session.bridge.flush()
    assert not widget.banner.isHidden() and "resyncing" in widget.banner.text()
    assert not any(r.bid or r.ask for r in widget.model.rows())  # never a wrong book
    session.bridge.on_event(book(SYM, [(100.0, 2.0)], [(100.5, 1.0)], snapshot=True))
    session.bridge.flush()
    assert widget.banner.isHidden()
    session.bridge.on_event(Reset("bitmex", "reconnecting"))
    session.bridge.on_event(FeedStatus("bitmex", "reconnecting"))
    session.bridge.flush()
    assert not widget.banner.isHidden() and "not live" in widget.banner.text()


def _l2(action: str, rows: list[dict[str, object]]) -> str:
    """A BitMEX orderBookL2 frame as the venue sends it."""
    msg: dict[str, object] = {"table": "orderBookL2", "action": action, "data": rows}
    if action == "partial":
        msg.update(keys=["symbol", "id", "side"], types={}, filter={"symbol": SYM})
    return json.dumps(msg)


def _level(level_id: int, side: str, price: float, size: int | None = None) -> dict[str, object]:
    row: dict[str, object] = {"symbol": SYM, "id": level_id, "side": side, "price": price}
    if size is not None:
        row["size"] = size
    return row


def test_ladder_banner_while_the_book_is_crossed(qtbot: QtBot, themes, artifacts: Path) -> None:
    session = _Session()
    engine = BitmexEngine()

    def receive(frame: str) -> None:  # what the BitMEX client does with every frame
        for ev in engine.apply(frame):
            session.bridge.on_event(ev)
        session.bridge.flush()

    session.state.apply(instrument(SYM, 0.5))
    widget = LadderWidget()
    qtbot.addWidget(widget)
    widget.resize(520, 360)
    widget.bind_session(session)  # type: ignore[arg-type]
    widget.show()
    receive(
        _l2(
            "partial",
            [
                _level(1, "Sell", 60001.0, 2000),
                _level(2, "Sell", 60000.5, 300),
                _level(3, "Buy", 60000.0, 400),
                _level(4, "Buy", 59999.5, 1500),
            ],
        )
    )
    assert widget.banner.isHidden() and widget.banner_level == ""
    # a bid above the best ask arrives and nothing removes the ask: updates were lost
    receive(_l2("insert", [_level(5, "Buy", 60001.0, 700)]))
    assert not widget.banner.isHidden() and widget.banner_level == "alert"
    text = widget.banner.text()
    assert "XBTUSD book crossed: bid 60,001.0 \u2265 ask 60,000.5" in text
    assert "request a fresh book if it stays crossed" in text
    assert themes.theme.alert in widget.banner.styleSheet()
    assert any("crossed" in e for e in session.state.errors)
    assert any(r.best_bid for r in widget.model.rows())  # the book is shown as received
    picture = artifacts / "ladder_crossed.png"
    assert widget.grab().save(str(picture), "PNG")
    keep_artifact(picture)
    # the venue deletes the stale ask: the book uncrosses and the banner goes
    receive(_l2("delete", [_level(2, "Sell", 60000.5), _level(1, "Sell", 60001.0)]))
    assert not session.state.book(SYM).is_crossed()
    assert widget.banner.isHidden() and widget.banner_level == ""
    assert widget.banner.styleSheet() == ""
    # crossed again, then a reconnect: the feed banner (orange) replaces the crossed one
    receive(_l2("insert", [_level(6, "Sell", 59999.5, 100)]))
    assert widget.banner_level == "alert" and "ask 59,999.5" in widget.banner.text()
    session.bridge.on_event(Reset("bitmex", "reconnecting"))
    session.bridge.on_event(FeedStatus("bitmex", "reconnecting"))
    session.bridge.flush()
    assert widget.banner_level == "warn" and "not live" in widget.banner.text()
    assert widget.banner.styleSheet() == ""


def test_crossed_bitmart_snapshot_clears_with_the_next_snapshot(qtbot: QtBot, themes) -> None:
    session = _Session()
    session.state = MarketState("bitmart-v3")
    session.bridge = Bridge(session.state)
    session.symbol = "BTC_USDT"
    parser = V3Parser()

    def receive(bids: list[list[str]], asks: list[list[str]]) -> None:
        row = {"symbol": "BTC_USDT", "bids": bids, "asks": asks, "ms_t": 1}
        frame = json.dumps({"table": "spot/depth5", "data": [row]})
        for ev in parser.parse(frame, 0.0).events:
            session.bridge.on_event(ev)
        session.bridge.flush()

    widget = LadderWidget()
    qtbot.addWidget(widget)
    widget.bind_session(session)  # type: ignore[arg-type]
    receive([["100.2", "1"]], [["100.1", "2"]])
    assert widget.banner_level == "alert"
    assert "bid 100.2 \u2265 ask 100.1" in widget.banner.text()
    receive([["100.0", "1"]], [["100.1", "2"]])
    assert widget.banner.isHidden() and widget.banner_level == ""


def test_a_resync_of_an_unfiltered_book_table_marks_every_shown_book(qtbot: QtBot) -> None:
    bridge = Bridge(MarketState("bitmex"))
    for sym in (SYM, "ETHUSD"):
        bridge.on_event(book(sym, [(100.0, 1.0)], [(100.5, 1.0)], snapshot=True))
    bridge.on_event(Resync("bitmex", "orderBookL2", None, "XBTUSD: book crossed for 1.0 s"))
    for sym in (SYM, "ETHUSD"):
        assert f"{sym} book resyncing (XBTUSD: book crossed" in bridge.books.banner(sym)
    bridge.on_event(book("ETHUSD", [(100.0, 1.0)], [(100.5, 1.0)], snapshot=True))
    assert bridge.books.banner("ETHUSD") == "" and "resyncing" in bridge.books.banner(SYM)
    bridge.on_event(Resync("bitmex", "trade", None, "not a book"))
    assert bridge.books.banner("ETHUSD") == ""


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_ladder_banner_while_the_guard_rebuilds_a_crossed_book(
    themes, artifacts: Path
) -> None:
    """The window's FeedSession: its BitMEX client reports to `Bridge.on_event` and its
    crossed-book guard is a bridge tap. Red while crossed, orange while the fresh book is on
    its way."""
    rows = [
        l2_row(SYM, 1, "Sell", 2000, 60001.0),
        l2_row(SYM, 2, "Sell", 300, 60000.5),
        l2_row(SYM, 3, "Buy", 400, 60000.0),
        l2_row(SYM, 4, "Buy", 1500, 59999.5),
    ]
    fresh = [l2_row(SYM, 7, "Sell", 250, 60002.0), l2_row(SYM, 8, "Buy", 900, 60001.0)]
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # as the window's runner: closing the ladder ends no loop
    async with MiniBitmex() as srv:
        srv.books[SYM] = rows
        session = FeedSession(SessionSpec(venues.CUSTOM, SYM, srv.url), srv.url)
        session.state.apply(instrument(SYM, 0.5))
        guard = session.crossed_guard
        widget = LadderWidget()
        widget.resize(520, 360)
        widget.bind_session(session)  # type: ignore[arg-type]
        widget.show()
        session.start()
        try:
            await wait_until(lambda: session.state.book(SYM).best_bid() is not None, 5, "book")
            assert widget.banner.isHidden()
            srv.withhold_partials = {f"orderBookL2:{SYM}"}  # the fresh partial comes when sent
            crossing = l2_row(SYM, 5, "Buy", 700, 60001.0)
            await srv.send({"table": "orderBookL2", "action": "insert", "data": [crossing]})
            await wait_until(lambda: widget.banner_level == "alert", 2, "the red banner")
            for size in range(401, 430):  # updates that leave it crossed, until the guard asks
                if srv.withheld:
                    break
                await asyncio.sleep(0.1)
                update = {"symbol": SYM, "id": 3, "side": "Buy", "size": size}
                await srv.send({"table": "orderBookL2", "action": "update", "data": [update]})
            await wait_until(lambda: widget.banner_level == "warn", 2, "the resync banner")
            text = widget.banner.text()
            assert text.startswith("XBTUSD book resyncing (book crossed for 1.")
            assert "bid 60001.0 >= ask 60000.5" in text and "waiting for a fresh snapshot" in text
            assert not any(r.bid or r.ask for r in widget.model.rows())  # never a wrong book
            picture = artifacts / "ladder_crossed_resync.png"
            assert widget.grab().save(str(picture), "PNG")
            keep_artifact(picture)
            await srv.send(l2_partial(SYM, fresh))
            await wait_until(lambda: widget.banner.isHidden(), 2, "the banner to go")
            book_now = session.state.book(SYM)
            assert book_now.bids() == [(60001.0, 900)] and book_now.asks() == [(60002.0, 250)]
            assert widget.banner_level == "" and guard.requests == 1
        finally:
            await session.close()
            widget.close()
            widget.deleteLater()
