"""Positions and liquidations models fed from private/public table events."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.feeds.events import TableRows
from app.state.market import MarketState
from app.widgets.liquidations.model import LiquidationsModel
from app.widgets.positions.model import PositionsModel, distance_band
from tests.gui.conftest import FakeSession, instrument


def _position(
    symbol: str, qty: float, mark: float, liq: float, **extra: object
) -> dict[str, object]:
    row: dict[str, object] = {
        "account": 1,
        "symbol": symbol,
        "currency": "XBt",
        "currentQty": qty,
        "avgEntryPrice": 60000.0,
        "markPrice": mark,
        "liquidationPrice": liq,
        "markValue": -166_000,
        "unrealisedPnl": 12_345,
        "unrealisedRoePcnt": 0.0751,
        "maintMargin": 50_000,
        "leverage": 10,
        "realisedPnl": -2_000,
        "isOpen": qty != 0,
    }
    row.update(extra)
    return row


def test_positions_columns_units_and_bands(qtmodeltester, themes) -> None:
    state = MarketState("bitmex")
    state.apply(instrument("XBTUSD", 0.5))
    state.apply(instrument("ETHUSD", 0.05))
    rows = [
        _position("XBTUSD", 100, 60000.0, 54000.0),
        _position("ETHUSD", -20, 3000.0, 3100.0),
    ]
    state.apply(
        TableRows("bitmex", "position", "partial", ["account", "symbol", "currency"], rows, 0.0)
    )
    model = PositionsModel()
    model.set_step_of(state.instruments.tick_size)
    model.refresh(state.account.positions())
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    texts = {model.cell(r, 0).text: [model.cell(r, c).text for c in range(10)] for r in range(2)}
    xbt = texts["XBTUSD"]
    assert xbt[1] == "Long 100"
    assert xbt[3] == "60,000.0" and xbt[5] == "54,000.0"
    assert xbt[6] == "10.0%"
    assert xbt[7] == "+0.000123 (+7.5%)"  # 12,345 sats
    assert xbt[8].endswith("/ 10\u00d7")
    eth = texts["ETHUSD"]
    assert eth[1] == "Short 20" and eth[6] == "3.3%"
    assert eth[3:6] == ["60,000.00", "3,000.00", "3,100.00"]  # at the 0.05 tick
    r_eth = next(r for r in range(2) if model.cell(r, 0).text == "ETHUSD")
    assert model.cell(r_eth, 6).fg == "alert"
    side_fg = model.index(r_eth, 1).data(Qt.ItemDataRole.ForegroundRole)
    assert side_fg.color().name() == themes.theme.sell
    # an update closes the ETH position: it leaves the table
    state.apply(
        TableRows(
            "bitmex",
            "position",
            "update",
            ["account", "symbol", "currency"],
            [_position("ETHUSD", 0, 3000.0, 0.0, isOpen=False)],
            1.0,
        )
    )
    model.refresh(state.account.positions())
    qtmodeltester.check(model)
    assert [model.cell(r, 0).text for r in range(model.rowCount())] == ["XBTUSD"]


def test_distance_bands() -> None:
    assert distance_band(None) is None
    assert distance_band(3.0) == "alert"
    assert distance_band(12.0) == "warn"
    assert distance_band(40.0) is None


def _liq(action: str, order_id: str, side: str, price: float, leaves: float, t: float) -> TableRows:
    row = {
        "orderID": order_id,
        "symbol": "XBTUSD",
        "side": side,
        "price": price,
        "leavesQty": leaves,
    }
    return TableRows("bitmex", "liquidation", action, ["orderID"], [row], t)  # type: ignore[arg-type]


def test_liquidations_newest_first_with_notional_and_state(qtmodeltester, themes) -> None:
    state = MarketState("bitmex")
    state.apply(instrument("XBTUSD", 0.5))
    state.apply(_liq("insert", "a", "Sell", 60000.0, 2000, 10.0))
    state.apply(_liq("insert", "b", "Buy", 60100.0, 250_000, 11.0))
    state.apply(_liq("update", "a", "Sell", 60000.0, 500, 12.0))
    model = LiquidationsModel(big_notional=100_000)
    model.refresh(state.liquidations.rows())
    qtmodeltester.check(model)
    assert [model.cell(r, 2).text for r in range(2)] == ["Buy", "Sell"]
    assert model.cell(0, 5).text == "250.0K" and model.cell(0, 5).bg == "liquidation_bg"
    assert model.cell(1, 6).text == "partial"
    assert model.cell(1, 4).text == "2,000" and "500 left" in str(model.cell(1, 4).tooltip)
    state.apply(_liq("delete", "a", "Sell", 60000.0, 500, 13.0))
    model.refresh(state.liquidations.rows(min_notional=1000))
    assert model.cell(1, 6).text == "gone"
    model.refresh(state.liquidations.rows(min_notional=100_000))
    qtmodeltester.check(model)
    assert model.rowCount() == 1


def test_positions_dock_with_rows_forwarded_from_the_account_panel(qtbot, themes) -> None:
    """A live/testnet login runs on the account panel's own connection and forwards private rows
    into the market session: the session has no credentials, yet its positions are real."""
    from app.widgets.positions.widget import PositionsWidget

    session = FakeSession()
    widget = PositionsWidget()
    qtbot.addWidget(widget)
    widget.bind_session(session)  # type: ignore[arg-type]
    assert "No account connected" in widget.note.text()
    keys = ["account", "symbol", "currency"]
    # what AccountPanel._forward does: the private rows go through the market session's bridge
    session.bridge.on_forwarded(TableRows("bitmex", "position", "partial", keys, [], 0.0))
    session.bridge.flush()
    assert widget.note.text().strip() == "No open positions."
    row = _position("XBTUSD", 100, 60000.0, 54000.0)
    session.bridge.on_forwarded(TableRows("bitmex", "position", "insert", keys, [row], 0.0))
    session.bridge.flush()
    assert widget.model.rowCount() == 1 and widget.note.text() == ""
    assert widget.model.cell(0, 1).text == "Long 100"
    # the panel logs out: its rows go, and no account is connected any more
    session.bridge.drop_forwarded()
    session.bridge.flush()
    assert widget.model.rowCount() == 0 and "No account connected" in widget.note.text()
