"""Legacy symbol details: URL, parsing, precision fitting, and the client learning each symbol's
range from the simulator before subscribing (or falling back when the details fail)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from bitmart_helpers import (
    Collector,
    fast_gate,
    fast_sim_config,
    forget_shared_fetches,
    unused_port_url,
    wait_until,
)

from app.feeds.bitmart import client_legacy
from app.feeds.bitmart import constants as c
from app.feeds.bitmart.client_legacy import BitmartLegacyClient, BitmartLegacyConfig
from app.feeds.bitmart.details_fetch import fetch_details, load_details
from app.feeds.bitmart.legacy_precision import clamp_precision, resolve_precision
from app.feeds.bitmart.subscriptions import LegacySub, TopicError
from app.feeds.bitmart.symbols_details import (
    DetailsError,
    parse_symbols_details,
    symbols_details_url,
)
from app.feeds.bitmart.venues import validate_legacy
from app.feeds.events import BookLevels, FeedError, SubscriptionAck, Trades
from app.headless.feed import FeedRequest
from app.sim.bitmart.server import BitmartSim

DOC_SAMPLE = (
    '[{"id":"BMX_ETH","base_currency":"BMX","quote_currency":"ETH","quote_increment":"0.1",'
    '"base_min_size":"0.1","base_max_size":"10000000","price_min_precision":6,'
    '"price_max_precision":8,"expiration":"NA"}]'
)


@pytest.fixture(autouse=True)
def _fresh_fetches(monkeypatch: pytest.MonkeyPatch) -> None:
    forget_shared_fetches(monkeypatch)


@pytest.fixture
def closed_port_url() -> str:
    """A details URL nothing answers (connection refused)."""
    return unused_port_url()


# --- pure parts ---------------------------------------------------------------------------
def test_details_url_belongs_to_the_socket_url() -> None:
    assert symbols_details_url(c.LEGACY_URL) == c.LEGACY_DETAILS_URL
    assert symbols_details_url("wss://openws.bitmart.com/") == c.LEGACY_DETAILS_URL
    assert symbols_details_url("ws://127.0.0.1:8766/") == "http://127.0.0.1:8766/v2/symbols_details"
    assert symbols_details_url("wss://mirror.test:9443/x?y=1") == (
        "https://mirror.test:9443/v2/symbols_details"
    )
    config = BitmartLegacyConfig(url="ws://127.0.0.1:5/")
    assert config.details_url() == "http://127.0.0.1:5/v2/symbols_details"
    config.symbols_details_url = "http://elsewhere.test/d"
    assert config.details_url() == "http://elsewhere.test/d"


def test_parse_keeps_well_formed_entries() -> None:
    details = parse_symbols_details(DOC_SAMPLE)
    assert list(details) == ["BMX_ETH"]
    entry = details["BMX_ETH"]
    assert entry.precision_range == (6, 8) and entry.size_step == Decimal("0.1")
    mixed = [
        {"id": "A_B", "price_min_precision": "2", "price_max_precision": "4"},  # numeric text
        {"id": "C_D", "price_min_precision": 5, "price_max_precision": 3},  # min > max
        {"id": "E_F", "price_min_precision": True, "price_max_precision": 4},  # not a number
        {"price_min_precision": 1, "price_max_precision": 2},  # no id
        "G_H",
    ]
    assert {s: d.precision_range for s, d in parse_symbols_details(json.dumps(mixed)).items()} == {
        "A_B": (2, 4)
    }
    for bad in ("<html>busy</html>", "{}", "[]", '[{"id": "A_B"}]', b"\xff\xfe"):
        with pytest.raises(DetailsError):
            parse_symbols_details(bad)


def test_default_precision_is_clamped_and_a_named_one_checked() -> None:
    ranges = {"XBTUSD": (0, 5), "BMX_ETH": (7, 9)}
    assert clamp_precision(6, (0, 5)) == 5 and clamp_precision(6, (7, 9)) == 7
    assert clamp_precision(6, (2, 8)) == 6
    defaulted = LegacySub.parse("order:XBTUSD", 6)
    assert defaulted.defaulted and defaulted.param == 6
    assert resolve_precision(defaulted, ranges, 6).topic == "order:XBTUSD:5"
    assert resolve_precision(LegacySub.parse("trade:BMX_ETH", 6), ranges, 6).param == 7
    assert resolve_precision(LegacySub.parse("order:XBTUSD:3"), ranges, 6).param == 3
    with pytest.raises(TopicError, match=r"precision 6 of XBTUSD outside its range 0\.\.5"):
        resolve_precision(LegacySub.parse("order:XBTUSD:6"), ranges, 6)
    unknown = LegacySub.parse("order:OTHER_X", 6)
    assert resolve_precision(unknown, ranges, 6) == unknown  # no range: sent as asked
    kline = LegacySub.parse("kline:XBTUSD:60")
    assert resolve_precision(kline, ranges, 6) == kline


# --- fetching -------------------------------------------------------------------------------
class _Reply(BaseHTTPRequestHandler):
    status = 200
    body = b""

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        return


def _serve(status: int, body: bytes) -> Iterator[str]:
    handler = type("Reply", (_Reply,), {"status": status, "body": body})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{c.LEGACY_DETAILS_PATH}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def error_url() -> Iterator[str]:
    """An endpoint answering HTTP 500."""
    yield from _serve(500, b"internal error")


@pytest.fixture
def garbage_url() -> Iterator[str]:
    """An endpoint answering 200 with a body that is not the list."""
    yield from _serve(200, b"<html>maintenance</html>")


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield f"http://127.0.0.1:{sock.getsockname()[1]}{c.LEGACY_DETAILS_PATH}"


def test_fetch_failures_are_details_errors(
    closed_port_url: str, error_url: str, garbage_url: str, silent_url: str
) -> None:
    for url, text in (
        (closed_port_url, "refused"),
        (error_url, "HTTP 500"),
        (garbage_url, "not JSON"),
        ("not a url", "unknown url type"),
    ):
        with pytest.raises(DetailsError, match=text):
            fetch_details(url, 1.0)
    started = time.monotonic()
    with pytest.raises(DetailsError, match=r"no answer within 0\.3 s"):
        fetch_details(silent_url, 0.3)
    assert time.monotonic() - started < 1.0


@pytest.mark.asyncio
async def test_one_fetch_is_shared_by_quick_successive_askers() -> None:
    async with BitmartSim(fast_sim_config()) as sim:
        first = await load_details(sim.details_url)
        await sim.stop()  # nothing answers any more: the shared answer is still had
        assert await load_details(sim.details_url) == first
        assert first["BTC_USDT"].precision_range == (
            sim.market.views["BTC_USDT"].min_precision,
            sim.market.views["BTC_USDT"].max_precision,
        )


# --- the client -------------------------------------------------------------------------------
def _sim() -> BitmartSim:
    config = fast_sim_config()
    config.symbols = ["XBTUSD"]  # tick 0.5: precisions 0..5, below the client's default 6
    return BitmartSim(config)


def _client(sim: BitmartSim, sink: Collector, topics: list[str], **kw: Any) -> BitmartLegacyClient:
    config = BitmartLegacyConfig(
        url=sim.legacy_url, symbols=["XBTUSD"], topics=topics, backoff_initial=0.05, **kw
    )
    return BitmartLegacyClient(config, sink, gate=fast_gate())


@pytest.mark.asyncio
async def test_client_clamps_the_default_precision_into_the_symbols_range() -> None:
    async with _sim() as sim:
        sink = Collector()
        client = _client(sim, sink, ["order", "trade"])
        assert client.topics == ["order:XBTUSD:6", "trade:XBTUSD:6"]  # nothing known yet
        task = asyncio.create_task(client.run())
        try:
            await wait_until(lambda: bool(sink.of(BookLevels)) and bool(sink.of(Trades)))
            assert client.config.precision_ranges["XBTUSD"] == (0, 5)
            assert client.topics == ["order:XBTUSD:5", "trade:XBTUSD:5"]
            acks = {a.topic: a.success for a in sink.of(SubscriptionAck)}
            assert acks == {"order:XBTUSD:5": True, "trade:XBTUSD:5": True}
            assert not sink.of(FeedError)
            # a named precision outside the range is refused before anything is sent
            sent = client.stats.subscribes_sent
            with pytest.raises(TopicError, match=r"outside its range 0\.\.5"):
                await client.set_precision("XBTUSD", 6)
            assert client.stats.subscribes_sent == sent
        finally:
            await client.close()
            await task


@pytest.mark.asyncio
async def test_details_are_fetched_once_across_reconnects(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    async def counting(url: str, within: float = c.LEGACY_DETAILS_TIMEOUT) -> Any:
        calls.append(url)
        return await load_details(url, within)

    monkeypatch.setattr(client_legacy, "load_details", counting)
    async with _sim() as sim:
        sink = Collector()
        client = _client(sim, sink, ["order"])
        task = asyncio.create_task(client.run())
        try:
            await wait_until(lambda: client.stats.connects == 1 and bool(sink.of(BookLevels)))
            await sim.drop_connections()
            await wait_until(lambda: client.stats.connects == 2, within=10.0)
            await wait_until(lambda: len(sink.of(SubscriptionAck)) == 2)
            assert calls == [sim.details_url]
            assert {a.topic for a in sink.of(SubscriptionAck)} == {"order:XBTUSD:5"}
        finally:
            await client.close()
            await task


@pytest.mark.asyncio
async def test_named_precision_out_of_range_stops_the_client_before_connecting() -> None:
    async with _sim() as sim:
        sink = Collector()
        client = _client(sim, sink, ["order:XBTUSD:6"])
        with pytest.raises(TopicError, match=r"precision 6 of XBTUSD outside its range 0\.\.5"):
            await asyncio.wait_for(client.run(), 5)
        assert client.stats.connects == 0 and sim.legacy.stats.connections == 0
        await client.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("failing", ["closed_port_url", "error_url", "garbage_url", "silent_url"])
async def test_failed_details_fall_back_to_the_default_and_surface_both_problems(
    failing: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(failing)
    async with _sim() as sim:
        sink = Collector()
        client = _client(sim, sink, ["order"], symbols_details_url=url, details_timeout=0.5)
        started = time.monotonic()
        task = asyncio.create_task(client.run())
        try:
            await wait_until(lambda: len(sink.of(FeedError)) >= 2)
            warning, refusal = sink.of(FeedError)[:2]
            assert warning.message.startswith(f"symbol details unavailable from {url} (")
            assert warning.message.endswith("precisions sent unchecked")
            # the default goes out as before and the server's refusal is reported
            assert "precision 6 out of range 0..5" in refusal.message
            assert client.stats.connects == 1 and time.monotonic() - started < 3.0
            assert client.config.precision_ranges == {}
        finally:
            await client.close()
            await task


# --- the headless topic check -------------------------------------------------------------------
@pytest.mark.asyncio
async def test_topic_check_uses_the_symbols_range(closed_port_url: str) -> None:
    async with _sim() as sim:

        def check(url: str, topics: list[str]) -> str | None:
            return validate_legacy(FeedRequest(c.VENUE_LEGACY, url, ["XBTUSD"], topics))

        # the check blocks while it fetches, so it runs off the loop that serves the simulator
        problem = await asyncio.to_thread(check, sim.legacy_url, ["order:XBTUSD:6"])
        assert problem == "precision 6 of XBTUSD outside its range 0..5: order:XBTUSD:6"
        assert await asyncio.to_thread(check, sim.legacy_url, ["order:XBTUSD:5", "trade"]) is None
        assert await asyncio.to_thread(check, sim.legacy_url, ["order", "trade"]) is None
        assert sim.legacy.stats.connections == 0
    # details that cannot be had leave the decision to the server
    dead_ws = closed_port_url.replace("http://", "ws://").replace(c.LEGACY_DETAILS_PATH, "/")
    assert check(dead_ws, ["order:XBTUSD:6"]) is None
    assert check(dead_ws, ["kline:XBTUSD:2"]) is not None  # syntax errors need no details
