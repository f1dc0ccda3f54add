"""AccountStore: display units from real rows, sparse merges, order working/finished transitions."""

from __future__ import annotations

import pytest

from app.feeds.events import TableRows
from app.state.account import AccountStore, order_is_working
from app.state.units import display_currency, to_display
from tests.state.frames import MiniEngine, load


def feed(store: AccountStore, name: str) -> MiniEngine:
    engine = MiniEngine()
    for ev in engine.apply_all(load(name)):
        store.apply(ev)
    return engine


def test_unit_conversion_table() -> None:
    assert to_display(150_000_000, "XBt") == 1.5
    assert to_display(2_500_000, "USDt") == 2.5
    assert to_display(3_000_000_000, "Gwei") == 3.0
    assert to_display(7, "FOO") == 7.0  # unknown: as-is, code kept
    assert display_currency("FOO") == "FOO"
    assert display_currency("XBt") == "XBT" and display_currency("USDt") == "USDT"
    assert to_display(None, "XBt") is None


def test_positions_from_real_testnet_rows() -> None:
    store = AccountStore()
    feed(store, "state_position_margin.jsonl")
    positions = store.positions()
    assert len(positions) == 1
    p = positions[0]
    assert p.symbol == "XBTUSD" and p.currency == "XBT"
    assert p.qty == 100 and p.side == "Long" and p.is_open
    assert p.mark == 46960.3
    assert p.liq == 6134.5
    assert p.dist_to_liq_pct == pytest.approx(abs(46960.3 - 6134.5) / 46960.3 * 100)
    assert p.upnl == pytest.approx(-71e-8)  # unrealisedPnl -71 XBt
    assert p.roe_pct == pytest.approx(-3.34)
    assert p.margin == pytest.approx(2238e-8)  # maintMargin
    assert p.value == pytest.approx(212946e-8)  # |markValue|
    assert p.leverage == 100 and p.cross_margin
    assert p.realised_pnl == pytest.approx(-392e-8)  # from the first update, kept by later ones


def test_closed_position_hidden_unless_asked() -> None:
    store = AccountStore()
    engine = MiniEngine()
    msgs = load("state_position_margin.jsonl")
    store.apply(engine.apply(msgs[0])[0])  # partial: flat, isOpen false
    assert store.positions() == []
    closed = store.positions(include_closed=True)
    assert len(closed) == 1 and closed[0].side == "Flat" and closed[0].liq is None
    assert closed[0].dist_to_liq_pct is None
    assert store.position("XBTUSD") is not None


def test_margins_from_real_rows() -> None:
    store = AccountStore()
    feed(store, "state_position_margin.jsonl")
    margins = store.margins()
    assert [m.currency for m in margins] == ["USDT", "XBT"]
    usdt = margins[0]
    assert usdt.wallet_balance == pytest.approx(99999.981385)  # 99999981385 USDt
    m = margins[1]
    # last update: walletBalance 1418826, marginBalance 1418826, available 1418826, realised -515
    assert m.wallet_balance == pytest.approx(0.01418826)
    assert m.margin_balance == pytest.approx(0.01418826)
    assert m.available == pytest.approx(0.01418826)
    assert m.used == pytest.approx(0.0)
    assert m.realised_pnl == pytest.approx(-515e-8)
    assert m.upnl == 0.0
    assert m.margin_used_pct == 0.0


def test_margin_used_matches_maint_margin_in_the_middle_update() -> None:
    store = AccountStore()
    engine = MiniEngine()
    msgs = [m for m in load("state_position_margin.jsonl") if m["table"] == "margin"]
    for msg in msgs[:2]:
        for ev in engine.apply(msg):
            store.apply(ev)
    m = next(x for x in store.margins() if x.currency == "XBT")
    assert m.used == pytest.approx(2238e-8)  # marginBalance - availableMargin == maintMargin
    assert m.margin_used_pct == pytest.approx(0.16)
    assert m.leverage == pytest.approx(0.15004616414702046)


def test_wallets_and_other_private_rows() -> None:
    store = AccountStore()
    feed(store, "state_private_misc.jsonl")
    wallets = store.wallets()
    # two partials for different accounts: the second (no scope) replaced the table's rows
    assert {w.currency for w in wallets} == {"XBT"}
    amounts = sorted(w.amount for w in wallets if w.amount is not None)
    assert amounts[-1] == pytest.approx(0.00683232)
    fills = store.fills()
    assert len(fills) == 1
    f = fills[0]
    assert f.last_qty == 20 and f.last_px == 6296.5 and f.currency == "XBT"
    assert f.liquidity == "RemovedLiquidity"
    # the 2023 mainnet insert omitted null fields: still a working USDt-settled order
    working = store.working_orders()
    assert [o.symbol for o in working] == ["ARBUSDTM23"]
    assert working[0].price == 1.371 and working[0].leaves == 1000


def test_order_transitions_from_sparse_testnet_updates() -> None:
    store = AccountStore()
    engine = MiniEngine()
    msgs = load("state_orders_testnet.jsonl")
    seen_working: set[str] = set()
    for msg in msgs:
        for ev in engine.apply(msg):
            store.apply(ev)
        seen_working |= {o.order_id for o in store.working_orders()}
    # every order that was inserted working and later got a Canceled/Filled update is gone
    finished = {
        r["orderID"]
        for m in msgs
        if m["action"] == "update"
        for r in m["data"]
        if r.get("ordStatus") in ("Canceled", "Filled")
    }
    working_now = {o.order_id for o in store.working_orders()}
    assert not (working_now & finished)
    assert "2f01f1a3-b538-dd23-e336-206283485b53" in seen_working  # working, then filled
    assert working_now == {
        "71498e20-c8f2-b19d-aba2-f64f1edada84",
        "a7a98b27-1cb0-1978-58df-8f68de0b6696",
    }
    for oid in working_now:
        row = engine.rows["order"][(oid,)]
        assert order_is_working(row)
    canceled = store.order("092ea086-c91d-7f43-7551-086bbe7a5b8c")  # inserted already canceled
    assert canceled is not None and canceled.status == "Canceled" and not canceled.working
    stop = store.order("2f01f1a3-b538-dd23-e336-206283485b53")
    assert stop is not None and stop.status == "Filled" and stop.triggered == "StopOrderTriggered"
    assert stop.avg_px == 9599.5 and stop.filled == 30
    recent = store.recent_orders()
    assert recent[0].order_id == "2f01f1a3-b538-dd23-e336-206283485b53"  # most recent change


def order_ev(action: str, rows: list[dict], account: str | None = None) -> TableRows:
    return TableRows("bitmex", "order", action, ["orderID"], rows, 1.0, account)  # type: ignore[arg-type]


def test_working_derives_from_status_and_leaves_after_merge() -> None:
    store = AccountStore()
    base = {
        "orderID": "a",
        "symbol": "XBTUSD",
        "side": "Sell",
        "orderQty": 100,
        "price": 101.0,
        "ordStatus": "New",
        "leavesQty": 100,
        "cumQty": 0,
    }
    store.apply(order_ev("insert", [base]))
    assert [o.order_id for o in store.working_orders()] == ["a"]
    assert store.working_by_price("XBTUSD") == {101.0: (0.0, 100.0)}
    store.apply(
        order_ev(
            "update", [{**base, "ordStatus": "PartiallyFilled", "leavesQty": 40, "cumQty": 60}]
        )
    )
    assert store.working_orders()[0].leaves == 40 and store.working_orders()[0].filled == 60
    store.apply(order_ev("update", [{**base, "ordStatus": "PartiallyFilled", "leavesQty": 0}]))
    assert store.working_orders() == []  # no leaves: not working even with a working status
    store.apply(
        order_ev("update", [{**base, "ordStatus": "Filled", "leavesQty": 0, "cumQty": 100}])
    )
    assert store.working_orders() == [] and store.order_count() == 1
    store.apply(order_ev("delete", [base]))
    assert store.order_count() == 0


def test_partial_replaces_and_scopes_by_account() -> None:
    store = AccountStore()
    a = {"orderID": "a", "ordStatus": "New", "leavesQty": 1, "symbol": "X"}
    b = {"orderID": "b", "ordStatus": "New", "leavesQty": 1, "symbol": "X"}
    store.apply(order_ev("partial", [a], account="1"))
    store.apply(order_ev("partial", [b], account="2"))
    assert {o.order_id for o in store.working_orders()} == {"a", "b"}
    store.apply(order_ev("partial", [], account="1"))  # empty partial clears account 1 only
    assert [(o.order_id, o.account) for o in store.working_orders()] == [("b", "2")]


def test_execution_ring_is_bounded_but_table_is_not() -> None:
    store = AccountStore(executions_maxlen=3)
    rows = [
        {
            "execID": f"e{i}",
            "execType": "Trade",
            "lastQty": i,
            "settlCurrency": "USDt",
            "execComm": 1_000_000,
            "transactTime": f"2024-01-01T00:00:0{i}.000Z",
        }
        for i in range(6)
    ]
    store.apply(TableRows("bitmex", "execution", "insert", ["execID"], rows, 1.0))
    execs = store.executions()
    assert [e.exec_id for e in execs] == ["e5", "e4", "e3"]
    assert execs[0].fee == 1.0 and execs[0].currency == "USDT"
    assert len(store.raw_rows("execution")) == 6


def test_reset_marks_tables_stale_until_partials() -> None:
    store = AccountStore()
    feed(store, "state_position_margin.jsonl")
    store.mark_stale()
    assert store.stale and store.stale_tables == {"position", "margin"}
    assert store.positions()  # rows kept while stale
    store.apply(TableRows("bitmex", "position", "partial", ["account", "symbol"], [], 1.0))
    assert store.stale_tables == {"margin"}
    assert store.positions() == []


def test_sparse_row_missing_a_key_field_matches_the_single_candidate() -> None:
    store = AccountStore()
    keys = ["account", "symbol", "currency"]
    store.apply(
        TableRows(
            "bitmex",
            "position",
            "partial",
            keys,
            [{"account": 1, "symbol": "XBTUSD", "currency": "XBt", "currentQty": 1}],
            1.0,
        )
    )
    store.apply(
        TableRows(
            "bitmex",
            "position",
            "update",
            keys,
            [{"account": 1, "symbol": "XBTUSD", "currentQty": 7}],
            1.0,
        )
    )
    assert store.positions()[0].qty == 7


def test_unknown_table_is_ignored() -> None:
    store = AccountStore()
    assert not store.apply(TableRows("bitmex", "nonsense", "insert", [], [{"a": 1}], 1.0))


def test_unscoped_empty_partial_then_scoped_rows_then_empty_repartial() -> None:
    store = AccountStore()
    store.apply(order_ev("partial", []))  # no filter, no rows: no account known
    row = {"orderID": "a", "ordStatus": "New", "leavesQty": 5, "symbol": "X", "account": 7}
    store.apply(order_ev("insert", [row], account="7"))
    assert [o.order_id for o in store.working_orders()] == ["a"]
    # after a reconnect the order was cancelled meanwhile: an empty unscoped partial
    store.apply(order_ev("partial", []))
    assert store.working_orders() == [] and store.order_count() == 0


def test_same_order_under_both_scope_forms_is_one_entry() -> None:
    store = AccountStore()
    row = {"orderID": "a", "ordStatus": "New", "leavesQty": 5, "symbol": "X"}
    store.apply(order_ev("insert", [row]))
    store.apply(order_ev("update", [{**row, "leavesQty": 2}], account="7"))
    store.apply(order_ev("update", [{**row, "leavesQty": 1}]))
    assert store.order_count() == 1
    assert store.working_orders()[0].leaves == 1


def test_snapshot_json_is_json_ready() -> None:
    import json

    store = AccountStore()
    feed(store, "state_position_margin.jsonl")
    out = store.snapshot_json()
    text = json.dumps(out)
    assert out["positions"][0]["symbol"] == "XBTUSD" and out["positions"][0]["currency"] == "XBT"
    assert {m["currency"] for m in out["margins"]} == {"USDT", "XBT"}
    assert '"XBt"' not in text  # display codes only
    assert out["margins"][1]["wallet_balance"] == pytest.approx(0.01418826)
