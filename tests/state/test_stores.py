"""InstrumentStore, LiquidationStore, VolumeAtPrice and unit helpers."""

from __future__ import annotations

import pytest

from app.feeds.events import TableRows, Trade, Trades
from app.state.instruments import InstrumentStore
from app.state.liquidations import LiquidationStore
from app.state.units import parse_time, tick_decimals
from app.state.volume import VolumeAtPrice
from tests.state.frames import MiniEngine, load


def rows(table: str, action: str, data: list[dict], at: float = 1.0) -> TableRows:
    keys = ["orderID"] if table == "liquidation" else ["symbol"]
    return TableRows("bitmex", table, action, keys, data, at)  # type: ignore[arg-type]


def test_parse_time_and_tick_decimals() -> None:
    assert parse_time("2021-12-18T21:53:44.928Z") == pytest.approx(1639864424.928)
    assert parse_time("2020-07-22T10:50:00.794000Z") == pytest.approx(1595415000.794)
    assert parse_time(12.5) == 12.5
    assert parse_time("garbage") is None and parse_time(None) is None and parse_time(True) is None
    assert tick_decimals(0.5) == 1
    assert tick_decimals(1e-8) == 8
    assert tick_decimals(0.0005) == 4
    assert tick_decimals(1.0) == 0
    assert tick_decimals(25.0) == 0
    assert tick_decimals(None) == 8


def test_instrument_partial_from_real_frame_and_sparse_updates() -> None:
    store = InstrumentStore()
    engine = MiniEngine()
    for ev in engine.apply_all(load("state_instrument_partial_XBTUSD.json")):
        store.apply(ev)
    assert store.symbols() == ["XBTUSD"]
    assert store.tick_size("XBTUSD") == 0.5
    assert store.lot_size("XBTUSD") == 1
    assert store.multiplier("XBTUSD") == -100000000
    assert store.is_inverse("XBTUSD") and not store.is_quanto("XBTUSD")
    assert store.settl_currency("XBTUSD") == "XBt"
    assert store.settl_display_currency("XBTUSD") == "XBT"
    assert store.funding_rate("XBTUSD") == 0.0001
    assert store.open_interest("XBTUSD") == 737748536
    assert store.change_pct("XBTUSD") == pytest.approx(-0.13)
    assert store.funding_time("XBTUSD") == parse_time("2020-07-22T12:00:00.000Z")
    assert store.tradeable_symbols() == ["XBTUSD"]
    for ev in engine.apply_all(
        [m for m in load("state_tradebin_trade_instrument.jsonl") if m["table"] == "instrument"]
    ):
        store.apply(ev)
    assert store.mark_price("XBTUSD") == 9341.13
    assert store.last_price("XBTUSD") == 9339
    assert store.tick_size("XBTUSD") == 0.5  # sparse updates keep the other fields
    assert store.notional("XBTUSD", 9339.0, 100) == 100  # inverse: qty is USD


def test_instrument_helpers_for_missing_and_linear() -> None:
    store = InstrumentStore()
    assert store.tick_size("NOPE") is None and store.get("NOPE") is None
    assert not store.is_inverse("NOPE")
    store.apply(
        rows(
            "instrument",
            "partial",
            [
                {
                    "symbol": "XBTUSDT",
                    "tickSize": 0.5,
                    "underlyingToPositionMultiplier": 1000000,
                    "isInverse": False,
                    "isQuanto": False,
                    "settlCurrency": "USDt",
                },
                {"symbol": "ETHUSD", "tickSize": 0.05, "multiplier": 100, "isQuanto": True},
                {"symbol": ".BXBT", "lastPrice": 1.0},
            ],
        )
    )
    assert store.notional("XBTUSDT", 50000.0, 1000) == pytest.approx(50.0)  # 0.001 XBT
    assert store.notional("ETHUSD", 2000.0, 3) == 6000.0
    assert "ETHUSD" in store and len(store) == 3
    store.apply(rows("instrument", "delete", [{"symbol": ".BXBT"}]))
    assert ".BXBT" not in store
    store.apply_funding(rows("funding", "insert", [{"symbol": "ETHUSD", "fundingRate": 0.0002}]))
    assert store.funding_rate("ETHUSD") == 0.0002


def test_liquidation_lifecycle_insert_update_delete() -> None:
    store = LiquidationStore(notional_fn=lambda s, p, q: p * q)
    new = store.apply(
        rows(
            "liquidation",
            "insert",
            [{"orderID": "a", "symbol": "XBTUSD", "side": "Sell", "price": 100.0, "leavesQty": 50}],
            at=10.0,
        )
    )
    assert [r.order_id for r in new] == ["a"]
    store.apply(
        rows(
            "liquidation",
            "insert",
            [{"orderID": "b", "symbol": "ETHUSD", "side": "Buy", "price": 10.0, "leavesQty": 5}],
            at=11.0,
        )
    )
    assert [r.order_id for r in store.rows()] == ["b", "a"]  # newest first
    assert (
        store.apply(
            rows(
                "liquidation",
                "update",
                [
                    {
                        "orderID": "a",
                        "symbol": "XBTUSD",
                        "side": "Sell",
                        "price": 100.0,
                        "leavesQty": 20,
                    }
                ],
                at=12.0,
            )
        )
        == []
    )
    a = store.get("a")
    assert a is not None and a.leaves_qty == 20 and a.qty == 50 and a.filled_qty == 30
    assert a.received_at == 10.0 and a.updated_at == 12.0 and a.notional == 5000.0
    store.apply(rows("liquidation", "delete", [{"orderID": "a", "symbol": "XBTUSD"}], at=13.0))
    a = store.get("a")
    assert a is not None and a.gone  # kept in the history, marked gone
    assert [r.order_id for r in store.active()] == ["b"]
    assert [r.order_id for r in store.rows(min_notional=100)] == ["a"]
    assert [r.order_id for r in store.rows(symbol="ETHUSD")] == ["b"]


def test_liquidation_history_bounded_by_evicting_gone_rows_only() -> None:
    store = LiquidationStore(maxlen=3)
    for i in range(5):
        store.apply(
            rows(
                "liquidation",
                "insert",
                [{"orderID": f"o{i}", "symbol": "X", "side": "Buy", "price": 1.0, "leavesQty": 1}],
                at=float(i),
            )
        )
    assert len(store) == 5  # all still resting: nothing may be dropped
    store.apply(
        rows("liquidation", "delete", [{"orderID": "o0"}, {"orderID": "o1"}, {"orderID": "o2"}])
    )
    assert len(store) == 3
    assert {r.order_id for r in store.rows()} == {"o2", "o3", "o4"}


def test_liquidation_partial_marks_missing_rows_gone() -> None:
    store = LiquidationStore()
    store.apply(
        rows(
            "liquidation", "insert", [{"orderID": "a", "symbol": "X", "price": 1.0, "leavesQty": 1}]
        )
    )
    store.apply(
        rows(
            "liquidation",
            "partial",
            [{"orderID": "b", "symbol": "X", "price": 1.0, "leavesQty": 1}],
        )
    )
    a = store.get("a")
    assert a is not None and a.gone
    assert [r.order_id for r in store.active()] == ["b"]
    store.apply(rows("liquidation", "insert", [{"symbol": "X"}]))  # no orderID: ignored
    assert len(store) == 2


def trades(*prints: tuple[float, str, float, float]) -> Trades:
    return Trades("bitmex", "X", [Trade("bitmex", "X", s, p, q, ts) for ts, s, p, q in prints])  # type: ignore[arg-type]


def test_volume_at_price_since_reset_and_windowed() -> None:
    vol = VolumeAtPrice(tick_size=0.5)
    vol.apply(trades((1.0, "Buy", 100.0, 3), (2.0, "Sell", 100.0, 2), (3.0, "Buy", 100.5, 1)))
    assert vol.at(100.0) == (3, 2)
    assert vol.at(100.00000001) == (3, 2)  # snapped to the tick
    assert vol.max_total() == 5
    assert vol.levels() == {100.0: (3, 2), 100.5: (1, 0)}
    vol.reset()
    assert vol.levels() == {} and vol.started_at is None
    win = VolumeAtPrice(tick_size=0.5, window=10.0)
    win.apply(trades((0.0, "Buy", 100.0, 3)))
    win.apply(trades((5.0, "Sell", 100.0, 2)))
    win.apply(trades((12.0, "Buy", 101.0, 1)))  # the print at t=0 leaves the window
    assert win.at(100.0) == (0, 2)
    win.apply(trades((30.0, "Buy", 101.0, 1)))
    assert win.levels() == {101.0: (1, 0)}
    assert win.started_at == 30.0
