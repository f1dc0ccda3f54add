"""v3 spot parser against every v3 spot fixture; deflate; increase100 version gaps."""

from __future__ import annotations

import json
import zlib

import pytest
from bitmart_fixtures_io import all_fixture_names, frames

from app.feeds.bitmart.deflate import InflateError, deflate, inflate
from app.feeds.bitmart.parse_v3 import V3Parser
from app.feeds.bitmart.subscriptions import v3_batches, v3_topic_parts
from app.feeds.events import (
    Bars,
    BookLevels,
    FeedError,
    Quote,
    Resync,
    SubscriptionAck,
    Ticker,
    Trades,
)

# Frames in the fixtures that are documentation templates or deliberately incomplete.
EXPECTED_ERRORS = {
    "v3_spot_doc.jsonl": 4,  # login ack (private), template error, two real error examples
    "v3_jkorf_spot_concurrent.jsonl": 2,  # candles with the time only
}


def test_every_v3_fixture_frame_parses() -> None:
    names = all_fixture_names("v3_")
    assert len(names) == 8
    for name in names:
        parser, binary_parser = V3Parser(), V3Parser()
        errors = 0
        for text in frames(name):
            result = parser.parse(text, 0.0)
            assert result.pong or result.events or '"data":[]' in text, text
            errors += sum(isinstance(e, FeedError) for e in result.events)
            # the same frame as a raw-DEFLATE binary frame gives the same events
            assert binary_parser.parse(deflate(text), 0.0).events == result.events
        assert errors == EXPECTED_ERRORS.get(name, 0), name


def test_doc_acks_and_errors() -> None:
    results = [V3Parser().parse(text, 0.0).events for text in frames("v3_spot_doc.jsonl")]
    acks = [e for evs in results for e in evs if isinstance(e, SubscriptionAck)]
    assert {(a.topic, a.op) for a in acks} >= {
        ("spot/ticker:BTC_USDT", "subscribe"),
        ("spot/ticker:ETH_USDT", "unsubscribe"),
        ("spot/depth/increase100:BTC_USDT", "subscribe"),
    }
    errors = [e for evs in results for e in evs if isinstance(e, FeedError)]
    invalid = [e for e in errors if e.status == 90004]
    assert invalid and "Invalid channel param" in invalid[0].message
    assert any(e.status == 91002 for e in errors)


def test_ticker_gives_ticker_and_quote() -> None:
    text = frames("v3_jkorf_spot_ticker.jsonl")[1]
    ticker, quote = V3Parser().parse(deflate(text), 0.0).events
    assert isinstance(ticker, Ticker) and isinstance(quote, Quote)
    assert ticker.symbol == "ETH_USDT" and ticker.last == 35000.0
    assert ticker.change_pct == pytest.approx(-0.01)
    assert ticker.volume == 2.02 and ticker.quote_volume == 70700.0
    assert ticker.timestamp == 1709024652.967
    assert (quote.bid_price, quote.bid_size, quote.ask_price, quote.ask_size) == (
        35000.0,
        11.0,
        36000.0,
        1.021,
    )


def test_old_ticker_shape_without_quote() -> None:
    (ticker,) = V3Parser().parse(frames("v3_ccxt_captured.jsonl")[0], 0.0).events
    assert isinstance(ticker, Ticker) and ticker.change_pct is None
    assert ticker.timestamp == 1630981727.0


@pytest.mark.parametrize(
    ("name", "timeframe"), [("v3_jkorf_spot_kline.jsonl", "1M"), ("v3_spot_doc.jsonl", "1m")]
)
def test_kline_candle(name: str, timeframe: str) -> None:
    parser = V3Parser()
    bars = [e for t in frames(name) for e in parser.parse(t, 0.0).events if isinstance(e, Bars)]
    (ev,) = bars
    assert ev.timeframe == timeframe
    (bar,) = ev.bars
    assert (bar.open_time, bar.open, bar.high, bar.low, bar.close, bar.volume) == (
        1709025360.0,
        162.01,
        162.02,
        162.03,
        162.04,
        336.452694,
    )


def test_depth5_snapshot() -> None:
    (book,) = V3Parser().parse(frames("v3_ccxt_captured.jsonl")[3], 0.0).events
    assert isinstance(book, BookLevels) and book.snapshot and book.symbol == "BTC_USDT"
    assert book.bids[0] == (46820.78, 0.00444) and book.asks[0] == (46828.38, 0.21847)
    assert len(book.bids) == len(book.asks) == 5
    assert book.timestamp == 1631044962.431


def test_trades_side_size_time() -> None:
    (batch,) = V3Parser().parse(frames("v3_ccxt_captured.jsonl")[6], 0.0).events
    assert isinstance(batch, Trades) and not batch.snapshot
    (trade,) = batch.trades
    assert (trade.side, trade.price, trade.size, trade.timestamp) == (
        "Sell",
        64949.02,
        0.00067,
        1709552020.997,
    )


def test_increase100_doc_snapshot_then_update() -> None:
    parser = V3Parser()
    events = [e for t in frames("v3_spot_doc.jsonl")[-5:-2] for e in parser.parse(t, 0.0).events]
    books = [e for e in events if isinstance(e, BookLevels)]
    snap, upd = books[0], books[1]
    assert snap.snapshot and snap.asks == [(23200.0, 0.69959), (28000.0, 0.2)]
    assert not upd.snapshot and upd.asks == [(23200.0, 0.59959)] and upd.bids == []
    assert parser.depth_version("BTC_USDT") == 5


def _incr(kind: str, version: int, asks: list[list[str]] | None = None) -> str:
    row = {
        "asks": asks or [],
        "bids": [],
        "ms_t": 1,
        "symbol": "S_T",
        "type": kind,
        "version": version,
    }
    return json.dumps({"data": [row], "table": "spot/depth/increase100"})


def test_increase100_version_gap_requests_snapshot() -> None:
    parser = V3Parser()
    assert parser.parse(_incr("update", 3, [["1", "1"]]), 0).events == []  # before snapshot
    assert parser.stats.dropped_before_snapshot == 1
    assert isinstance(parser.parse(_incr("snapshot", 10, [["1", "2"]]), 0).events[0], BookLevels)
    assert parser.parse(_incr("update", 10), 0).events == []  # idle heartbeat, same version
    assert parser.parse(_incr("update", 9, [["1", "9"]]), 0).events == []  # old
    applied = parser.parse(_incr("update", 11, [["1", "0"]]), 0).events
    assert isinstance(applied[0], BookLevels) and applied[0].asks == [(1.0, 0.0)]
    gap = parser.parse(_incr("update", 13, [["1", "5"]]), 0)
    assert [type(e) for e in gap.events] == [Resync]
    assert gap.requests == ["spot/depth/increase100:S_T"]
    assert parser.depth_version("S_T") is None
    assert parser.parse(_incr("update", 14, [["1", "5"]]), 0).events == []  # waiting
    assert parser.parse(_incr("snapshot", 20, [["2", "1"]]), 0).events[0].snapshot  # type: ignore[union-attr]
    assert parser.parse(_incr("update", 21, [["2", "3"]]), 0).events
    assert parser.stats.gaps == 1


def test_binary_frames_and_bad_deflate() -> None:
    text = frames("v3_jkorf_spot_trades.jsonl")[1]
    assert inflate(deflate(text)) == text
    # a zlib (not raw) stream is rejected, as is a truncated one
    with pytest.raises(InflateError):
        inflate(zlib.compress(text.encode()))
    with pytest.raises(InflateError):
        inflate(deflate(text)[:10])
    result = V3Parser().parse(deflate(text)[:10], 0.0)
    assert isinstance(result.events[0], FeedError)
    assert V3Parser().parse("pong", 0.0).pong


@pytest.mark.parametrize(
    "frame",
    [
        "garbage",
        '{"table":"spot/depth5","data":{"not":"a list"}}',
        '{"table":"spot/depth5","data":[{"symbol":"A","asks":[["x","1"]],"bids":[]}]}',
        '{"table":"spot/trade","data":[{"symbol":"A","price":"1","size":"1","side":"up"}]}',
        '{"table":"spot/trade","data":[{"symbol":"A","price":"1","size":"1","side":"buy"}]}',
        '{"table":"spot/depth/increase100","data":[{"symbol":"A","type":"odd","version":1}]}',
        '{"table":"spot/kline7m","data":[{"symbol":"A","candle":[1,"1","1","1","1","1"]}]}',
        '{"table":"spot/ticker","data":[{"symbol":"A"}]}',
        '{"event":"subscribe"}',
        '{"hello":"world"}',
    ],
)
def test_bad_frames_become_feed_errors(frame: str) -> None:
    events = V3Parser().parse(frame, 0.0).events
    assert len(events) == 1 and isinstance(events[0], FeedError)


def test_topics_and_batches() -> None:
    assert v3_topic_parts("spot/depth/increase100:BTC_USDT") == (
        "spot/depth/increase100",
        "BTC_USDT",
    )
    with pytest.raises(ValueError):
        v3_topic_parts("spot/depth100:BTC_USDT")
    topics = [f"spot/trade:S{i}_USDT" for i in range(45)]
    batches = list(v3_batches("subscribe", topics))
    assert [len(b["args"]) for b in batches] == [20, 20, 5]
    assert [t for b in batches for t in b["args"]] == topics
