"""Account table models: Qt model contract (qtmodeltester), keyed in-place updates, columns."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from app.feeds.events import TableRows
from app.state.account import AccountStore
from app.widgets.account import columns as cols
from app.widgets.account.table_model import RAW_ROLE, RowsModel

pytestmark = pytest.mark.gui


def _order(oid: str, **kw: Any) -> dict[str, Any]:
    row = {
        "orderID": oid,
        "account": 1,
        "symbol": "XBTUSD",
        "side": "Buy",
        "ordType": "Limit",
        "orderQty": 100,
        "price": 50000.5,
        "cumQty": 0,
        "leavesQty": 100,
        "avgPx": None,
        "ordStatus": "New",
        "timestamp": "2026-01-02T03:04:05.678Z",
    }
    row.update(kw)
    return row


def _ev(table: str, action: str, rows: list[dict[str, Any]], keys: list[str]) -> TableRows:
    return TableRows("bitmex", table, action, keys, rows, 0.0)  # type: ignore[arg-type]


@pytest.fixture
def store() -> AccountStore:
    st = AccountStore()
    st.apply(
        _ev("order", "partial", [_order("a"), _order("b", side="Sell", price=50010)], ["orderID"])
    )
    st.apply(
        _ev(
            "margin",
            "partial",
            [
                {
                    "account": 1,
                    "currency": "XBt",
                    "walletBalance": 123_456_789,
                    "marginBalance": 120_000_000,
                    "availableMargin": 100_000_000,
                    "unrealisedPnl": -3_456_789,
                    "marginLeverage": 1.2345,
                }
            ],
            ["account", "currency"],
        )
    )
    st.apply(
        _ev(
            "wallet",
            "partial",
            [
                {
                    "account": 1,
                    "currency": "USDt",
                    "amount": 2_500_000_000,
                    "deposited": 3_000_000_000,
                }
            ],
            ["account", "currency"],
        )
    )
    return st


def _model(kind: str) -> RowsModel:
    if kind == "orders":
        return RowsModel(cols.order_columns(lambda s: 1), cols.order_key)
    if kind == "fills":
        return RowsModel(cols.execution_columns(lambda s: 1), cols.execution_key)
    if kind == "margin":
        return RowsModel(cols.margin_columns(), cols.margin_key)
    return RowsModel(cols.wallet_columns(), cols.wallet_key)


def test_models_pass_qtmodeltester(qtmodeltester: Any, store: AccountStore) -> None:
    orders = _model("orders")
    orders.set_rows(store.working_orders())
    qtmodeltester.check(orders, force_py=False)
    margin = _model("margin")
    margin.set_rows(store.margins())
    qtmodeltester.check(margin, force_py=False)
    wallet = _model("wallet")
    wallet.set_rows(store.wallets())
    qtmodeltester.check(wallet, force_py=False)
    fills = _model("fills")
    qtmodeltester.check(fills, force_py=False)


def test_order_columns_text(store: AccountStore) -> None:
    model = _model("orders")
    model.set_rows(store.recent_orders())
    assert model.column_titles() == [
        "Time",
        "Symbol",
        "Side",
        "Type",
        "Qty",
        "Price",
        "Filled",
        "Avg price",
        "Status",
        "Text",
    ]
    texts = model.text_rows()
    by_side = {t[2]: t for t in texts}
    assert by_side["Buy"][1:] == [
        "XBTUSD",
        "Buy",
        "Limit",
        "100",
        "50,000.5",
        "0",
        "\u2013",
        "New",
        "",
    ]
    assert by_side["Sell"][5] == "50,010.0"
    # side colour and alignment
    row = [r.side for r in model.rows()].index("Buy")
    assert model.data(model.index(row, 2), Qt.ItemDataRole.ForegroundRole) is not None
    align = model.data(model.index(row, 4), Qt.ItemDataRole.TextAlignmentRole)
    assert align & int(Qt.AlignmentFlag.AlignRight)
    assert model.data(model.index(row, 4), RAW_ROLE) == 100.0


def test_margin_and_wallet_in_display_units(store: AccountStore) -> None:
    margin = _model("margin")
    margin.set_rows(store.margins())
    [row] = margin.text_rows()
    assert row == [
        "XBT",
        "1.234568",
        "1.200000",
        "1.000000",
        "0.200000",
        "-0.034568",
        "\u2013",
        "1.23\u00d7",
    ]
    wallet = _model("wallet")
    wallet.set_rows(store.wallets())
    assert wallet.text_rows()[0][:3] == ["USDT", "2,500.00", "3,000.00"]


def test_keyed_updates_keep_selection(qtmodeltester: Any, store: AccountStore) -> None:
    model = _model("orders")
    qtmodeltester.check(model, force_py=False)  # the tester stays attached and checks every change
    model.set_rows(store.working_orders())
    sel = QItemSelectionModel(model)
    ids = [r.order_id for r in model.rows()]
    row_a = ids.index("a")
    sel.select(
        model.index(row_a, 0),
        QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
    )
    # a new order, a fill on "b", then "b" leaves the working list: "a" stays selected
    store.apply(_ev("order", "insert", [_order("c", price=49990)], ["orderID"]))
    model.set_rows(store.working_orders())
    store.apply(
        _ev(
            "order",
            "update",
            [{"orderID": "b", "account": 1, "cumQty": 100, "leavesQty": 0, "ordStatus": "Filled"}],
            ["orderID"],
        )
    )
    model.set_rows(store.working_orders())
    ids = [r.order_id for r in model.rows()]
    assert sorted(ids) == ["a", "c"]
    selected = {model.rows()[i.row()].order_id for i in sel.selectedRows()}
    assert selected == {"a"}
    # reorder only
    model.set_rows(list(reversed(model.rows())))
    assert {model.rows()[i.row()].order_id for i in sel.selectedRows()} == {"a"}
    model.set_rows([])
    assert model.rowCount() == 0


def test_money_that_rounds_to_zero_has_no_sign_or_colour() -> None:
    from app.widgets.account.formatting import fmt_countdown, fmt_money

    model = _model("margin")
    model.set_rows([{"currency": "XBT", "upnl": -1e-9, "realised_pnl": 0.5}])
    titles = model.column_titles()
    upnl, realised = titles.index("Unrealised PnL"), titles.index("Realised PnL")
    assert model.text_rows()[0][upnl] == "0.000000"
    assert model.data(model.index(0, upnl), Qt.ItemDataRole.ForegroundRole) is None
    assert model.data(model.index(0, realised), Qt.ItemDataRole.ForegroundRole) is not None
    assert fmt_money(-0.0345678, "XBT") == "-0.034568"
    assert fmt_money(None, "XBT") == "\u2013"
    assert fmt_countdown(59.2) == "1:00" and fmt_countdown(-1) == "0:00"


def test_venue_text_on_one_line(store: AccountStore) -> None:
    store.apply(
        _ev(
            "order",
            "update",
            [
                {
                    "orderID": "a",
                    "account": 1,
                    "ordStatus": "Canceled",
                    "leavesQty": 0,
                    "text": "Canceled: Cancel all after timeout\nSubmitted via API.",
                }
            ],
            ["orderID"],
        )
    )
    model = _model("orders")
    model.set_rows(store.recent_orders())
    row = next(t for t in model.text_rows() if t[8] == "Canceled")
    assert row[9] == "Canceled: Cancel all after timeout · Submitted via API."
