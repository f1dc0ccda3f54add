"""The status bar's ticker price: the market's tick decimals, the ticker's own while the step is
unknown, never in scientific notation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from app.bridge import Bridge
from app.feeds.events import FeedStatus, Ticker
from app.gui.status_bar import StatusBar, ticker_text
from app.state.market import MarketState
from tests.gui.conftest import instrument, keep_artifact


class _Spec:
    label = "Venue"


class _Client:
    stats = None


class _Session:
    """What the status bar reads of a session; `step` plays the session's own price step
    (BitMart: legacy grouping or the venue's tick) when given."""

    def __init__(self, symbol: str, step: float | None = None, venue: str = "bitmart") -> None:
        self.state = MarketState(venue)
        self.bridge = Bridge(self.state)
        self.symbol = symbol
        self.spec = _Spec()
        self.client = _Client()
        self.has_account = False
        self._step = step

    def price_step(self, symbol: str | None = None) -> float | None:
        return self._step if (symbol or self.symbol) == self.symbol else None

    def ticker(self, last: float, high: float | None = None, low: float | None = None) -> None:
        self.bridge.on_event(Ticker(self.state.venue, self.symbol, last, 1.25, high, low))
        self.bridge.flush()


def test_ticker_price_at_the_session_step(qapp: Any) -> None:
    session = _Session("EOS_BTC", step=1e-7)
    session.ticker(0.0001268, 0.0001301, 0.0001199)
    assert ticker_text(session) == "EOS_BTC last 0.0001268 (+1.25% 24h)"  # was 0.00
    big = _Session("BTC_USDT", step=0.5)
    big.ticker(60_000.5)
    assert ticker_text(big) == "BTC_USDT last 60,000.5 (+1.25% 24h)"
    eth = _Session("ETH_USDT", step=0.05)
    eth.ticker(3_000.05)
    assert ticker_text(eth) == "ETH_USDT last 3,000.05 (+1.25% 24h)"


def test_ticker_price_at_the_instrument_tick() -> None:
    class NoStepOfItsOwn:
        def __init__(self) -> None:
            self.state = MarketState("bitmex")
            self.symbol = "EOSM21"

    session = NoStepOfItsOwn()
    session.state.apply(instrument("EOSM21", 1e-7))
    session.state.apply(Ticker("bitmex", "EOSM21", 0.00012, None))
    assert ticker_text(session) == "EOSM21 last 0.0001200"  # type: ignore[arg-type]


def test_ticker_price_while_the_step_is_unknown(qapp: Any) -> None:
    tiny = _Session("TRX_BTC")
    tiny.ticker(0.00000242, 0.0000025, 0.0000023)
    assert ticker_text(tiny) == "TRX_BTC last 0.00000242 (+1.25% 24h)"  # was 0.00
    # a last price with fewer decimals than the day's high keeps the market's decimals
    tiny.ticker(0.0000024, 0.00000251, 0.0000023)
    assert ticker_text(tiny) == "TRX_BTC last 0.00000240 (+1.25% 24h)"
    big = _Session("BTC_USDT")
    big.ticker(60_000.5, 61_000.0, 59_000.0)
    assert ticker_text(big) == "BTC_USDT last 60,000.5 (+1.25% 24h)"


def test_status_bar_shows_the_tiny_ticker(qtbot: QtBot, themes: Any, artifacts: Path) -> None:
    session = _Session("EOS_BTC", step=1e-7)
    bar = StatusBar()
    qtbot.addWidget(bar)
    bar.resize(900, 28)
    bar.bind_session(session)  # type: ignore[arg-type]
    session.bridge.on_event(FeedStatus("bitmart", "live"))
    session.ticker(0.0001268, 0.0001301, 0.0001199)
    bar.refresh()
    bar.show()
    [text] = bar.indicator_texts()
    assert "EOS_BTC last 0.0001268 (+1.25% 24h)" in text and "e-0" not in text
    picture = artifacts / "status_bar_tiny_ticker.png"
    bar.grab().save(str(picture))
    keep_artifact(picture)
