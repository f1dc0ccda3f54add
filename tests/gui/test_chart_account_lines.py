"""Working orders and the position's entry and liquidation price as chart lines: they match the
AccountStore for the shown symbol, follow account updates by moving the same items, and a market
tick never touches them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.feeds.events import TableRows
from app.state.market import MarketState
from app.widgets.chart.account_lines import ENTRY_KEY, LIQ_KEY
from app.widgets.chart.widget import ChartWidget
from tests.gui.conftest import FakeSession, bars, instrument, keep_artifact, trades
from tests.gui.test_chart import T0, _history

SYM = "XBTUSD"
V = "bitmex"
POS_KEYS = ["account", "symbol", "currency"]


def _order(oid: str, side: str, price: float, leaves: float, **extra: Any) -> dict[str, Any]:
    row = {
        "orderID": oid, "account": 1, "symbol": SYM, "side": side, "ordType": "Limit",
        "orderQty": leaves, "leavesQty": leaves, "cumQty": 0, "price": price, "ordStatus": "New",
    }  # fmt: skip
    row.update(extra)
    return row


def _position(qty: float, entry: float, liq: float) -> dict[str, Any]:
    return {
        "account": 1, "symbol": SYM, "currency": "XBt", "currentQty": qty, "isOpen": qty != 0,
        "avgEntryPrice": entry, "liquidationPrice": liq, "markPrice": entry,
    }  # fmt: skip


def _shown(widget: ChartWidget) -> dict[str, tuple[float, str, str]]:
    """key -> (line position, label text, pen colour) of every account line drawn."""
    out = {}
    for spec in widget.account_lines.specs():
        line = widget.account_lines.line(spec.key)
        assert line is not None and line.scene() is widget.price_plot.scene()
        out[spec.key] = (line.value(), line.label.format, line.pen.color().name())
    return out


def _expected(state: MarketState, widget: ChartWidget) -> dict[str, float]:
    want = {f"order:{o.order_id}": o.price for o in state.account.working_orders(SYM)}
    pos = state.account.position(SYM)
    if pos is not None and pos.qty:
        want[ENTRY_KEY] = pos.entry
        want[LIQ_KEY] = pos.liq
    return want  # type: ignore[return-value]


def test_order_and_position_lines_follow_the_account_store(
    qtbot: QtBot, themes: Any, artifacts: Path
) -> None:
    session = FakeSession(has_account=True)
    state = session.state
    state.apply(instrument(SYM, 0.5))
    state.apply(bars(SYM, "1m", _history(90)))
    widget = ChartWidget()
    qtbot.addWidget(widget)
    widget.resize(1000, 520)
    widget.show()
    widget.bind_session(session)  # type: ignore[arg-type]
    assert widget.account_lines.specs() == []
    bridge = session.bridge
    orders = [
        _order("b1", "Buy", 130.0, 300),
        _order("s1", "Sell", 150.0, 200),
        _order("e1", "Buy", 120.0, 50, symbol="ETHUSD"),  # another symbol: not on this chart
        _order("f1", "Sell", 155.0, 0, ordStatus="Filled"),  # not working
    ]
    bridge.on_event(TableRows(V, "order", "partial", ["orderID"], orders, 0.0))
    bridge.on_event(
        TableRows(V, "position", "partial", POS_KEYS, [_position(500, 139.5, 110.0)], 0.0)
    )
    bridge.flush()
    shown = _shown(widget)
    assert {k: v[0] for k, v in shown.items()} == _expected(state, widget)
    assert set(shown) == {"order:b1", "order:s1", ENTRY_KEY, LIQ_KEY}
    theme = themes.theme
    assert shown["order:b1"][1] == "Buy 300 @ 130.0" and shown["order:b1"][2] == theme.buy
    assert shown["order:s1"][1] == "Sell 200 @ 150.0" and shown["order:s1"][2] == theme.sell
    assert shown[ENTRY_KEY][1] == "Long 500 entry 139.5" and shown[ENTRY_KEY][2] == theme.buy
    assert shown[LIQ_KEY][1] == "Liq. 110.0 (Long 500)" and shown[LIQ_KEY][2] == theme.alert
    buy_line = widget.account_lines.line("order:b1")
    assert buy_line is not None and buy_line.pen.style() == Qt.PenStyle.DashLine

    picture = artifacts / "chart_account_lines.png"
    widget.price_plot.setYRange(105, 160, padding=0)
    assert widget.grab().save(str(picture), "PNG")
    keep_artifact(picture)

    # market ticks: no line is touched
    changes = widget.account_lines.changes
    for i in range(20):
        bridge.on_event(trades(SYM, ("Buy", 140.0 + i % 3, 1.0, T0 + 60 * 90 + i)))
        bridge.flush()
    assert widget.account_lines.changes == changes
    # an amended order moves its own line; a partial fill relabels it
    bridge.on_event(
        TableRows(V, "order", "update", ["orderID"], [{"orderID": "b1", "price": 131.5}], 0.0)
    )
    bridge.flush()
    assert widget.account_lines.line("order:b1") is buy_line and buy_line.value() == 131.5
    bridge.on_event(
        TableRows(V, "order", "update", ["orderID"],
                  [{"orderID": "s1", "leavesQty": 50, "cumQty": 150,
                    "ordStatus": "PartiallyFilled"}], 0.0)
    )  # fmt: skip
    bridge.flush()
    assert _shown(widget)["order:s1"][1] == "Sell 50 @ 150.0"
    # filled and cancelled orders leave; a flat position leaves no lines
    bridge.on_event(
        TableRows(V, "order", "update", ["orderID"],
                  [{"orderID": "b1", "leavesQty": 0, "ordStatus": "Canceled"}], 0.0)
    )  # fmt: skip
    bridge.on_event(
        TableRows(V, "position", "update", POS_KEYS,
                  [{"account": 1, "symbol": SYM, "currency": "XBt", "currentQty": 0}], 0.0)
    )  # fmt: skip
    bridge.flush()
    assert set(_shown(widget)) == {"order:s1"}
    assert {k: v[0] for k, v in _shown(widget).items()} == _expected(state, widget)
    # a short position: sell-coloured entry
    bridge.on_event(
        TableRows(V, "position", "update", POS_KEYS, [_position(-20, 151.0, 190.0)], 0.0)
    )
    bridge.flush()
    assert _shown(widget)[ENTRY_KEY][1:] == ("Short 20 entry 151.0", theme.sell)
    # another session: lines of the new account only (none here)
    widget.bind_session(FakeSession())  # type: ignore[arg-type]
    assert widget.account_lines.specs() == []
    assert not [i for i in widget.price_plot.items if i is buy_line]
