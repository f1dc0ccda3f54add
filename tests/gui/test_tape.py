"""Trade tape model and widget from real TradeTape/LiquidationStore state."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from pytestqt.qtbot import QtBot

from app.feeds.events import TableRows
from app.state.market import MarketState
from app.widgets.glyphs import TIMES
from app.widgets.tape.model import (
    COL_COUNT,
    COL_NOTIONAL,
    COL_PRICE,
    COL_SIZE,
    TIER_ROLE,
    TapeModel,
)
from tests.gui.conftest import instrument, trades

SYM = "XBTUSD"


def _state() -> MarketState:
    state = MarketState("bitmex")
    state.apply(instrument(SYM, 0.5))
    return state


def test_newest_on_top_with_aggregation_and_aggressor_colours(qtmodeltester, themes) -> None:
    state = _state()
    model = TapeModel()
    state.apply(trades(SYM, ("Buy", 100.0, 10.0, 1.0), ("Sell", 99.5, 5.0, 2.0)))
    model.refresh(state.tape(SYM).rows())
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    assert model.index(0, COL_SIZE).data() == "5"  # newest first
    # three fills of one taker order at the same timestamp merge into one row (x3, VWAP)
    state.apply(
        trades(SYM, ("Buy", 100.0, 1.0, 3.0), ("Buy", 100.5, 1.0, 3.0), ("Buy", 101.0, 2.0, 3.0))
    )
    model.refresh(state.tape(SYM).rows())
    qtmodeltester.check(model)
    assert model.rowCount() == 3
    assert model.index(0, COL_COUNT).data() == f"{TIMES}3"
    assert model.index(0, COL_SIZE).data() == "4"
    assert model.index(0, COL_PRICE).data() == f"{100.625:,.2f}"  # VWAP, one more decimal
    buy_fg = model.index(0, COL_PRICE).data(Qt.ItemDataRole.ForegroundRole).color().name()
    sell_fg = model.index(1, COL_PRICE).data(Qt.ItemDataRole.ForegroundRole).color().name()
    assert buy_fg != sell_fg
    assert buy_fg == themes.theme.buy


def test_inserts_at_top_without_reset(qtbot: QtBot, themes) -> None:
    state = _state()
    model = TapeModel()
    state.apply(trades(SYM, ("Buy", 100.0, 10.0, 1.0)))
    model.refresh(state.tape(SYM).rows())
    inserted: list[tuple[int, int]] = []
    resets: list[int] = []
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    model.modelReset.connect(lambda: resets.append(1))
    state.apply(trades(SYM, ("Sell", 99.0, 1.0, 2.0), ("Buy", 100.0, 2.0, 3.0)))
    model.refresh(state.tape(SYM).rows())
    assert inserted == [(0, 1)] and resets == []
    assert [r.size for r in model.rows()] == [2.0, 1.0, 10.0]


def test_bounded_rows_drop_from_the_bottom(qtmodeltester, themes) -> None:
    state = MarketState("bitmex", tape_maxlen=5)
    model = TapeModel()
    for i in range(12):
        state.apply(trades(SYM, ("Buy" if i % 2 else "Sell", 100.0, float(i + 1), float(i))))
        model.refresh(state.tape(SYM).rows())
    assert model.rowCount() == 5
    assert [r.size for r in model.rows()] == [12.0, 11.0, 10.0, 9.0, 8.0]
    qtmodeltester.check(model)


def test_notional_tiers(themes) -> None:
    state = _state()
    model = TapeModel(tiers=(1_000, 10_000, 100_000))
    state.apply(
        trades(
            SYM,
            ("Buy", 100.0, 500.0, 1.0),
            ("Sell", 100.0, 5_000.0, 2.0),
            ("Buy", 100.0, 50_000.0, 3.0),
            ("Sell", 100.0, 500_000.0, 4.0),
        )
    )
    model.refresh(state.tape(SYM).rows())
    tiers = [model.index(r, 0).data(TIER_ROLE) for r in range(4)]
    assert tiers == [3, 2, 1, 0]  # inverse contract: notional is the USD size
    assert model.index(0, COL_NOTIONAL).data() == "500.0K"
    assert model.index(3, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    assert model.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is not None


def test_liquidations_inline(themes) -> None:
    state = _state()
    model = TapeModel()
    state.apply(trades(SYM, ("Buy", 100.0, 10.0, 1.0)))
    state.apply(
        TableRows(
            "bitmex",
            "liquidation",
            "insert",
            ["orderID"],
            [{"orderID": "liq-1", "symbol": SYM, "side": "Sell", "price": 99.0, "leavesQty": 2500}],
            5.0,
        )
    )
    model.refresh(state.tape(SYM).rows())
    assert model.index(0, COL_COUNT).data() == "LIQ"
    bg = model.index(0, COL_SIZE).data(Qt.ItemDataRole.BackgroundRole)
    assert bg.color().name() == themes.theme.liquidation_bg


def test_widget_min_size_filter_and_pause(qtbot: QtBot, themes) -> None:
    from app.widgets.tape.widget import TapeWidget

    state = _state()

    class _Session:  # the widget only reads .state/.symbol/.bridge from a session
        def __init__(self) -> None:
            from app.bridge import Bridge

            self.state = state
            self.symbol = SYM
            self.bridge = Bridge(state)

    session = _Session()
    widget = TapeWidget()
    qtbot.addWidget(widget)
    widget.bind_session(session)  # type: ignore[arg-type]
    session.bridge.on_event(trades(SYM, ("Buy", 100.0, 10.0, 1.0), ("Sell", 100.0, 1000.0, 2.0)))
    session.bridge.flush()
    assert widget.model.rowCount() == 2
    widget.min_size.setValue(100)
    assert widget.model.rowCount() == 1
    widget.pause_button.setChecked(True)
    session.bridge.on_event(trades(SYM, ("Buy", 100.0, 5000.0, 3.0)))
    session.bridge.flush()
    assert widget.model.rowCount() == 1 and "PAUSED" in widget.status.text()
    widget.pause_button.setChecked(False)
    assert widget.model.rowCount() == 2
    assert widget.model.rowCount(QModelIndex()) == 2
