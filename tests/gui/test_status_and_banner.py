"""Status bar per-feed summary and the ladder's stale/resync banner."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.bridge import Bridge
from app.feeds.events import FeedStatus, Latency, Reset, Resync
from app.gui.status_bar import StatusBar
from app.state.market import MarketState
from app.widgets.ladder.widget import LadderWidget
from tests.gui.conftest import book, instrument

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
