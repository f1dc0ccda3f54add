"""Subscription descriptions for both BitMart protocols, and their request frames.

Legacy topics are written `channel:SYMBOL[:param]`: `price:BMX_ETH`, `kline:BMX_ETH:5`
(step in minutes), `order:BMX_ETH:6` and `trade:BMX_ETH:6` (price precision). v3 topics are
the venue's own `spot/<channel>:SYMBOL` strings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from app.feeds.bitmart import constants as c


class TopicError(ValueError):
    """A topic string or parameter that the protocol does not accept."""


def encode(msg: dict[str, Any]) -> str:
    """A message as a compact JSON text frame (client requests; the simulator's replies too)."""
    return json.dumps(msg, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class LegacySub:
    """One legacy channel/symbol pair; `param` is the precision (order/trade) or step (kline).

    `defaulted` marks an order/trade precision the topic did not name (the client's default,
    which may be moved into the symbol's range); it takes no part in comparisons.
    """

    channel: str
    symbol: str
    param: int | None = None
    defaulted: bool = field(default=False, compare=False)

    @property
    def topic(self) -> str:
        """`channel:SYMBOL[:param]`."""
        base = f"{self.channel}:{self.symbol}"
        return base if self.param is None else f"{base}:{self.param}"

    @property
    def key(self) -> tuple[str, str]:
        """(channel, symbol): one live parameter per channel and symbol."""
        return (self.channel, self.symbol)

    def request(self, op: str = c.LEGACY_KEY_SUBSCRIBE) -> dict[str, Any]:
        """The subscribe (or unsubscribe) request object."""
        msg: dict[str, Any] = {op: self.channel, c.LEGACY_F_SYMBOL: self.symbol}
        if self.channel == c.LEGACY_CH_KLINE:
            msg[c.LEGACY_F_STEP] = self.param if self.param is not None else c.LEGACY_DEFAULT_STEP
        elif self.channel in (c.LEGACY_CH_ORDER, c.LEGACY_CH_TRADE) and self.param is not None:
            msg[c.LEGACY_F_PRECISION] = self.param
        return msg

    def unsubscribe_request(self) -> dict[str, Any]:
        """Unsubscribe mirrors subscribe."""
        return self.request(c.LEGACY_KEY_UNSUBSCRIBE)

    @classmethod
    def parse(cls, topic: str, default_precision: int | None = None) -> LegacySub:
        """Parse `channel:SYMBOL[:param]`, validating channel, step and precision (an order or
        trade topic without one gets `default_precision`, marked `defaulted`)."""
        parts = topic.split(":")
        if len(parts) not in (2, 3) or not parts[1]:
            raise TopicError(f"legacy topic must be channel:SYMBOL[:param]: {topic!r}")
        channel, symbol = parts[0], parts[1]
        if channel not in c.LEGACY_DATA_CHANNELS:
            raise TopicError(f"unknown legacy channel {channel!r} in {topic!r}")
        param: int | None = None
        defaulted = False
        if len(parts) == 3:
            if channel == c.LEGACY_CH_PRICE:
                raise TopicError(f"the price channel takes no parameter: {topic!r}")
            try:
                param = int(parts[2])
            except ValueError:
                raise TopicError(f"parameter must be an integer: {topic!r}") from None
        if channel == c.LEGACY_CH_KLINE:
            param = c.LEGACY_DEFAULT_STEP if param is None else param
            if param not in c.LEGACY_KLINE_STEPS:
                raise TopicError(f"kline step {param} not in {c.LEGACY_KLINE_STEPS}")
        elif channel in (c.LEGACY_CH_ORDER, c.LEGACY_CH_TRADE):
            if param is None:
                param, defaulted = default_precision, default_precision is not None
            if param is not None and not c.LEGACY_PRECISION_MIN <= param <= c.LEGACY_PRECISION_MAX:
                raise TopicError(f"precision {param} out of range in {topic!r}")
        return cls(channel, symbol, param, defaulted)


def v3_topic_parts(topic: str) -> tuple[str, str]:
    """`spot/ticker:BTC_USDT` → ("spot/ticker", "BTC_USDT"), validating the channel."""
    channel, sep, symbol = topic.partition(":")
    if not sep or not symbol:
        raise TopicError(f"v3 topic must be channel:SYMBOL: {topic!r}")
    if channel not in c.V3_CHANNELS:
        raise TopicError(f"unknown v3 channel {channel!r} in {topic!r}")
    return channel, symbol


def v3_batches(op: str, topics: list[str]) -> Iterator[dict[str, Any]]:
    """Requests of at most V3_MAX_ARGS_PER_MESSAGE topics and V3_MAX_SUBSCRIBE_BYTES bytes."""
    batch: list[str] = []
    size = 0
    for topic in topics:
        extra = len(topic.encode()) + 4
        if batch and (
            len(batch) >= c.V3_MAX_ARGS_PER_MESSAGE or size + extra > c.V3_MAX_SUBSCRIBE_BYTES - 64
        ):
            yield {c.V3_F_OP: op, c.V3_F_ARGS: batch}
            batch, size = [], 0
        batch.append(topic)
        size += extra
    if batch:
        yield {c.V3_F_OP: op, c.V3_F_ARGS: batch}
