"""GUI test helpers: temporary settings, theme, event builders, screenshot artifacts."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from app.feeds.events import Bar, Bars, BookLevels, TableRows, Trade, Trades
from app.gui.theme import ThemeManager

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
