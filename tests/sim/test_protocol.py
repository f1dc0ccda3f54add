"""The simulator speaks the BitMEX realtime protocol: raw-socket tests of every reply shape."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app.feeds.bitmex.auth import ApiCredentials, auth_headers, auth_key_expires_args
from app.sim import SimConfig, SimServer
from sim.helpers import Raw, auth_args, is_ack, is_error, is_table, sign

KEY = "simTestKey0000000000000A"
SECRET = "simTestSecret-0000000000000000000000000000000000A"
KEY2 = "simTestKey0000000000000B"
SECRET2 = "simTestSecret-0000000000000000000000000000000000B"


def _config(**kw: object) -> SimConfig:
    base: dict[str, object] = {
        "rate": 40.0,
        "accounts": [(KEY, SECRET), (KEY2, SECRET2)],
        "demo_activity": False,
    }
    base.update(kw)
    return SimConfig(**base)  # type: ignore[arg-type]


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with SimServer(_config()) as server:
        yield server


async def _open(url: str, **kw: object) -> Raw:
    ws = await connect(url, **kw)  # type: ignore[arg-type]
    return Raw(ws)


@pytest.mark.asyncio
async def test_welcome_help_ping(sim: SimServer) -> None:
    raw = await _open(sim.url)
    welcome = await raw.recv()
    assert welcome["info"] == "Welcome to the BitMEX Realtime API."
    assert welcome["limit"] == {}
    assert welcome["heartbeatEnabled"] is False
    assert {"version", "timestamp", "docs"} <= set(welcome)
    await raw.send("help")
    help_msg = await raw.recv()
    ops = ["authKey", "authKeyExpires", "cancelAllAfter", "subscribe", "unsubscribe"]
    assert help_msg["ops"] == ops
    assert "orderBookL2" in help_msg["subscriptionSubjects"]["public"]
    await raw.send("ping")
    assert await raw.recv() == "pong"
    await raw.ws.close()


@pytest.mark.asyncio
async def test_subscribe_acks_echo_request_then_partials(sim: SimServer) -> None:
    raw = await _open(sim.url)
    await raw.recv()
    request = {"op": "subscribe", "args": ["orderBookL2:XBTUSD", "trade:XBTUSD", "instrument"]}
    await raw.send(request)
    for topic in request["args"]:
        ack = await raw.until(is_ack(topic))
        assert ack["request"] == request
    partial = await raw.until(is_table("orderBookL2", "partial"))
    assert partial["keys"] == ["symbol", "id", "side"]
    assert partial["filter"] == {"symbol": "XBTUSD"}
    assert partial["types"]["price"] == "float"
    fields = {"symbol", "id", "side", "size", "price", "timestamp"}
    assert all(fields <= set(r) for r in partial["data"])
    inst = await raw.until(is_table("instrument", "partial"))
    assert inst["filter"] == {}
    xbt = next(r for r in inst["data"] if r["symbol"] == "XBTUSD")
    assert xbt["tickSize"] == 0.5 and xbt["isInverse"] is True and xbt["settlCurrency"] == "XBt"
    assert xbt["multiplier"] == -100_000_000
    eth = next(r for r in inst["data"] if r["symbol"] == "ETHUSD")
    assert eth["tickSize"] == 0.05
    # A single string arg works too, and unsubscribe acks echo as well.
    await raw.send({"op": "unsubscribe", "args": "trade:XBTUSD"})
    ack = await raw.until(is_ack("trade:XBTUSD", "unsubscribe"))
    assert ack["request"] == {"op": "unsubscribe", "args": "trade:XBTUSD"}
    await raw.ws.close()


@pytest.mark.asyncio
async def test_error_shapes(sim: SimServer) -> None:
    raw = await _open(sim.url)
    await raw.recv()
    req = {"op": "subscribe", "args": ["nosuchtable:XBTUSD"]}
    await raw.send(req)
    err = await raw.until(is_error)
    assert err == {"status": 400, "error": "Unknown table: nosuchtable", "meta": {}, "request": req}

    many = {"op": "subscribe", "args": [f"trade:S{i}" for i in range(21)]}
    await raw.send(many)
    err = await raw.until(is_error)
    assert err["error"] == "Too many args sent. Max length is 20." and err["status"] == 400

    await raw.send({"op": "subscribe", "args": ["quote:XBTUSD"]})
    await raw.until(is_ack("quote:XBTUSD"))
    await raw.send({"op": "subscribe", "args": ["quote:XBTUSD"]})
    err = await raw.until(is_error)
    assert "already subscribed to this topic" in err["error"]

    await raw.send({"op": "unsubscribe", "args": ["trade:ETHUSD"]})
    err = await raw.until(is_error)
    assert err["error"].startswith("Not subscribed to trade:ETHUSD.")

    await raw.send({"op": "subscribe", "args": ["position"]})
    err = await raw.until(is_error)
    assert err["status"] == 401
    assert err["error"] == (
        "User requested an account-locked subscription but no authorization was provided."
    )

    await raw.send("{not json")
    err = await raw.until(is_error)
    assert err["status"] == 400
    await raw.send({"op": "frobnicate"})
    err = await raw.until(is_error)
    assert err["request"] == {"op": "frobnicate"}
    await raw.ws.close()


@pytest.mark.asyncio
async def test_url_subscription(sim: SimServer) -> None:
    raw = await _open(sim.url + "?subscribe=quote:XBTUSD,orderBook10:ETHUSD")
    assert "info" in await raw.recv()
    await raw.until(is_ack("quote:XBTUSD"))
    ob10 = await raw.until(is_table("orderBook10", "partial"))
    row = ob10["data"][0]
    assert row["symbol"] == "ETHUSD" and len(row["bids"]) == 10 and len(row["asks"]) == 10
    assert row["bids"][0][0] < row["asks"][0][0]
    await raw.ws.close()


@pytest.mark.asyncio
async def test_auth_key_expires_success_and_private_partials(sim: SimServer) -> None:
    raw = await _open(sim.url)
    await raw.recv()
    req = {"op": "authKeyExpires", "args": auth_args(KEY, SECRET)}
    await raw.send(req)
    ok = await raw.until(lambda m: isinstance(m, dict) and "success" in m)
    assert ok == {"success": True, "request": req}
    private = ["position", "margin", "wallet", "order", "execution"]
    await raw.send({"op": "subscribe", "args": private})
    for table in private:
        partial = await raw.until(is_table(table, "partial"))
        assert partial["filter"]["account"] == 100_001
    # Re-authenticating an authenticated socket is an error.
    await raw.send({"op": "authKeyExpires", "args": auth_args(KEY, SECRET)})
    err = await raw.until(is_error)
    assert err["status"] == 400
    await raw.ws.close()


@pytest.mark.asyncio
async def test_auth_matches_the_client_signing_code(sim: SimServer) -> None:
    creds = ApiCredentials(KEY2, SECRET2)
    raw = await _open(sim.url)
    await raw.recv()
    args = auth_key_expires_args(creds, int(time.time()) + 10)
    await raw.send({"op": "authKeyExpires", "args": args})
    ok = await raw.until(lambda m: isinstance(m, dict) and "success" in m)
    assert ok["success"] is True
    await raw.ws.close()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("args", "status", "text"),
    [
        (lambda: [KEY, int(time.time()) + 30, "0" * 64], 401, "Signature not valid."),
        (lambda: ["unknownKey", int(time.time()) + 30, "0" * 64], 401, "Invalid API Key."),
        (
            lambda: [KEY, int(time.time()) - 5, sign(SECRET, int(time.time()) - 5)],
            401,
            "This request has expired - `expires` is in the past. Current time: ",
        ),
        (
            lambda: [KEY, time.time() + 30, sign(SECRET, int(time.time()) + 30)],
            401,
            "Signature not valid.",
        ),
    ],
)
async def test_auth_failures(sim: SimServer, args: object, status: int, text: str) -> None:
    raw = await _open(sim.url)
    await raw.recv()
    payload = args()  # type: ignore[operator]
    req = {"op": "authKeyExpires", "args": payload}
    await raw.send(req)
    err = await raw.until(is_error)
    assert err["status"] == status
    assert err["error"].startswith(text)
    assert err["request"] == req and err["meta"] == {}
    # Still unauthenticated.
    await raw.send({"op": "subscribe", "args": "order"})
    err = await raw.until(is_error)
    assert err["status"] == 401
    await raw.ws.close()


@pytest.mark.asyncio
async def test_legacy_auth_key_nonce_must_increase(sim: SimServer) -> None:
    nonce = int(time.time() * 1000)
    raw = await _open(sim.url)
    await raw.recv()
    await raw.send({"op": "authKey", "args": [KEY, nonce, sign(SECRET, nonce)]})
    ok = await raw.until(lambda m: isinstance(m, dict) and "success" in m)
    assert ok["success"] is True
    other = await _open(sim.url)
    await other.recv()
    await other.send({"op": "authKey", "args": [KEY, nonce, sign(SECRET, nonce)]})
    err = await other.until(is_error)
    assert err["error"] == f"Nonce is not increasing. This nonce: {nonce}, last nonce: {nonce}"
    await other.send({"op": "authKey", "args": [KEY, nonce + 1, sign(SECRET, nonce + 1)]})
    ok = await other.until(lambda m: isinstance(m, dict) and "success" in m)
    assert ok["success"] is True
    await raw.ws.close()
    await other.ws.close()


@pytest.mark.asyncio
async def test_auth_through_upgrade_headers_and_query(sim: SimServer) -> None:
    creds = ApiCredentials(KEY, SECRET)
    headers = auth_headers(creds, int(time.time()) + 30)
    raw = await _open(sim.url + "?subscribe=margin", additional_headers=headers)
    await raw.recv()
    partial = await raw.until(is_table("margin", "partial"))
    assert partial["filter"] == {"account": 100_001}
    await raw.ws.close()

    expires = int(time.time()) + 30
    query = f"?api-expires={expires}&api-key={KEY2}&api-signature={sign(SECRET2, expires)}"
    raw = await _open(sim.url + query + "&subscribe=position")
    await raw.recv()
    partial = await raw.until(is_table("position", "partial"))
    assert partial["filter"] == {"account": 100_002}
    await raw.ws.close()

    bad = {"api-expires": str(expires), "api-key": KEY, "api-signature": "f" * 64}
    with pytest.raises(InvalidStatus) as info:
        await connect(sim.url, additional_headers=bad)
    assert info.value.response.status_code == 401
    assert b"Signature not valid." in info.value.response.body


@pytest.mark.asyncio
async def test_unknown_path_is_404(sim: SimServer) -> None:
    with pytest.raises(InvalidStatus) as info:
        await connect(f"ws://127.0.0.1:{sim.port}/nope")
    assert info.value.response.status_code == 404


@pytest.mark.asyncio
async def test_connection_rate_limit_answers_429() -> None:
    async with SimServer(_config(connection_limit_per_minute=2)) as sim:
        first = await connect(sim.url)
        second = await connect(sim.url)
        with pytest.raises(InvalidStatus) as info:
            await connect(sim.url)
        assert info.value.response.status_code == 429
        assert "Retry-After" not in info.value.response.headers
        assert sim.rejected_handshakes == 1
        await first.close()
        await second.close()


@pytest.mark.asyncio
async def test_heartbeat_mode_closes_silent_connection() -> None:
    async with SimServer(_config(heartbeat_close_after=0.3)) as sim:
        silent = await _open(sim.url + "?heartbeat=true")
        assert (await silent.recv())["heartbeatEnabled"] is True
        talking = await _open(sim.url + "?heartbeat=true")
        await talking.recv()
        normal = await _open(sim.url)
        await normal.recv()
        started = time.monotonic()
        for _ in range(6):
            await talking.send("ping")
            await asyncio.sleep(0.1)
        with pytest.raises(ConnectionClosed):
            while True:
                await silent.recv(wait=2.0)
        assert time.monotonic() - started < 2.0
        assert silent.ws.close_reason == "heartbeat timeout"
        await talking.sync()
        await normal.sync()
        await talking.ws.close()
        await normal.ws.close()


@pytest.mark.asyncio
async def test_multiplexed_streams_each_with_welcome_and_own_auth(sim: SimServer) -> None:
    raw = await _open(sim.mux_url)
    await raw.send([1, "a", "user_a"])
    await raw.send([1, "b", "user_b"])
    welcomes = [await raw.recv(), await raw.recv()]
    assert {(w[0], w[1], w[2]) for w in welcomes} == {(0, "a", "user_a"), (0, "b", "user_b")}
    assert all(w[3]["info"].startswith("Welcome") for w in welcomes)
    await raw.send([0, "a", "user_a", {"op": "authKeyExpires", "args": auth_args(KEY, SECRET)}])
    await raw.send([0, "b", "user_b", {"op": "authKeyExpires", "args": auth_args(KEY2, SECRET2)}])
    await raw.send([0, "a", "user_a", {"op": "subscribe", "args": "position"}])
    await raw.send([0, "b", "user_b", {"op": "subscribe", "args": "position"}])
    accounts = {}
    for _ in range(2):
        pkt = await raw.until(lambda m: isinstance(m, list) and m[3].get("action") == "partial")
        accounts[pkt[1]] = pkt[3]["filter"]["account"]
    assert accounts == {"a": 100_001, "b": 100_002}
    # The short form from the multiplexing docs subscribes too.
    await raw.send([0, "a", "user_a", {"subscribe": "margin"}])
    ack = await raw.until(lambda m: isinstance(m, list) and m[3].get("subscribe") == "margin")
    assert ack == [
        0,
        "a",
        "user_a",
        {"success": True, "subscribe": "margin", "request": {"subscribe": "margin"}},
    ]
    # A third stream without auth cannot see private tables.
    await raw.send([1, "c", "anon"])
    await raw.send([0, "c", "anon", {"op": "subscribe", "args": "order"}])
    err = await raw.until(lambda m: isinstance(m, list) and m[1] == "c" and "error" in m[3])
    assert err[3]["status"] == 401
    await raw.send([2, "c", "anon"])
    echo = await raw.until(lambda m: isinstance(m, list) and m[0] == 2)
    assert echo == [2, "c", "anon"]
    await raw.ws.close()


@pytest.mark.asyncio
async def test_private_tables_follow_demo_fills(sim: SimServer) -> None:
    raw = await _open(sim.url)
    await raw.recv()
    await raw.send({"op": "authKeyExpires", "args": auth_args(KEY, SECRET)})
    await raw.send({"op": "subscribe", "args": ["order", "execution", "position:XBTUSD", "margin"]})
    await raw.until(is_table("margin", "partial"))
    acct = sim.account(KEY)
    book = sim.exchange.markets["XBTUSD"].book
    best_ask = book.best("Sell")
    assert best_ask is not None
    ask_px = sim.exchange.markets["XBTUSD"].spec.price(best_ask.price)
    order = acct.place_limit("XBTUSD", "Buy", 100, ask_px)  # crosses: fills as taker
    ins = await raw.until(is_table("order", "insert"))
    assert ins["data"][0]["orderID"] == order.order_id and ins["data"][0]["ordStatus"] == "New"
    ex = await raw.until(
        lambda m: is_table("execution", "insert")(m) and m["data"][0]["execType"] == "Trade"
    )
    row = ex["data"][0]
    assert row["lastPx"] == ask_px and row["lastLiquidityInd"] == "RemovedLiquidity"
    assert row["execCost"] < 0 and row["commission"] == 0.00075  # inverse buy costs XBt
    upd = await raw.until(is_table("order", "update"))
    assert upd["data"][0]["orderID"] == order.order_id
    assert upd["data"][0]["cumQty"] + (upd["data"][0]["leavesQty"]) == 100
    pos = await raw.until(is_table("position", "update"))
    prow = pos["data"][0]
    assert prow["currentQty"] > 0 and prow["avgEntryPrice"] == pytest.approx(ask_px, rel=1e-6)
    assert prow["liquidationPrice"] < ask_px
    assert prow["homeNotional"] > 0 and prow["foreignNotional"] == -prow["currentQty"]
    assert prow["currency"] == "XBt" and prow["markPrice"] > 0
    await raw.until(is_table("margin", "update"))
    await raw.ws.close()


@pytest.mark.asyncio
async def test_cancel_all_after_expiry_cancels_orders_and_zero_disarms(sim: SimServer) -> None:
    raw = await _open(sim.url)
    await raw.recv()
    await raw.send({"op": "cancelAllAfter", "args": 1000})
    err = await raw.until(is_error)
    assert err["status"] == 401
    await raw.send({"op": "authKeyExpires", "args": auth_args(KEY, SECRET)})
    await raw.send({"op": "subscribe", "args": ["order", "execution"]})
    await raw.until(is_table("execution", "partial"))
    acct = sim.account(KEY)
    m = sim.exchange.markets["ETHUSD"]
    bid = m.book.best("Buy")
    assert bid is not None
    far = m.spec.price(bid.price - 200)
    orders = [acct.place_limit("ETHUSD", "Buy", 5, far) for _ in range(2)]
    # Armed then disarmed: nothing is canceled.
    await raw.send({"op": "cancelAllAfter", "args": 200})
    reply = await raw.until(lambda m: isinstance(m, dict) and "cancelTime" in m)
    assert reply["request"] == {"op": "cancelAllAfter", "args": 200}
    assert isinstance(reply["cancelTime"], str) and reply["cancelTime"] > reply["now"]
    await raw.send({"op": "cancelAllAfter", "args": [0]})
    reply = await raw.until(lambda m: isinstance(m, dict) and "cancelTime" in m)
    assert reply["cancelTime"] == 0
    await asyncio.sleep(0.4)
    assert all(o.is_open for o in orders)
    # Armed and left to expire: every open order is canceled and reported.
    await raw.send({"op": "cancelAllAfter", "args": 150})
    await raw.until(lambda m: isinstance(m, dict) and "cancelTime" in m)
    canceled: set[str] = set()
    execs: set[str] = set()
    deadline = time.monotonic() + 2.0
    while (len(canceled) < 2 or len(execs) < 2) and time.monotonic() < deadline:
        msg = await raw.recv(wait=2.0)
        if is_table("order", "update")(msg):
            for r in msg["data"]:
                if r.get("ordStatus") == "Canceled":
                    assert r["leavesQty"] == 0
                    canceled.add(r["orderID"])
        if is_table("execution", "insert")(msg):
            for r in msg["data"]:
                if r["execType"] == "Canceled":
                    execs.add(r["orderID"])
    ids = {o.order_id for o in orders}
    assert ids <= canceled and ids <= execs
    assert not acct.open_orders()
    await raw.ws.close()


@pytest.mark.asyncio
async def test_liquidation_of_a_demo_position(sim: SimServer) -> None:
    raw = await _open(sim.url + "?subscribe=liquidation:XBTUSD")
    await raw.recv()
    await raw.send({"op": "authKeyExpires", "args": auth_args(KEY, SECRET)})
    await raw.send({"op": "subscribe", "args": ["position:XBTUSD", "execution"]})
    await raw.until(is_table("execution", "partial"))
    acct = sim.account(KEY)
    acct.set_leverage("XBTUSD", 50)
    acct.place_market("XBTUSD", "Buy", 1000)
    pos = acct.position("XBTUSD")
    assert pos.current_qty > 0 and pos.liquidation_price is not None
    sim.exchange.set_fair("XBTUSD", pos.liquidation_price - 50)
    liq_exec = await raw.until(
        lambda m: is_table("execution", "insert")(m) and m["data"][0]["text"] == "Liquidation"
    )
    assert liq_exec["data"][0]["side"] == "Sell"
    raw.pending.clear()  # the position goes flat after the liquidation execution
    flat = await raw.until(
        lambda m: is_table("position", "update")(m) and m["data"][0]["currentQty"] == 0
    )
    assert flat["data"][0]["realisedPnl"] < 0
    ins = await raw.until(is_table("liquidation", "insert"))
    assert set(ins["data"][0]) == {"orderID", "symbol", "side", "price", "leavesQty"}
    await raw.ws.close()


@pytest.mark.asyncio
async def test_demo_account_keeps_trading_on_its_own() -> None:
    config = SimConfig(rate=400.0, accounts=[(KEY, SECRET)], demo_interval=0.05)
    async with SimServer(config) as sim:
        raw = await _open(sim.url)
        await raw.recv()
        await raw.send({"op": "authKeyExpires", "args": auth_args(KEY, SECRET)})
        await raw.send({"op": "subscribe", "args": ["order", "execution", "position"]})
        partial = await raw.until(is_table("order", "partial"))
        assert partial["data"] and all(
            r["ordStatus"] in ("New", "PartiallyFilled") for r in partial["data"]
        )
        positions = await raw.until(is_table("position", "partial"))
        assert {r["symbol"] for r in positions["data"]} == {"XBTUSD", "ETHUSD"}
        fill = await raw.until(
            lambda m: is_table("execution", "insert")(m) and m["data"][0]["execType"] == "Trade",
            wait=5.0,
        )
        assert fill["data"][0]["lastQty"] > 0
        await raw.until(is_table("position", "update"))
        await raw.ws.close()


@pytest.mark.asyncio
async def test_stall_stops_output_and_pongs_until_released(sim: SimServer) -> None:
    raw = await _open(sim.url + "?subscribe=orderBookL2:XBTUSD")
    await raw.until(is_table("orderBookL2", "partial"))
    assert sim.faults.stall() == 1
    await asyncio.sleep(0.05)
    raw.pending.clear()
    pong_waiter = await raw.ws.ping()
    await raw.send("ping")
    quiet = await raw.collect(lambda m: True, 0.4)
    assert quiet == [] and not pong_waiter.done()
    sim.faults.release()
    await asyncio.wait_for(pong_waiter, 2.0)
    await raw.until(lambda m: m == "pong")
    await raw.until(is_table("orderBookL2"))
    await raw.ws.close()


@pytest.mark.asyncio
async def test_malformed_and_unknown_row_faults_reach_raw_sockets(sim: SimServer) -> None:
    raw = await _open(sim.url + "?subscribe=orderBookL2_25:ETHUSD")
    await raw.until(is_table("orderBookL2_25", "partial"))
    assert sim.send_unknown_row("ETHUSD") == 1
    row = await raw.until(
        lambda m: is_table("orderBookL2_25", "update")(m) and m["data"][0]["id"] == 1
    )
    assert row["data"][0]["symbol"] == "ETHUSD"
    assert sim.send_malformed() == 1
    with pytest.raises(ValueError):
        while True:
            await raw.recv()
    await raw.ws.close()


def test_secrets_never_appear_in_reprs() -> None:
    config = _config()
    assert SECRET not in repr(config) and KEY in repr(config)
    sim = SimServer(config)
    creds = sim.accounts[0]
    assert creds.secret == SECRET and SECRET not in repr(creds)
    assert SECRET not in repr(sim.exchange.account(KEY))
    assert SECRET not in repr(sim.account(KEY).account)
