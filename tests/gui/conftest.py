"""GUI test helpers: temporary settings, theme, event builders, screenshot artifacts."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from app.bridge import Bridge
from app.feeds.events import Bar, Bars, BookLevels, TableRows, Trade, Trades
from app.gui.theme import ThemeManager
from app.state.market import MarketState

VENUE = "bitmex"
REPO_ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[QSettings]:
    """An ini file in tmp_path: tests never touch the user's real settings."""
    s = QSettings(str(tmp_path / "depthdesk.ini"), QSettings.Format.IniFormat)
    yield s
    s.sync()


@pytest.fixture
def themes(qapp: QApplication) -> ThemeManager:
    """The dark theme applied to the test application."""
    manager = ThemeManager("dark")
    manager.apply()
    return manager


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """Where a test writes pictures (also copied to the repo's git-ignored artifacts/)."""
    path = tmp_path / "artifacts"
    path.mkdir()
    return path


async def wait_until(check: Callable[[], bool], limit: float, what: str) -> None:
    """Poll `check` on the running loop (no nested Qt loop) until true, or fail after `limit` s."""
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def demo_window(tmp_path: Path, name: str) -> object:
    """A shown main window with every default dock and the default layout, settings in
    tmp_path, on the dark theme; Qt quits only when the test says so (as the real runner)."""
    from app.gui.features import install_default_features
    from app.gui.main_window import MainWindow

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    settings = QSettings(str(tmp_path / f"{name}.ini"), QSettings.Format.IniFormat)
    themes = ThemeManager("dark")
    themes.apply()
    window = MainWindow(settings, themes)
    install_default_features(window)
    window.apply_default_geometry()
    window.show()
    return window


class FakeSession:
    """What widgets bind to, without a feed: a MarketState and its Bridge."""

    def __init__(self, venue: str = VENUE, symbol: str = "XBTUSD", has_account: bool = False):
        self.state = MarketState(venue)
        self.bridge = Bridge(self.state)
        self.symbol = symbol
        self.has_account = has_account


def keep_artifact(path: Path) -> None:
    """Copy a picture to the repo's artifacts/ folder for people to look at."""
    REPO_ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(path, REPO_ARTIFACTS / path.name)


def book(
    symbol: str,
    bids: list[tuple[float, float]],
    asks: list[tuple[float, float]],
    snapshot: bool = False,
) -> BookLevels:
    """A book event."""
    return BookLevels(VENUE, symbol, list(bids), list(asks), snapshot)


def trades(symbol: str, *prints: tuple[str, float, float, float], snapshot: bool = False) -> Trades:
    """Prints as (side, price, size, timestamp)."""
    return Trades(
        VENUE,
        symbol,
        [Trade(VENUE, symbol, side, price, size, ts) for side, price, size, ts in prints],  # type: ignore[arg-type]
        snapshot,
    )


def bars(
    symbol: str, timeframe: str, rows: list[tuple[float, float, float, float, float, float]]
) -> Bars:
    """Bars as (open_time, o, h, l, c, v)."""
    return Bars(VENUE, symbol, timeframe, [Bar(*r) for r in rows])


def instrument(symbol: str, tick: float, **extra: object) -> TableRows:
    """An instrument partial row."""
    row: dict[str, object] = {
        "symbol": symbol,
        "tickSize": tick,
        "state": "Open",
        "typ": "FFWCSX",
        "isInverse": True,
        "multiplier": -100000000,
        "settlCurrency": "XBt",
        "quoteCurrency": "USD",
        "underlying": "XBT",
        "lotSize": 100,
    }
    row.update(extra)
    return TableRows(VENUE, "instrument", "partial", ["symbol"], [row], 0.0)


# The offscreen platform plugin says this on every show(); it is about the test platform,
# not about our code. Every other Qt warning still fails the test.
OFFSCREEN_NOISE = r"This plugin does not support (propagateSizeHints|raise)\(\)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/gui/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))
