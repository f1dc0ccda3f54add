"""BitmexEngine on non-book tables from real frames: private tables, instrument, trades, bins,
quotes, orderBook10, funding and liquidation."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from conftest import read_frames

from app.feeds.bitmex.engine import BitmexEngine
from app.feeds.events import (
    Bars,
    BookLevels,
    Event,
    FeedError,
    Quote,
    Resync,
    TableRows,
    Trades,
)

CLOCK = 1_700_000_123.5


def frames(name: str) -> list[str]:
    return read_frames(f"bitmex/{name}")


def engine() -> BitmexEngine:
    return BitmexEngine(clock=lambda: CLOCK)


def table_frames(name: str, table: str) -> list[str]:
    return [f for f in frames(name) if f'"table":"{table}"' in f]


def only(events: list[Event], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def test_order_partial_empty_then_inserts_and_sparse_updates_merge() -> None:
    eng = engine()
    order_frames = table_frames("moonbot_testnet_2020-05.jsonl", "order")
    (partial,) = eng.apply(order_frames[0])
    assert isinstance(partial, TableRows)
    assert partial.action == "partial" and partial.rows == [] and partial.keys == ["orderID"]
    assert partial.account == "299045" and partial.received_at == CLOCK
    stop_id = "2f01f1a3-b538-dd23-e336-206283485b53"
    stop_frames = [f for f in order_frames if stop_id in f]
    assert len(stop_frames) == 3
    inserted, triggered, filled = (eng.apply(f) for f in stop_frames)
    assert inserted[0].rows[0]["ordType"] == "Stop" and inserted[0].rows[0]["ordStatus"] == "New"
    row = triggered[0].rows[0]
    assert row["triggered"] == "StopOrderTriggered"
    assert row["ordType"] == "Stop" and row["stopPx"] == 9600 and row["orderQty"] == 30
    row = filled[0].rows[0]
    assert filled[0].action == "update"
    assert (row["ordStatus"], row["leavesQty"], row["cumQty"], row["avgPx"]) == (
        "Filled",
        0,
        30,
        9599.5,
    )
    assert row["triggered"] == "StopOrderTriggered" and row["side"] == "Sell"
    # Rows already emitted are not mutated by later merges.
    assert inserted[0].rows[0]["ordStatus"] == "New"
    assert eng.stats.unknown_keys == 0


def test_order_update_for_unknown_order_resyncs_order_topic() -> None:
    eng = engine()
    order_frames = table_frames("moonbot_testnet_2020-05.jsonl", "order")
    eng.apply(order_frames[0])
    unknown = next(f for f in order_frames if "9650dd7b" in f)
    (event,) = eng.apply(unknown)
    assert isinstance(event, Resync) and event.table == "order" and event.symbol == "XBTUSD"
    assert eng.take_resubscribe() == ["order:XBTUSD"]
    assert eng.stats.unknown_keys == 1


def test_unfiltered_order_partial_from_official_fixture() -> None:
    eng = engine()
    out: list[Event] = []
    for frame in frames("api_connectors_order_empty_partial.jsonl"):
        out.extend(eng.apply(frame))
    rows = only(out, TableRows)
    assert [r.action for r in rows] == ["partial", "insert", "insert"]
    assert [r.rows[0]["symbol"] for r in rows[1:]] == ["XBTUSD", "XBTZ20"]
    assert eng.waiting_for_partial() == [] and eng.has_partial("order:*")


def test_sparse_order_insert_without_optional_fields_is_kept() -> None:
    eng = engine()
    eng.apply(
        '{"table":"order","action":"partial","keys":["orderID"],"filter":{"account":1644444},"data":[]}'
    )
    insert = table_frames("private_multiplex_errors.jsonl", "order")[-1]
    (event,) = eng.apply(insert)
    assert event.rows[0]["symbol"] == "ARBUSDTM23" and "clOrdID" not in event.rows[0]


def test_position_partial_without_keys_uses_default_keys_and_merges_updates() -> None:
    eng = engine()
    pos = table_frames("position_margin_tradebin.jsonl", "position")
    (partial,) = eng.apply(pos[0])
    assert partial.keys == ["account", "symbol"]
    assert partial.rows[0]["leverage"] == 100
    updates = [eng.apply(f)[0] for f in pos[1:]]
    final = updates[-1].rows[0]
    assert final["currentQty"] == 100 and final["markPrice"] == 46960.3
    assert final["deleveragePercentile"] == 1  # from the second update, kept by the third
    assert final["execBuyQty"] == 300  # from the first update
    assert final["leverage"] == 100 and final["currency"] == "XBt"  # from the partial
    assert all(u.action == "update" for u in updates)


def test_margin_rows_per_currency_merge() -> None:
    eng = engine()
    margin = table_frames("position_margin_tradebin.jsonl", "margin")
    (partial,) = eng.apply(margin[0])
    assert sorted(r["currency"] for r in partial.rows) == ["USDt", "XBt"]
    last: TableRows | None = None
    for frame in margin[1:]:
        (last,) = eng.apply(frame)
    assert last is not None
    row = last.rows[0]
    assert row["currency"] == "XBt" and row["pendingCredit"] == 100000
    assert row["walletBalance"] == 1418826  # from an earlier update
    assert row["riskLimit"] == 1000000000000  # from the partial


def test_wallet_partials_and_position_updates_from_mainnet_comment() -> None:
    eng = engine()
    src = frames("private_multiplex_errors.jsonl")
    (wallet,) = eng.apply(src[0])
    assert wallet.table == "wallet" and wallet.keys == ["account", "currency"]
    assert wallet.account == "243795" and wallet.rows[0]["currency"] == "XBt"
    # Position updates without a position partial are dropped and counted.
    for frame in src[1:4]:
        assert eng.apply(frame) == []
    assert eng.stats.dropped_before_partial == 3


def test_execution_from_multiplexed_packet_payload() -> None:
    eng = engine()
    (packet,) = [orjson.loads(f) for f in frames("private_multiplex_errors.jsonl") if f[0] == "["]
    kind, _stream_id, topic, payload = packet
    assert (kind, topic) == (0, "priv")
    eng.apply_message(
        {
            "table": "execution",
            "action": "partial",
            "keys": ["execID"],
            "filter": {"account": 595181},
            "data": [],
        }
    )
    (event,) = eng.apply_message(payload)
    assert isinstance(event, TableRows) and event.table == "execution"
    row = event.rows[0]
    assert row["execType"] == "Trade" and row["lastQty"] == 20 and row["lastPx"] == 6296.5
    assert row["lastLiquidityInd"] == "RemovedLiquidity"
    assert event.account == "595181"


def test_instrument_partial_and_sparse_updates() -> None:
    eng = engine()
    (partial,) = eng.apply(frames("instrument_partial_XBTUSD.json")[0])
    assert partial.table == "instrument" and partial.keys == ["symbol"]
    tick = partial.rows[0]["tickSize"]
    updates = table_frames("position_margin_tradebin.jsonl", "instrument")
    results = [eng.apply(f)[0] for f in updates]
    row = results[-1].rows[0]
    assert row["lastPrice"] == 9339 and row["markPrice"] == 9341.13
    assert row["tickSize"] == tick and row["fairPrice"] == 9341.13
    # An index update under a per-symbol instrument subscription belongs to no state.
    index = table_frames("moonbot_testnet_2020-05.jsonl", "instrument")[0]
    assert eng.apply(index) == []


def test_trade_partials_and_inserts_from_capture() -> None:
    eng = engine()
    out: list[Event] = []
    for line in frames("capture_2021-04-17.log"):
        if '"table":"trade"' in line and " <- " not in line:
            out.extend(eng.apply(line.split(": ", 1)[1]))
    trades = only(out, Trades)
    snapshots = [t for t in trades if t.snapshot]
    assert len(snapshots) == 10 and all(len(t.trades) == 1 for t in snapshots)
    live = [t for t in trades if not t.snapshot]
    assert live and all(t.trades for t in live)
    trade = live[0].trades[0]
    assert trade.side in ("Buy", "Sell") and trade.price > 0 and trade.size > 0
    assert trade.trade_id and trade.timestamp > 1_618_677_000


def test_trade_insert_with_several_prints_and_notional() -> None:
    eng = engine()
    eng.apply(
        '{"table":"trade","action":"partial","keys":[],"filter":{"symbol":"XBTUSD"},"data":[]}'
    )
    frame = next(f for f in table_frames("moonbot_testnet_2020-05.jsonl", "trade") if "8977" in f)
    (batch,) = eng.apply(frame)
    assert isinstance(batch, Trades) and not batch.snapshot and len(batch.trades) > 1
    msg = orjson.loads(frame)
    assert [t.size for t in batch.trades] == [float(r["size"]) for r in msg["data"]]
    assert batch.trades[0].notional == msg["data"][0]["foreignNotional"]
    assert batch.trades[0].timestamp == pytest.approx(1590573743.662)


def test_trade_with_trd_type_quote_and_tradebin5m_from_2025_frames() -> None:
    eng = engine()
    for table in ("trade", "quote", "tradeBin5m"):
        empty = {"table": table, "action": "partial", "keys": [], "filter": {"symbol": "ETH_USDT"}}
        out = eng.apply(orjson.dumps({**empty, "data": []}))
        assert all(not isinstance(e, FeedError) for e in out)
    out = []
    for frame in frames("jkorf_2025.jsonl"):
        out.extend(eng.apply(frame))
    (trades,) = only(out, Trades)
    assert trades.trades[0].price == 97343.4 and trades.trades[0].side == "Sell"
    (bars,) = only(out, Bars)
    assert bars.timeframe == "5m"
    # Stamped 10:55:00 (bin END) -> opens 10:50:00.
    assert bars.bars[0].open_time == pytest.approx(1738925400.0)
    assert bars.bars[0].trades == 128 and bars.bars[0].close == 97250.0
    (quote,) = only(out, Quote)
    assert (quote.bid_price, quote.ask_price, quote.bid_size) == (97269.9, 97270.0, 11900)


def test_tradebin1m_end_stamps_shift_to_open_time() -> None:
    eng = engine()
    bins = table_frames("position_margin_tradebin.jsonl", "tradeBin1m")
    (snap,) = eng.apply(bins[0])
    assert isinstance(snap, Bars) and snap.snapshot and snap.timeframe == "1m"
    # "2021-12-16T08:35:00.000Z" is the end of the 08:34 minute.
    assert snap.bars[0].open_time == pytest.approx(1639643640.0)
    assert snap.bars[0].trades == 0 and snap.bars[0].volume == 0
    (ins,) = eng.apply(bins[1])
    assert ins.bars[0].open_time == pytest.approx(1639643760.0)  # 08:37 end -> 08:36 open
    assert (ins.bars[0].open, ins.bars[0].high, ins.bars[0].low) == (48766.5, 48777.0, 48770.0)


def test_quote_partials_from_capture() -> None:
    eng = engine()
    out: list[Event] = []
    for line in frames("capture_2021-04-17.log"):
        if '"table":"quote","action":"partial"' in line:
            out.extend(eng.apply(line.split(": ", 1)[1]))
    quotes = only(out, Quote)
    assert len(quotes) == 10
    assert all(q.bid_price is not None and q.ask_price is not None for q in quotes)
    assert all(q.bid_price < q.ask_price for q in quotes)  # type: ignore[operator]


def test_orderbook10_partial_and_full_top10_updates() -> None:
    eng = engine()
    out: list[Event] = []
    for frame in table_frames("moonbot_testnet_2020-05.jsonl", "orderBook10"):
        out.extend(eng.apply(frame))
    books = only(out, BookLevels)
    assert len(books) == 3 and all(b.snapshot for b in books)
    assert books[0].bids[0] == (9770.0, 35719.0) and len(books[0].asks) == 10
    assert books[1].asks[3] == (9773.0, 756.0)
    assert books[2].asks[4] == (9773.5, 244.0)
    assert books[2].timestamp == pytest.approx(1588878053.671)


def test_funding_insert_after_partial() -> None:
    eng = engine()
    funding = table_frames("moonbot_testnet_2020-05.jsonl", "funding")[0]
    assert eng.apply(funding) == []  # no partial yet
    eng.apply(
        '{"table":"funding","action":"partial","keys":["timestamp","symbol"],"filter":{},"data":[]}'
    )
    (event,) = eng.apply(funding)
    assert isinstance(event, TableRows) and event.rows[0]["fundingRate"] == 0.0001


def test_liquidation_insert_update_delete_stamped_with_receive_time() -> None:
    now = [10.0]
    eng = BitmexEngine(clock=lambda: now[0])
    base: dict[str, Any] = {"table": "liquidation", "keys": ["orderID"], "filter": {}}
    eng.apply(orjson.dumps({**base, "action": "partial", "data": []}))
    row = {"orderID": "a", "symbol": "XBTUSD", "side": "Sell", "price": 60000, "leavesQty": 500}
    now[0] = 11.0
    (ins,) = eng.apply(orjson.dumps({"table": "liquidation", "action": "insert", "data": [row]}))
    assert ins.received_at == 11.0 and ins.rows == [row]
    now[0] = 12.0
    update = {"orderID": "a", "symbol": "XBTUSD", "leavesQty": 200}
    (upd,) = eng.apply(orjson.dumps({"table": "liquidation", "action": "update", "data": [update]}))
    assert upd.rows[0] == {**row, "leavesQty": 200} and upd.received_at == 12.0
    delete = {"orderID": "a", "symbol": "XBTUSD"}
    (gone,) = eng.apply(
        orjson.dumps({"table": "liquidation", "action": "delete", "data": [delete]})
    )
    assert gone.action == "delete" and gone.rows[0]["price"] == 60000  # last known row
    (again,) = eng.apply(
        orjson.dumps({"table": "liquidation", "action": "delete", "data": [delete]})
    )
    assert isinstance(again, Resync) and again.table == "liquidation"


def test_keyed_rows_missing_key_fields_are_errors_with_resync() -> None:
    eng = engine()
    eng.apply(table_frames("position_margin_tradebin.jsonl", "margin")[0])
    bad = {"table": "margin", "action": "update", "data": [{"account": 379441, "amount": 1}]}
    events = eng.apply(orjson.dumps(bad))
    assert [type(e) for e in events] == [FeedError, Resync]
    assert "missing field 'currency'" in events[0].message  # type: ignore[union-attr]
    assert eng.take_resubscribe() == ["margin"]
    assert eng.stats.malformed == 1


def test_insert_only_table_rejects_update_and_bad_rows() -> None:
    eng = engine()
    eng.apply(
        '{"table":"trade","action":"partial","keys":[],"filter":{"symbol":"XBTUSD"},"data":[]}'
    )
    events = eng.apply('{"table":"trade","action":"update","data":[{"symbol":"XBTUSD"}]}')
    assert isinstance(events[0], FeedError) and "insert-only" in events[0].message
    bad_trade = {"symbol": "XBTUSD", "side": "Buy", "price": 1, "size": 1, "timestamp": "soon"}
    events = eng.apply(orjson.dumps({"table": "trade", "action": "insert", "data": [bad_trade]}))
    assert isinstance(events[-1], FeedError)
    assert eng.stats.malformed == 2
