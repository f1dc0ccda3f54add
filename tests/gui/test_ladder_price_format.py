"""Ladder at tiny and normal prices: header line in plain decimals, a price column that fits
its prices, size columns that never clip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QFont, QFontMetrics
from pytestqt.qtbot import QtBot

from app.widgets.ladder.delegate import PAD
from app.widgets.ladder.model import COL_BID, COL_PRICE, SIZE_COLUMNS
from app.widgets.ladder.widget import PRICE_GAP, FittingLabel, LadderWidget
from tests.gui.conftest import FakeSession, book, instrument, keep_artifact, trades

SIZES = [330.0, 1200.0, 1715.0, 1725.0, 1913.0, 684.0, 83.0]


def _session(symbol: str, tick: float, best_bid: float, with_instrument: bool) -> FakeSession:
    """A book like BitMEX EOSM21's in April 2021 (or XBTUSD's) one tick wide."""
    session = FakeSession(symbol=symbol)
    if with_instrument:
        session.state.apply(instrument(symbol, tick, lotSize=1))
    bids = [(round(best_bid - tick * i, 12), SIZES[i % 7]) for i in range(30)]
    asks = [(round(best_bid + tick * (i + 1), 12), 652.0 + 1000 * (i % 5)) for i in range(30)]
    session.state.apply(book(symbol, bids, asks, snapshot=True))
    session.state.apply(trades(symbol, ("Buy", best_bid, 1057.0, 1_618_677_682.0)))
    return session


def _ladder(qtbot: QtBot, session: FakeSession, width: int) -> LadderWidget:
    widget = LadderWidget()
    qtbot.addWidget(widget)
    widget.resize(width, 420)
    widget.show()
    widget.bind_session(session)  # type: ignore[arg-type]
    widget._on_frame({f"book:{session.symbol}"})
    qtbot.waitUntil(lambda: widget.model.size_width is not None)
    return widget


def _bold(widget: LadderWidget) -> QFontMetrics:
    font = QFont(widget.view.font())
    font.setBold(True)
    return QFontMetrics(font)


@pytest.mark.parametrize("with_instrument", [True, False])
def test_header_writes_row_and_spread_in_plain_decimals(
    qtbot: QtBot, themes: Any, with_instrument: bool
) -> None:
    session = _session("EOSM21", 1e-7, 0.0001268, with_instrument)
    widget = _ladder(qtbot, session, 900)
    assert widget.model.tick == pytest.approx(1e-7)
    full = "EOSM21  row 0.0000001  spread 0.0000001"
    assert widget.info_texts()[0] == full
    assert widget.info.text() == full and widget.info.toolTip() == full
    prices = [row.texts[COL_PRICE] for row in widget.model.rows()]
    assert "0.0001268" in prices  # the header and the price column write prices alike
    widget.group_box.setCurrentIndex(widget.group_box.findData(10))
    assert widget.info.text() == "EOSM21  row 0.000001  spread 0.0000001"


def test_header_for_xbtusd_is_unchanged(qtbot: QtBot, themes: Any) -> None:
    widget = _ladder(qtbot, _session("XBTUSD", 0.5, 61279.0, True), 900)
    assert widget.info.text() == "XBTUSD  row 0.5  spread 0.5"
    widget.group_box.setCurrentIndex(widget.group_box.findData(1000))
    assert widget.info.text() == "XBTUSD  row 500  spread 0.5"


def test_narrow_header_drops_the_symbol_first(qtbot: QtBot, themes: Any) -> None:
    widget = _ladder(qtbot, _session("EOSM21", 1e-7, 0.0001268, True), 900)
    forms = widget.info_texts()
    assert forms == [
        "EOSM21  row 0.0000001  spread 0.0000001",
        "row 0.0000001  spread 0.0000001",
        "spread 0.0000001",
    ]
    # the long line never makes the dock wider than INFO_MAX_CHARS would: at the narrowest
    # the ladder shows the row step and the spread, the tooltip the whole line
    metrics = widget.info.fontMetrics()
    assert widget.info.minimumSizeHint().width() <= metrics.horizontalAdvance("0" * 32) + 2
    widget.resize(widget.minimumSizeHint().width(), 420)
    qtbot.waitUntil(lambda: widget.info.text() == forms[1])
    assert widget.info.toolTip() == forms[0]


def test_fitting_label_shows_the_longest_form_that_fits(qtbot: QtBot, themes: Any) -> None:
    label = FittingLabel()
    qtbot.addWidget(label)
    forms = ["EOSM21  row 0.0000001  spread 0.0000001", "spread 0.0000001"]
    label.set_texts(forms)
    label.show()
    metrics = label.fontMetrics()
    margins = label.contentsMargins().left() + label.contentsMargins().right()
    for width, shown in (
        (metrics.horizontalAdvance(forms[0]) + margins, forms[0]),
        (metrics.horizontalAdvance(forms[0]) + margins - 1, forms[1]),
        (metrics.horizontalAdvance(forms[1]) + margins - 1, ""),
    ):
        label.resize(width, 20)
        assert label.text() == shown
    label.set_texts([])
    assert label.text() == "" and label.toolTip() == ""


@pytest.mark.parametrize(
    ("symbol", "tick", "best_bid", "chars"),
    [
        ("EOSM21", 1e-7, 0.0001268, 9),
        ("SHIBUSDT", 1e-10, 0.0000061289, 12),
        ("XBTUSD", 0.5, 61279.0, 8),
    ],
)
@pytest.mark.parametrize("width", [0, 620, 900])  # 0: the narrowest the widget allows
def test_prices_and_sizes_fit_their_columns(
    qtbot: QtBot,
    themes: Any,
    artifacts: Path,
    symbol: str,
    tick: float,
    best_bid: float,
    chars: int,
    width: int,
) -> None:
    widget = _ladder(qtbot, _session(symbol, tick, best_bid, True), width)
    header = widget.view.horizontalHeader()
    bold = _bold(widget)
    plain = QFontMetrics(widget.view.font())
    rows = widget.model.rows()
    prices = [row.texts[COL_PRICE] for row in rows]
    assert max(len(p) for p in prices) == chars
    price_width = header.sectionSize(COL_PRICE)
    widest = max(bold.horizontalAdvance(p) for p in prices)
    # every price whole, with a gap each side beyond the cell padding
    assert price_width - 2 * PAD - widest >= 2 * PRICE_GAP
    # no size text is wider than its cell (the delegate would elide it)
    for column in SIZE_COLUMNS:
        room = header.sectionSize(column) - 2 * PAD
        for row in rows:
            assert plain.horizontalAdvance(row.texts[column]) <= room, (column, row.texts)
    # the widest bid ends at least PAD + PRICE_GAP + PAD before the price text starts
    bid_right = header.sectionPosition(COL_BID) + header.sectionSize(COL_BID) - PAD
    price_left = header.sectionPosition(COL_PRICE) + (price_width - widest) // 2
    assert price_left - bid_right >= PAD + PRICE_GAP
    picture = artifacts / f"ladder_{symbol}_{width or 'narrowest'}.png"
    widget.grab().save(str(picture))
    keep_artifact(picture)


def test_xbtusd_columns_share_the_width_as_before(qtbot: QtBot, themes: Any) -> None:
    widget = _ladder(qtbot, _session("XBTUSD", 0.5, 61279.0, True), 620)
    header = widget.view.horizontalHeader()
    sizes = [header.sectionSize(c) for c in range(8)]
    # an XBTUSD price fits the template width: all eight columns about equal, as before
    assert max(sizes) - min(sizes) <= 1


def test_price_column_grows_for_longer_prices_and_starts_over_per_market(
    qtbot: QtBot, themes: Any
) -> None:
    eos = _session("EOSM21", 1e-7, 0.0001268, True)
    xbt = _session("XBTUSD", 0.5, 61279.0, True)
    widget = _ladder(qtbot, xbt, 620)
    xbt_width = widget.view.price_column_width()
    widget.bind_session(eos)  # type: ignore[arg-type]
    eos_width = widget.view.price_column_width()
    assert eos_width > xbt_width
    widget.bind_session(xbt)  # type: ignore[arg-type]
    assert widget.view.price_column_width() == xbt_width
