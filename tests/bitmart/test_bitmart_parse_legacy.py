"""Legacy openws parser against every legacy fixture, plus de-duplication and bad input."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from bitmart_fixtures_io import all_fixture_names, frames, requests

from app.feeds.bitmart.parse_legacy import LegacyParser, LegacyTicker
from app.feeds.bitmart.subscriptions import LegacySub
from app.feeds.events import Bars, BookLevels, FeedError, SubscriptionAck, Trades


def _parser_for(name: str) -> LegacyParser:
    parser = LegacyParser()
    for req in requests(name):
        channel = req["subscribe"]
        if channel == "ping":
            continue
        param = req.get("step", req.get("precision"))
        parser.expect(channel, req["symbol"], param)
    return parser


def test_every_legacy_fixture_parses_without_errors() -> None:
    names = all_fixture_names("legacy_")
    assert len(names) == 7
    for name in names:
        parser = _parser_for(name)
        if name == "legacy_captured_trade.jsonl":
            parser.expect("trade", "BMX_BTC", 6)
        for text in frames(name):
            result = parser.parse(text, 0.0)
            assert not [e for e in result.events if isinstance(e, FeedError)], name
            assert result.pong or result.events, name


def test_ping_pong() -> None:
    assert requests("legacy_ping.jsonl") == [{"subscribe": "ping"}]
    result = LegacyParser().parse(frames("legacy_ping.jsonl")[0], 0.0)
    assert result.pong and result.events == []


def test_price_ticker_fluctuation_and_rate_unit() -> None:
    parser = _parser_for("legacy_price.jsonl")
    events = parser.parse(frames("legacy_price.jsonl")[0], 0.0).events
    ack, ticker = events
    assert isinstance(ack, SubscriptionAck) and ack.topic == "price:BMX_ETH"
    assert isinstance(ticker, LegacyTicker)
    assert ticker.last == 0.000112
    assert ticker.change_pct == pytest.approx(2.75)
    assert ticker.high == 0.000122 and ticker.low == 0.000094
    assert ticker.quote_volume == 2396.650514
    assert ticker.rate == 0.05 and ticker.rate_unit == "USD"
    assert ticker.timestamp == 1532033149.669


def test_negative_fluctuation_keeps_sign() -> None:
    parser = LegacyParser()
    parser.expect("price", "X_Y", None)
    msg = {
        "subscribe": "price",
        "symbol": "X_Y",
        "data": {"current_price": "1.5", "fluctuation": "-0.1234", "rate": "2 USD"},
    }
    ticker = parser.parse(json.dumps(msg), 0.0).events[-1]
    assert isinstance(ticker, LegacyTicker)
    assert ticker.change_pct == pytest.approx(-12.34)


def test_kline_bucketed_by_step() -> None:
    parser = _parser_for("legacy_kline.jsonl")
    events = parser.parse(frames("legacy_kline.jsonl")[0], 0.0).events
    bars = events[-1]
    assert isinstance(bars, Bars) and bars.timeframe == "1m" and bars.symbol == "BMX_ETH"
    (bar,) = bars.bars
    assert bar.open_time == 1532033100.0  # 1532033149669 ms floored to the minute
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (
        0.000112,
        0.000112,
        0.000112,
        0.000112,
        0.0,
    )


def test_kline_step_five_and_stale_bucket_dropped() -> None:
    parser = LegacyParser()
    parser.expect("kline", "A_B", 5)

    def push(ts: int) -> list[Bars]:
        msg = {
            "subscribe": "kline",
            "symbol": "A_B",
            "step": "5",
            "data": {
                "open_price": "1",
                "highest_price": "2",
                "lowest_price": "0.5",
                "current_price": "1.5",
                "volume": "10",
                "timestamp": ts,
            },
        }
        return [e for e in parser.parse(json.dumps(msg), 0.0).events if isinstance(e, Bars)]

    first = push(1_700_000_123_000)
    assert first[0].timeframe == "5m"
    assert first[0].bars[0].open_time == 1_700_000_100.0
    assert push(1_700_000_400_000)[0].bars[0].open_time == 1_700_000_400.0
    assert push(1_700_000_123_000) == []  # older bucket: stale


def test_depth_reply_is_a_full_snapshot_in_best_first_order() -> None:
    name = "legacy_depth.jsonl"
    assert requests(name) == [{"subscribe": "order", "symbol": "BMX_ETH", "precision": 6}]
    parser = _parser_for(name)
    ack, book = parser.parse(frames(name)[0], 0.0).events
    assert isinstance(ack, SubscriptionAck) and ack.topic == "order:BMX_ETH:6"
    assert isinstance(book, BookLevels) and book.snapshot
    assert len(book.bids) == 20 and len(book.asks) == 20
    assert book.bids[0] == (0.000111, 30657.0) and book.bids[-1] == (0.000092, 66343.53)
    assert book.asks[0] == (0.000113, 7734.95) and book.asks[-1] == (0.000133, 50000.0)
    assert book.bids[0][0] < book.asks[0][0]
    # the exact cumulative totals of the doc sample match the amounts we parsed
    raw = json.loads(frames(name)[0], parse_float=Decimal)
    running = Decimal(0)
    for row in raw["data"]["buys"]:
        running += Decimal(row["amount"])
        assert running == Decimal(row["total"])


def test_depth_of_another_precision_is_dropped() -> None:
    parser = LegacyParser()
    parser.expect("order", "BMX_ETH", 7)
    assert parser.parse(frames("legacy_depth.jsonl")[0], 0.0).events == []


def test_trades_size_is_count_and_notional_is_amount_oldest_first() -> None:
    name = "legacy_trades.jsonl"
    parser = _parser_for(name)
    ack, batch = parser.parse(frames(name)[0], 0.0).events
    assert isinstance(ack, SubscriptionAck) and ack.topic == "trade:BMX_ETH:6"
    assert isinstance(batch, Trades) and batch.snapshot
    assert len(batch.trades) == 15
    times = [t.timestamp for t in batch.trades]
    assert times == sorted(times)
    newest = batch.trades[-1]
    assert newest.size == 18556.0 and newest.notional == 2.078272 and newest.side == "Buy"
    assert newest.trade_id is None
    raw = json.loads(frames(name)[0], parse_float=Decimal)
    for row in raw["data"]["trades"]:
        assert Decimal(row["count"]) * Decimal(row["price"]) == Decimal(row["amount"])


def test_captured_trade_uses_count_as_size() -> None:
    parser = LegacyParser()
    parser.expect("trade", "BMX_BTC", 6)
    batch = parser.parse(frames("legacy_captured_trade.jsonl")[0], 0.0).events[-1]
    assert isinstance(batch, Trades)
    assert [(t.side, t.size, t.price) for t in batch.trades] == [
        ("Buy", 425.5, 0.00000343),
        ("Sell", 156.4, 0.00000343),
    ]
    assert batch.trades[1].notional == 0.00053645


def _trade_msg(rows: list[tuple[str, str, str, int]]) -> str:
    trades = [
        {
            "side": side,
            "price": price,
            "count": count,
            "amount": str(Decimal(price) * Decimal(count)),
            "time": t,
        }
        for side, price, count, t in rows
    ]
    return json.dumps({"subscribe": "trade", "symbol": "A_B", "data": {"trades": trades}})


def test_trade_dedup_across_pushes_and_identical_prints() -> None:
    parser = LegacyParser()
    parser.expect("trade", "A_B", 6)
    first = [("buy", "1.0", "2", 1000), ("sell", "1.0", "2", 900)]
    batch = parser.parse(_trade_msg(first), 0.0).events[-1]
    assert isinstance(batch, Trades) and batch.snapshot and len(batch.trades) == 2
    # the next push repeats both and adds two identical new prints at the same millisecond
    second = [("buy", "1.1", "3", 1100), ("buy", "1.1", "3", 1100), *first]
    batch = parser.parse(_trade_msg(second), 0.0).events[-1]
    assert isinstance(batch, Trades) and not batch.snapshot
    assert [(t.price, t.size, t.timestamp) for t in batch.trades] == [(1.1, 3.0, 1.1)] * 2
    # a full repeat yields nothing
    assert parser.parse(_trade_msg(second), 0.0).events == []
    assert parser.duplicates == 2 + 4
    # same key text in another notation ("1.10" vs "1.1") is the same exact trade
    third = [("buy", "1.10", "3.0", 1100), ("sell", "1.2", "1", 1200)]
    batch = parser.parse(_trade_msg(third), 0.0).events[-1]
    assert isinstance(batch, Trades) and [t.price for t in batch.trades] == [1.2]


def test_resubscribe_starts_a_new_trade_image() -> None:
    parser = LegacyParser()
    parser.expect("trade", "A_B", 6)
    msg = _trade_msg([("buy", "1", "1", 1000)])
    parser.parse(msg, 0.0)
    parser.reset()
    events = parser.parse(msg, 0.0).events
    assert isinstance(events[0], SubscriptionAck)
    batch = events[-1]
    assert isinstance(batch, Trades) and batch.snapshot and len(batch.trades) == 1


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1,2]",
        '{"subscribe":"depth","symbol":"BMX_ETH","data":{"buys":[{"price":"x","amount":"1"}]}}',
        '{"subscribe":"depth","symbol":"BMX_ETH","data":{"buys":"nope"}}',
        '{"subscribe":"trade","symbol":"BMX_ETH","data":{"trades":[{"side":"up"}]}}',
        '{"subscribe":"price","symbol":"BMX_ETH","data":{}}',
        '{"subscribe":"kline","symbol":"BMX_ETH","step":"1","data":{"timestamp":"soon"}}',
        '{"subscribe":"weird","symbol":"BMX_ETH","data":{}}',
        '{"subscribe":"depth","data":{}}',
    ],
)
def test_bad_frames_become_feed_errors(frame: str) -> None:
    parser = LegacyParser()
    for channel in ("order", "trade", "price", "kline"):
        parser.expect(channel, "BMX_ETH", 1 if channel == "kline" else 6)
    events = parser.parse(frame, 0.0).events
    assert len(events) == 1 and isinstance(events[0], FeedError)


def test_error_message_field_is_surfaced() -> None:
    events = LegacyParser().parse('{"message":"symbol not found","subscribe":"price"}', 0.0).events
    assert isinstance(events[0], FeedError) and events[0].message == "symbol not found"


def test_bare_decimal_numbers_are_exact() -> None:
    parser = LegacyParser()
    parser.expect("order", "A_B", 8)
    frame = '{"subscribe":"depth","symbol":"A_B","precision":8,"data":{"buys":'
    frame += '[{"price":0.00000343,"amount":156.4}],"sells":[{"price":"0.00000344","amount":"1"}]}}'
    book = parser.parse(frame, 0.0).events[-1]
    assert isinstance(book, BookLevels)
    assert book.bids == [(float(Decimal("0.00000343")), 156.4)]


def test_topics_and_requests() -> None:
    sub = LegacySub.parse("order:BMX_ETH:7")
    assert sub.request() == {"subscribe": "order", "symbol": "BMX_ETH", "precision": 7}
    assert sub.unsubscribe_request() == {
        "unsubscribe": "order",
        "symbol": "BMX_ETH",
        "precision": 7,
    }
    assert LegacySub.parse("kline:A_B").request() == {
        "subscribe": "kline",
        "symbol": "A_B",
        "step": 1,
    }
    assert LegacySub.parse("price:A_B").request() == {"subscribe": "price", "symbol": "A_B"}
    for bad in ("kline:A_B:2", "depth:A_B", "order:A_B:99", "price", "price:A_B:3"):
        with pytest.raises(ValueError):
            LegacySub.parse(bad)
