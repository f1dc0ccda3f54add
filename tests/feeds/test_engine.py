"""BitmexEngine state machine on real BitMEX frames: L2 books, acks, errors, malformed input."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from conftest import read_frames

from app.feeds.bitmex.engine import BitmexEngine, parse_topic, topic_of
from app.feeds.events import (
    AuthResult,
    BookLevels,
    CancelAllAfterReply,
    Event,
    FeedError,
    Reset,
    Resync,
    SubscriptionAck,
)


def frames(name: str) -> list[str]:
    return read_frames(f"bitmex/{name}")


def capture_server_frames() -> list[str]:
    """Server frames of the 2021 capture (recorder lines `<ts>: <json>`)."""
    out = []
    for line in frames("capture_2021-04-17.log"):
        if " <- " in line or " <-> " in line:
            continue
        out.append(line.split(": ", 1)[1])
    return out


def first(frames_: list[str], **match: Any) -> str:
    """The first frame whose decoded top-level fields equal `match` (and, for `symbol`, whose
    partial filter or first row names that symbol)."""
    symbol = match.pop("symbol", None)
    for frame in frames_:
        msg = orjson.loads(frame)
        if not isinstance(msg, dict) or any(msg.get(k) != v for k, v in match.items()):
            continue
        if symbol is None:
            return frame
        rows = msg.get("data") or [{}]
        if (msg.get("filter") or {}).get("symbol") == symbol or rows[0].get("symbol") == symbol:
            return frame
    raise LookupError(match)


def books_of(events: list[Event]) -> list[BookLevels]:
    return [e for e in events if isinstance(e, BookLevels)]


# --------------------------------------------------------------------------- welcome / acks


def test_welcome_with_empty_limit_is_stored_without_events() -> None:
    engine = BitmexEngine()
    welcomes = [f for f in frames("private_multiplex_errors.jsonl") if "Welcome" in f]
    assert len(welcomes) == 2
    for frame in welcomes:
        assert engine.apply(frame) == []
    assert engine.welcome is not None
    assert engine.welcome["limit"] == {}
    assert engine.welcome["heartbeatEnabled"] is False
    assert engine.stats.malformed == 0


def test_historical_welcome_and_help_reply_are_not_errors() -> None:
    engine = BitmexEngine()
    assert engine.apply(frames("api_connectors_preamble.jsonl")[0]) == []
    assert engine.welcome is not None and engine.welcome["limit"] == {"remaining": 38}
    assert engine.apply(frames("api_connectors_websocket_help.jsonl")[0]) == []
    assert engine.stats.malformed == 0 and engine.stats.errors == 0


def test_subscribe_ack_marks_topic_waiting_until_its_partial() -> None:
    server = capture_server_frames()
    engine = BitmexEngine()
    ack = first(server, subscribe="orderBookL2:LTCUSD")
    events = engine.apply(ack)
    assert events == [SubscriptionAck("bitmex", "orderBookL2:LTCUSD", "subscribe", True)]
    assert engine.waiting_for_partial() == ["orderBookL2:LTCUSD"]
    engine.apply(first(server, table="orderBookL2", action="partial", symbol="LTCUSD"))
    assert engine.waiting_for_partial() == []
    assert engine.has_partial("orderBookL2:LTCUSD")


def test_mark_subscribed_before_ack_and_unsubscribe_ack_drops_state() -> None:
    server = capture_server_frames()
    engine = BitmexEngine()
    engine.mark_subscribed(["orderBookL2:LTCUSD", "trade:LTCUSD"])
    assert sorted(engine.waiting_for_partial()) == ["orderBookL2:LTCUSD", "trade:LTCUSD"]
    engine.apply(first(server, table="orderBookL2", action="partial", symbol="LTCUSD"))
    assert engine.waiting_for_partial() == ["trade:LTCUSD"]
    ack = '{"success":true,"unsubscribe":"orderBookL2:LTCUSD","request":{"args":["orderBookL2:LTCUSD"],"op":"unsubscribe"}}'  # noqa: E501
    events = engine.apply(ack)
    assert events == [SubscriptionAck("bitmex", "orderBookL2:LTCUSD", "unsubscribe", True)]
    assert not engine.has_partial("orderBookL2:LTCUSD")
    assert "orderBookL2:LTCUSD" not in engine.subscribed_topics()


def test_topic_helpers() -> None:
    assert parse_topic("orderBookL2:XBTUSD") == ("orderBookL2", "XBTUSD")
    assert parse_topic("trade:*") == ("trade", None)
    assert parse_topic("margin") == ("margin", None)
    assert topic_of("order", None) == "order"
    assert topic_of("orderBookL2_25", "XBTUSD") == "orderBookL2_25:XBTUSD"


# --------------------------------------------------------------------------- L2 books


def test_l2_25_partials_sparse_update_and_empty_partial_from_official_fixture() -> None:
    engine = BitmexEngine()
    out: list[Event] = []
    for frame in frames("api_connectors_orderbook_symboled_empty_partial.jsonl"):
        out.extend(engine.apply(frame))
    books = books_of(out)
    assert [(b.symbol, b.snapshot) for b in books] == [
        ("XBTUSD", True),
        ("ETHYLDH23", True),
        ("XBTUSD", False),
        ("XBTUSD", True),
        ("ETHYLDH23", True),
        ("XBTUSD", False),
    ]
    first_snapshot = books[0]
    assert first_snapshot.asks == [(22105, 375300)] and first_snapshot.bids == [(22077.5, 102500)]
    assert first_snapshot.timestamp == pytest.approx(1676448667.502)
    # Sparse update (no price): the price is the one remembered for that id.
    assert books[2].asks == [(22105, 77300)] and books[2].bids == []
    # Empty partial initializes an empty book.
    assert books[4].bids == [] and books[4].asks == []
    assert engine.has_partial("orderBookL2_25:ETHYLDH23")
    # The update after the second partial refers to an id of that partial.
    assert books[5].asks == [(22077.5, 77300)]
    assert engine.stats.unknown_keys == 0 and engine.stats.resyncs == 0


def test_update_without_price_uses_price_of_partial_row() -> None:
    server = capture_server_frames()
    engine = BitmexEngine()
    partial = first(server, table="orderBookL2", action="partial", symbol="LTCUSD")
    engine.apply(partial)
    prices = {(r["side"], r["id"]): r["price"] for r in orjson.loads(partial)["data"]}
    for frame in server:
        msg = orjson.loads(frame)
        if msg.get("action") != "update" or msg["data"][0]["symbol"] != "LTCUSD":
            continue
        row = msg["data"][0]
        if (row["side"], row["id"]) not in prices:
            continue
        assert "price" not in row
        fresh = BitmexEngine()
        fresh.apply(partial)
        (book,) = books_of(fresh.apply(orjson.dumps({**msg, "data": [row]})))
        levels = book.bids if row["side"] == "Buy" else book.asks
        assert levels == [(prices[(row["side"], row["id"])], row["size"])]
        return
    pytest.fail("no LTCUSD update of a partial level in the capture")


def test_delete_emits_size_zero_at_remembered_price() -> None:
    server = capture_server_frames()
    engine = BitmexEngine()
    partial = first(server, table="orderBookL2", action="partial", symbol="LTCUSD")
    engine.apply(partial)
    delete = first(server, table="orderBookL2", action="delete", symbol="LTCUSD")
    prices = {(r["side"], r["id"]): r["price"] for r in orjson.loads(partial)["data"]}
    (book,) = books_of(engine.apply(delete))
    expected_bids = [
        (prices[("Buy", r["id"])], 0.0) for r in orjson.loads(delete)["data"] if r["side"] == "Buy"
    ]
    assert book.bids == expected_bids
    assert all(size == 0 for _, size in book.asks)
    assert engine.level_count("orderBookL2", "LTCUSD") == len(prices) - len(
        orjson.loads(delete)["data"]
    )


def test_deltas_before_partial_are_dropped_and_counted() -> None:
    server = capture_server_frames()
    engine = BitmexEngine()
    delete = first(server, table="orderBookL2", action="delete", symbol="LTCUSD")
    assert engine.apply(delete) == []
    assert engine.stats.dropped_before_partial == 1
    # Another symbol's partial does not initialize LTCUSD.
    engine.apply(first(server, table="orderBookL2", action="partial", symbol="EOSM21"))
    assert engine.apply(delete) == []
    assert engine.stats.dropped_before_partial == 2
    trade = first(server, table="trade", action="insert")
    assert engine.apply(trade) == []
    assert engine.stats.dropped_before_partial == 3
    assert engine.stats.malformed == 0 and engine.stats.resyncs == 0


def test_unknown_key_update_resyncs_topic_until_fresh_partial() -> None:
    fixture = frames("api_connectors_orderbook_symboled_empty_partial.jsonl")
    engine = BitmexEngine()
    engine.apply(fixture[0])  # ack
    engine.apply(fixture[1])  # first XBTUSD partial
    # The last frame updates id 8797792251, which only the *second* partial contains.
    events = engine.apply(fixture[-1])
    assert events == [
        Resync("bitmex", "orderBookL2_25", "XBTUSD", "update for unknown id 8797792251")
    ]
    assert engine.stats.unknown_keys == 1 and engine.stats.resyncs == 1
    assert engine.take_resubscribe() == ["orderBookL2_25:XBTUSD"]
    assert engine.take_resubscribe() == []
    assert engine.waiting_for_partial() == ["orderBookL2_25:XBTUSD"]
    # Until the fresh partial, deltas for that book are dropped (not applied to a wrong book).
    assert engine.apply(fixture[4]) == []
    assert engine.stats.dropped_before_partial == 1
    engine.apply(fixture[5])  # fresh XBTUSD partial
    (book,) = books_of(engine.apply(fixture[-1]))
    assert book.asks == [(22077.5, 77300)]
    assert engine.waiting_for_partial() == []


def test_unknown_key_delete_resyncs() -> None:
    server = capture_server_frames()
    engine = BitmexEngine()
    engine.apply(first(server, table="orderBookL2", action="partial", symbol="LTCUSD"))
    delete = first(server, table="orderBookL2", action="delete", symbol="LTCUSD")
    assert books_of(engine.apply(delete))
    events = engine.apply(delete)  # the same levels again: now unknown
    assert len(events) == 1 and isinstance(events[0], Resync)
    assert events[0].symbol == "LTCUSD" and "delete for unknown id" in events[0].reason
    assert engine.take_resubscribe() == ["orderBookL2:LTCUSD"]
    assert engine.level_count("orderBookL2", "LTCUSD") == 0


def test_unfiltered_partial_and_mixed_symbol_message() -> None:
    server = capture_server_frames()
    ltc = orjson.loads(first(server, table="orderBookL2", action="partial", symbol="LTCUSD"))
    eos = orjson.loads(first(server, table="orderBookL2", action="partial", symbol="EOSM21"))
    combined = {**ltc, "filter": {}, "data": ltc["data"] + eos["data"]}
    engine = BitmexEngine()
    snapshots = books_of(engine.apply(orjson.dumps(combined)))
    assert [b.symbol for b in snapshots] == ["LTCUSD", "EOSM21"]
    assert engine.has_partial("orderBookL2") and engine.waiting_for_partial() == []
    ltc_delete = orjson.loads(first(server, table="orderBookL2", action="delete", symbol="LTCUSD"))
    eos_delete = orjson.loads(first(server, table="orderBookL2", action="delete", symbol="EOSM21"))
    mixed = {
        "table": "orderBookL2",
        "action": "delete",
        "data": [*ltc_delete["data"], *eos_delete["data"]],
    }
    books = books_of(engine.apply(orjson.dumps(mixed)))
    assert [b.symbol for b in books] == ["LTCUSD", "EOSM21"]
    assert sum(len(b.bids) + len(b.asks) for b in books) == len(mixed["data"])
    # An unknown id under the unfiltered subscription resyncs the unfiltered topic.
    events = engine.apply(orjson.dumps(ltc_delete))
    assert isinstance(events[-1], Resync) and events[-1].symbol is None
    assert engine.take_resubscribe() == ["orderBookL2"]
    assert engine.book_symbols("orderBookL2") == []


def test_rows_after_an_unfiltered_resync_in_the_same_message_are_not_applied() -> None:
    server = capture_server_frames()
    ltc = orjson.loads(first(server, table="orderBookL2", action="partial", symbol="LTCUSD"))
    eos = orjson.loads(first(server, table="orderBookL2", action="partial", symbol="EOSM21"))
    engine = BitmexEngine()
    engine.apply(orjson.dumps({**ltc, "filter": {}, "data": ltc["data"] + eos["data"]}))
    unknown = {"symbol": "EOSM21", "id": 1, "side": "Buy"}
    known = {k: ltc["data"][0][k] for k in ("symbol", "id", "side")}
    frame = {"table": "orderBookL2", "action": "delete", "data": [unknown, known]}
    events = engine.apply(orjson.dumps(frame))
    assert [type(e) for e in events] == [Resync]
    assert engine.book_symbols("orderBookL2") == []


def test_runs_of_symbols_in_one_frame_are_voided_or_applied_each_on_their_own() -> None:
    engine = BitmexEngine()
    for symbol in ("XBTUSD", "ETHUSD"):
        rows = [
            {"symbol": symbol, "id": k, "side": "Buy" if k < 3 else "Sell", "size": 1, "price": k}
            for k in range(1, 5)
        ]
        partial = {"keys": ["symbol", "id", "side"], "filter": {"symbol": symbol}, "data": rows}
        engine.apply(orjson.dumps({"table": "orderBookL2", "action": "partial", **partial}))

    def update(*rows: Any) -> list[Event]:
        frame = {"table": "orderBookL2", "action": "update", "data": list(rows)}
        return engine.apply(orjson.dumps(frame))

    def row(symbol: str, level: int, size: int = 5) -> dict[str, Any]:
        return {"symbol": symbol, "id": level, "side": "Buy" if level < 3 else "Sell", "size": size}

    # An unknown id voids the XBTUSD run (its rows are dropped); the ETHUSD run applies.
    events = update(
        row("XBTUSD", 1), row("XBTUSD", 99), row("XBTUSD", 2), *map(row, ["ETHUSD"] * 2, [1, 4])
    )
    assert [type(e) for e in events] == [Resync, BookLevels]
    assert events[0].symbol == "XBTUSD"  # type: ignore[union-attr]
    assert events[1] == BookLevels("bitmex", "ETHUSD", [(1, 5)], [(4, 5)], False, None)
    assert engine.stats.unknown_keys == 1 and engine.book_symbols("orderBookL2") == ["ETHUSD"]
    # A row that is not an object is reported once; the next symbol's run still applies.
    events = update("x", row("ETHUSD", 2, 7))
    assert [type(e) for e in events] == [FeedError, BookLevels]
    assert engine.stats.malformed == 1
    assert events[1] == BookLevels("bitmex", "ETHUSD", [(2, 7)], [], False, None)


def test_insert_for_existing_id_at_new_price_removes_old_price() -> None:
    engine = BitmexEngine()
    partial = {
        "table": "orderBookL2",
        "action": "partial",
        "keys": ["symbol", "id", "side"],
        "filter": {"symbol": "XBTUSD"},
        "data": [{"symbol": "XBTUSD", "id": 7, "side": "Buy", "size": 5, "price": 100.0}],
    }
    engine.apply(orjson.dumps(partial))
    moved = {"symbol": "XBTUSD", "id": 7, "side": "Buy", "size": 9, "price": 99.5}
    (book,) = books_of(engine.apply(orjson.dumps({**partial, "action": "insert", "data": [moved]})))
    assert book.bids == [(100.0, 0.0), (99.5, 9)]
    update = {**moved, "price": 99.0, "size": 3}
    frame = orjson.dumps({**partial, "action": "update", "data": [update]})
    (book,) = books_of(engine.apply(frame))
    assert book.bids == [(99.5, 0.0), (99.0, 3)]


# --------------------------------------------------------------------------- errors / auth


def test_auth_ack_and_401_from_testnet_frames() -> None:
    engine = BitmexEngine()
    results: list[Event] = []
    for frame in frames("moonbot_testnet_2020-05.jsonl"):
        if '"authKey"' in frame:
            results.extend(engine.apply(frame))
    assert [type(e) for e in results] == [AuthResult, AuthResult, AuthResult]
    assert results[0] == AuthResult("bitmex", True)
    assert results[2] == AuthResult("bitmex", False, "Signature not valid.", 401)
    assert engine.stats.errors == 1


def test_subscription_errors_become_failed_acks_and_errors() -> None:
    engine = BitmexEngine()
    engine.mark_subscribed(["instrument_:XBTH17"])
    errors = [f for f in frames("private_multiplex_errors.jsonl") if '"status"' in f]
    assert len(errors) == 3
    not_subscribed, bad_quote, bad_table = (engine.apply(f) for f in errors)
    assert isinstance(not_subscribed[0], FeedError) and not_subscribed[0].status == 400
    assert not_subscribed[1] == SubscriptionAck(
        "bitmex", "orderBookL2:XBTUSD", "unsubscribe", False, not_subscribed[0].message
    )
    assert [e.topic for e in bad_quote if isinstance(e, SubscriptionAck)] == [
        '"orderBookL2:XBTUSD"',
        '"orderBookL2:ETHUSD"',
    ]
    assert bad_table[0] == FeedError(
        "bitmex",
        "Unknown table: instrument_",
        400,
        {"op": "subscribe", "args": ["instrument_:XBTH17"]},
    )
    assert isinstance(bad_table[1], SubscriptionAck) and not bad_table[1].success
    assert engine.waiting_for_partial() == []
    assert engine.stats.errors == 3 and engine.stats.malformed == 0


def test_already_subscribed_error_keeps_the_subscription() -> None:
    engine = BitmexEngine()
    engine.mark_subscribed(["trade:XBTUSD"])
    reply = {
        "status": 400,
        "error": "You are already subscribed to this topic: trade:XBTUSD",
        "meta": {},
        "request": {"op": "subscribe", "args": ["trade:XBTUSD"]},
    }
    events = engine.apply(orjson.dumps(reply))
    assert [type(e) for e in events] == [FeedError]
    assert engine.subscribed_topics() == ["trade:XBTUSD"]


def test_cancel_all_after_replies() -> None:
    engine = BitmexEngine()
    replies = [f for f in frames("private_multiplex_errors.jsonl") if "cancelTime" in f]
    armed, disarmed = (engine.apply(f) for f in replies)
    assert armed == [CancelAllAfterReply("bitmex", 1441203523.536, 1441203583.536, 60000)]
    assert disarmed == [CancelAllAfterReply("bitmex", 1441203551.617, None, 0)]


# --------------------------------------------------------------------------- malformed input


@pytest.mark.parametrize(
    ("frame", "text"),
    [
        ('{"table":"orderBookL2",', "malformed JSON"),
        (b"\xff\xfe", "malformed JSON"),
        ("[1, 2, 3]", "unexpected frame type list"),
        ("42", "unexpected frame type int"),
        ('"hello"', "unexpected frame type str"),
        ('{"table":"orderBookL3","action":"partial","data":[]}', "unknown table"),
        ('{"table":["trade"],"action":"insert","data":[]}', "unknown table"),
        (b"null", "unexpected frame type NoneType"),
        ('{"table":"trade","action":"partial","data":{}}', "without data list"),
        ('{"table":"trade","action":"upsert","data":[]}', "unknown action"),
        ('{"something":"else"}', "unrecognised message"),
        ('{"now":"yesterday","cancelTime":0}', "malformed cancelAllAfter"),
    ],
)
def test_malformed_frames_become_counted_errors(frame: str | bytes, text: str) -> None:
    engine = BitmexEngine()
    events = engine.apply(frame)
    assert len(events) == 1 and isinstance(events[0], FeedError)
    assert text in events[0].message
    assert engine.stats.malformed == 1 and engine.stats.messages == 1


def test_pong_text_is_ignored() -> None:
    engine = BitmexEngine()
    assert engine.apply("pong") == [] and engine.apply(b"pong") == []
    assert engine.stats.malformed == 0


def test_multiplexed_packet_is_not_unwrapped_by_the_engine() -> None:
    engine = BitmexEngine()
    (packet,) = [f for f in frames("private_multiplex_errors.jsonl") if f.startswith("[0,")]
    events = engine.apply(packet)
    assert isinstance(events[0], FeedError) and engine.stats.malformed == 1


def test_l2_rows_missing_fields_resync_the_book_and_never_raise() -> None:
    server = capture_server_frames()
    engine = BitmexEngine()
    engine.apply(first(server, table="orderBookL2", action="partial", symbol="LTCUSD"))
    delete = orjson.loads(first(server, table="orderBookL2", action="delete", symbol="LTCUSD"))
    broken = [dict(delete["data"][0]), *delete["data"][1:]]
    del broken[0]["side"]
    events = engine.apply(orjson.dumps({**delete, "data": broken}))
    assert [type(e) for e in events] == [FeedError, Resync]
    assert "missing field 'side'" in events[0].message  # type: ignore[union-attr]
    assert engine.take_resubscribe() == ["orderBookL2:LTCUSD"]
    # Bad side, null price in a partial, non-object rows: counted, resynced, no exception.
    partial = orjson.loads(first(server, table="orderBookL2", action="partial", symbol="LTCUSD"))
    bad_partial = {**partial, "data": [*partial["data"][:3], {**partial["data"][3], "price": None}]}
    events = engine.apply(orjson.dumps(bad_partial))
    assert [type(e) for e in events] == [FeedError, Resync]
    assert not engine.has_partial("orderBookL2:LTCUSD")
    engine.apply(orjson.dumps(partial))
    for data in ([{"symbol": "LTCUSD", "id": 1, "side": "Up", "size": 1}], [17], ["x"]):
        frame = orjson.dumps({"table": "orderBookL2", "action": "update", "data": data})
        events = engine.apply(frame)
        assert isinstance(events[0], FeedError)
        engine.apply(orjson.dumps(partial))
    assert engine.stats.malformed == 5


def test_reset_drops_all_state_and_returns_reset_event() -> None:
    server = capture_server_frames()
    engine = BitmexEngine()
    engine.apply(first(server, subscribe="orderBookL2:LTCUSD"))
    engine.apply(first(server, table="orderBookL2", action="partial", symbol="LTCUSD"))
    engine.apply(first(server, table="quote", action="partial", symbol="LTCUSD"))
    assert engine.reset("reconnect") == [Reset("bitmex", "reconnect")]
    assert engine.book_symbols("orderBookL2") == [] and engine.welcome is None
    assert engine.subscribed_topics() == [] and engine.take_resubscribe() == []
    delete = first(server, table="orderBookL2", action="delete", symbol="LTCUSD")
    assert engine.apply(delete) == []
    assert engine.stats.dropped_before_partial == 1


def test_partial_level_maps_are_rebuilt_equal_with_their_number_types() -> None:
    from app.feeds.bitmex.engine import _compacted

    levels = {8799999999: 60000.5, 8799999998: 60001, 5: -0.5}
    copied = _compacted(levels)
    assert copied == levels and copied is not levels
    assert [type(p) for p in copied.values()] == [float, int, float]
    assert all(a is not b for a, b in zip(copied, levels, strict=True) if a > 256)
    odd = {"a1": 1.0, (1, 2): 2.0}
    assert _compacted(odd) is odd  # other key types are kept as they are
