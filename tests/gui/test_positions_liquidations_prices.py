"""Positions and liquidations docks at tiny and normal prices: every price at its market's tick
(BitMEX EOSM21 at 1e-07, XBTUSD at 0.5), the prices' own decimals until the tick is known,
never in scientific notation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from app.feeds.events import TableRows
from app.widgets.liquidations.widget import LiquidationsWidget
from app.widgets.positions.model import PositionsModel
from app.widgets.positions.widget import PositionsWidget
from tests.gui.conftest import FakeSession, instrument, keep_artifact

POSITION_KEYS = ["account", "symbol", "currency"]
ENTRY, MARK, LIQ = 3, 4, 5
PRICE = 3
# BitMEX EOSM21 (April 2021): a linear future quoted in XBT, tick 1e-07, lot 1
EOS = {"isInverse": False, "multiplier": 100_000_000, "quoteCurrency": "XBT", "lotSize": 1}


def _position(symbol: str, qty: float, entry: float, mark: float, liq: float) -> dict[str, Any]:
    return {
        "account": 1,
        "symbol": symbol,
        "currency": "XBt",
        "currentQty": qty,
        "avgEntryPrice": entry,
        "markPrice": mark,
        "liquidationPrice": liq,
        "markValue": 12_680_000,
        "unrealisedPnl": 46_000,
        "unrealisedRoePcnt": 0.0363,
        "maintMargin": 1_300_000,
        "leverage": 10,
        "realisedPnl": -1_200,
        "isOpen": True,
    }


def _positions_widget(qtbot: QtBot, session: FakeSession) -> PositionsWidget:
    widget = PositionsWidget()
    qtbot.addWidget(widget)
    widget.resize(1000, 140)
    widget.bind_session(session)  # type: ignore[arg-type]
    widget.show()
    return widget


def _receive(session: FakeSession, ev: TableRows) -> None:
    session.bridge.on_event(ev)
    session.bridge.flush()


def _row_texts(model: PositionsModel, symbol: str) -> list[str]:
    for r in range(model.rowCount()):
        if model.cell(r, 0).text == symbol:
            return [model.cell(r, c).text for c in range(len(model.HEADERS))]
    raise AssertionError(f"no row for {symbol}")


def _all_texts(model: Any) -> list[str]:
    return [
        model.cell(r, c).text for r in range(model.rowCount()) for c in range(len(model.HEADERS))
    ]


def test_position_prices_at_the_instrument_tick(
    qtbot: QtBot, qtmodeltester: Any, themes: Any, artifacts: Path
) -> None:
    session = FakeSession(has_account=True)
    session.state.apply(instrument("XBTUSD", 0.5))
    session.state.apply(instrument("EOSM21", 1e-7, **EOS))
    widget = _positions_widget(qtbot, session)
    rows = [
        _position("EOSM21", 30_000, 0.00012634127, 0.0001268, 0.0001141),
        _position("XBTUSD", 100, 60_000.5, 60_012.37, 54_000.0),
    ]
    _receive(session, TableRows("bitmex", "position", "partial", POSITION_KEYS, rows, 0.0))
    model = widget.model
    qtmodeltester.check(model)
    eos = _row_texts(model, "EOSM21")
    assert eos[ENTRY : LIQ + 1] == ["0.0001263", "0.0001268", "0.0001141"]
    xbt = _row_texts(model, "XBTUSD")
    assert xbt[ENTRY : LIQ + 1] == ["60,000.5", "60,012.4", "54,000.0"]  # as before: one decimal
    # value and PnL keep their XBT units
    assert eos[2] == "0.126800 XBT" and eos[7].startswith("+0.000460")
    assert not any("e-" in text or "e+" in text for text in _all_texts(model))
    # the columns fit their contents: no price is elided
    header = widget.view.horizontalHeader()
    metrics = widget.view.fontMetrics()
    for column in (ENTRY, MARK, LIQ):
        needed = max(metrics.horizontalAdvance(t[column]) for t in (eos, xbt))
        qtbot.waitUntil(lambda c=column, n=needed: header.sectionSize(c) > n)
    picture = artifacts / "positions_tiny_prices.png"
    widget.grab().save(str(picture))
    keep_artifact(picture)


def test_position_prices_before_the_instrument_arrives(
    qtbot: QtBot, qtmodeltester: Any, themes: Any
) -> None:
    session = FakeSession(has_account=True)
    widget = _positions_widget(qtbot, session)
    rows = [
        _position("EOSM21", 30_000, 0.0001263, 0.0001268, 0.0001141),
        _position("XBTUSD", 100, 60_000.0, 60_012.37, 54_000.0),
    ]
    _receive(session, TableRows("bitmex", "position", "partial", POSITION_KEYS, rows, 0.0))
    model = widget.model
    # no tick yet: each market at the most decimals its prices have (the old rule read 0.0001)
    assert _row_texts(model, "EOSM21")[ENTRY : LIQ + 1] == ["0.0001263", "0.0001268", "0.0001141"]
    assert _row_texts(model, "XBTUSD")[ENTRY : LIQ + 1] == ["60,000.00", "60,012.37", "54,000.00"]
    # the instrument table arrives: the rows take the tick's decimals without a position update
    _receive(session, instrument("XBTUSD", 0.5))
    qtmodeltester.check(model)
    assert _row_texts(model, "XBTUSD")[ENTRY : LIQ + 1] == ["60,000.0", "60,012.4", "54,000.0"]
    assert _row_texts(model, "EOSM21")[ENTRY] == "0.0001263"


def _liquidation(order_id: str, symbol: str, side: str, price: float, qty: float) -> dict[str, Any]:
    return {"orderID": order_id, "symbol": symbol, "side": side, "price": price, "leavesQty": qty}


def _liq_rows(*rows: dict[str, Any]) -> TableRows:
    return TableRows("bitmex", "liquidation", "insert", ["orderID"], list(rows), 0.0)


def _prices_by_symbol(widget: LiquidationsWidget) -> dict[str, list[str]]:
    model = widget.model
    out: dict[str, list[str]] = {}
    for r in range(model.rowCount()):
        out.setdefault(model.cell(r, 1).text, []).append(model.cell(r, PRICE).text)
    return out


def test_liquidation_prices_at_the_instrument_tick(
    qtbot: QtBot, qtmodeltester: Any, themes: Any, artifacts: Path
) -> None:
    session = FakeSession()
    session.state.apply(instrument("XBTUSD", 0.5))
    session.state.apply(instrument("EOSM21", 1e-7, **EOS))
    widget = LiquidationsWidget()
    qtbot.addWidget(widget)
    widget.resize(640, 200)
    widget.bind_session(session)  # type: ignore[arg-type]
    widget.show()
    _receive(
        session,
        _liq_rows(
            _liquidation("a", "EOSM21", "Sell", 0.0001268, 30_000),
            _liquidation("b", "XBTUSD", "Buy", 60_000.5, 25_000),
            _liquidation("c", "XBTUSD", "Sell", 60_000.0, 120_000),
            _liquidation("d", "TRXM21", "Buy", 0.00000242, 1_000_000),
            _liquidation("e", "TRXM21", "Sell", 0.0000024, 500_000),
        ),
    )
    qtmodeltester.check(widget.model)
    prices = _prices_by_symbol(widget)
    assert prices["EOSM21"] == ["0.0001268"]  # the old rule read 0.00
    assert sorted(prices["XBTUSD"]) == ["60,000.0", "60,000.5"]  # as before
    # TRXM21 has no instrument row: its prices line up at the most decimals they have
    assert sorted(prices["TRXM21"]) == ["0.00000240", "0.00000242"]
    assert not any("e-" in text or "e+" in text for text in _all_texts(widget.model))
    picture = artifacts / "liquidations_tiny_prices.png"
    widget.grab().save(str(picture))
    keep_artifact(picture)


def test_liquidation_prices_take_the_tick_when_it_arrives(
    qtbot: QtBot, qtmodeltester: Any, themes: Any
) -> None:
    session = FakeSession()
    widget = LiquidationsWidget()
    qtbot.addWidget(widget)
    widget.bind_session(session)  # type: ignore[arg-type]
    _receive(
        session,
        _liq_rows(
            _liquidation("a", "XBTUSD", "Buy", 60_000.0, 25_000),
            _liquidation("b", "XBTUSD", "Sell", 60_100.0, 120_000),
        ),
    )
    assert sorted(_prices_by_symbol(widget)["XBTUSD"]) == ["60,000", "60,100"]
    # the instrument table arrives: the rows are written again without a new liquidation
    _receive(session, instrument("XBTUSD", 0.5))
    assert sorted(_prices_by_symbol(widget)["XBTUSD"]) == ["60,000.0", "60,100.0"]
    qtmodeltester.check(widget.model)
