"""Both BitMart front-ends over one externally driven market show the same book."""

from __future__ import annotations

import asyncio

import pytest
from bitmart_helpers import Collector, LocalBook, fast_gate, fast_sim_config, wait_until

from app.feeds.bitmart.client_legacy import BitmartLegacyClient, BitmartLegacyConfig
from app.feeds.bitmart.client_v3 import BitmartClient, BitmartConfig
from app.feeds.events import BookLevels
from app.sim.bitmart.server import BitmartSim
from app.sim.market.exchange import Exchange


@pytest.mark.asyncio
async def test_legacy_and_v3_clients_see_one_market() -> None:
    exchange = Exchange(["BTC_USDT"], seed=7, demo_activity=False)
    async with BitmartSim(fast_sim_config(), exchange=exchange) as sim:
        assert not sim.owns_exchange
        legacy_sink, v3_sink = Collector(), Collector()
        legacy = BitmartLegacyClient(
            BitmartLegacyConfig(url=sim.legacy_url, topics=["order:BTC_USDT:6"]),
            legacy_sink,
            gate=fast_gate(),
        )
        v3 = BitmartClient(
            BitmartConfig(url=sim.v3_url, topics=["spot/depth/increase100:BTC_USDT"]),
            v3_sink,
            gate=fast_gate(),
        )
        tasks = [asyncio.create_task(legacy.run()), asyncio.create_task(v3.run())]
        try:
            await wait_until(lambda: bool(legacy_sink.of(BookLevels) and v3_sink.of(BookLevels)))
            for _ in range(300):  # the owner of the market drives it
                exchange.step()
            await asyncio.sleep(0.3)
            v3_book = LocalBook("BTC_USDT")
            for event in v3_sink.events:
                v3_book.apply(event)
            legacy_book = LocalBook("BTC_USDT")
            legacy_book.apply(legacy_sink.of(BookLevels)[-1])
            assert v3_book.top(20) == legacy_book.top(20)
            truth = sim.truth("BTC_USDT", depth=20)
            assert legacy_book.top(20) == (truth["bids"], truth["asks"])
        finally:
            await legacy.close()
            await v3.close()
            await asyncio.gather(*tasks)
