"""`depthdesk feed|record|replay --venue bitmart-legacy|bitmart`: the headless venue entries.

`register_bitmart_venues()` adds both BitMart protocols to the headless venue registry
(`app.headless.feed.register_venue`). The registry module calls it once at import; the import
of the registry happens inside the function, so this feed package does not load the headless
layer unless asked to.
"""

from __future__ import annotations

from typing import Any

from app.feeds.bitmart import constants as c
from app.feeds.bitmart.legacy_precision import needs_range
from app.feeds.bitmart.subscriptions import TopicError

LEGACY_DEFAULT_TOPICS = (
    c.LEGACY_CH_PRICE,
    c.LEGACY_CH_KLINE,
    c.LEGACY_CH_ORDER,
    c.LEGACY_CH_TRADE,
)
V3_DEFAULT_TOPICS = (
    c.V3_CH_TICKER,
    f"{c.V3_CH_KLINE_PREFIX}1m",
    c.V3_CH_DEPTH_INCREASE,
    c.V3_CH_TRADE,
)


def make_legacy_client(request: Any, on_event: Any, on_raw: Any) -> Any:
    """A legacy client for a headless FeedRequest (url, symbols, topics)."""
    from app.feeds.bitmart.client_legacy import BitmartLegacyClient, BitmartLegacyConfig

    config = BitmartLegacyConfig(
        url=request.url, symbols=list(request.symbols), topics=list(request.topics)
    )
    return BitmartLegacyClient(config, on_event, on_raw=on_raw)


def make_v3_client(request: Any, on_event: Any, on_raw: Any) -> Any:
    """A v3 client for a headless FeedRequest."""
    from app.feeds.bitmart.client_v3 import BitmartClient, BitmartConfig

    config = BitmartConfig(url=request.url, symbols=list(request.symbols), topics=request.topics)
    return BitmartClient(config, on_event, on_raw=on_raw)


def validate_legacy(request: Any) -> str | None:
    """A readable problem with the requested legacy topics, or None.

    A named order/trade precision is checked against the symbol's range from the symbol
    details (fetched here, waiting at most the details timeout; the client reuses the answer).
    When the details cannot be had the precision passes and the server decides.
    """
    from app.feeds.bitmart.client_legacy import BitmartLegacyConfig, expand_legacy_topics
    from app.feeds.bitmart.details_fetch import fetch_details
    from app.feeds.bitmart.symbols_details import DetailsError

    config = BitmartLegacyConfig(url=request.url, symbols=list(request.symbols))
    try:
        subs = expand_legacy_topics(config, request.topics)
        if not any(needs_range(sub) and not sub.defaulted for sub in subs):
            return None
        try:
            details = fetch_details(config.details_url(), config.details_timeout)
        except DetailsError:
            return None
        config.precision_ranges.update({s: d.precision_range for s, d in details.items()})
        expand_legacy_topics(config, request.topics)
    except TopicError as exc:
        return str(exc)
    return None


def validate_v3(request: Any) -> str | None:
    """A readable problem with the requested v3 topics, or None."""
    from app.feeds.bitmart.client_v3 import expand_v3_topics

    try:
        topics = expand_v3_topics(request.symbols, request.topics)
    except TopicError as exc:
        return str(exc)
    if len(topics) > c.V3_MAX_TOPICS_PER_CONNECTION:
        return f"{len(topics)} topics exceed {c.V3_MAX_TOPICS_PER_CONNECTION} per connection"
    return None


def _client_counters(stats: Any, dropped_before_partial: int) -> Any:
    """`--book-out` counters from a client's connection stats."""
    from app.headless.feed import FeedCounters

    return FeedCounters(
        reconnects=stats.reconnects,
        resyncs=stats.resyncs,
        dropped_before_partial=dropped_before_partial,
        connected=stats.connects > 0,
        last_error=stats.last_error,
    )


def legacy_counters(client: Any) -> Any:
    """`--book-out` counters of a legacy client."""
    return _client_counters(client.stats, 0)


def v3_counters(client: Any) -> Any:
    """`--book-out` counters of a v3 client (updates dropped before a snapshot included)."""
    return _client_counters(client.stats, client.parser.stats.dropped_before_snapshot)


def make_legacy_replayer() -> Any:
    """A frame replayer for legacy recordings."""
    from app.feeds.bitmart.replay import LegacyReplayer

    return LegacyReplayer()


def make_v3_replayer() -> Any:
    """A frame replayer for v3 recordings."""
    from app.feeds.bitmart.replay import V3Replayer

    return V3Replayer()


def legacy_replayer_counters(replayer: Any) -> Any:
    """Counters of a legacy replay."""
    from app.headless.feed import FeedCounters

    return FeedCounters(connected=True)


def v3_replayer_counters(replayer: Any) -> Any:
    """Counters of a v3 replay."""
    from app.headless.feed import FeedCounters

    stats = replayer.parser.stats
    return FeedCounters(
        resyncs=stats.gaps, dropped_before_partial=stats.dropped_before_snapshot, connected=True
    )


def register_bitmart_venues() -> None:
    """Add `bitmart-legacy` and `bitmart` to the headless venue registry."""
    from app.headless.feed import VenueSpec, register_venue

    register_venue(
        VenueSpec(
            name=c.VENUE_LEGACY,
            description="BitMart legacy openws (price, kline, order→depth, trade)",
            live_url=c.LEGACY_URL,
            testnet_url=None,
            default_topics=LEGACY_DEFAULT_TOPICS,
            make_client=make_legacy_client,
            client_counters=legacy_counters,
            make_replayer=make_legacy_replayer,
            replayer_counters=legacy_replayer_counters,
            validate=validate_legacy,
        )
    )
    register_venue(
        VenueSpec(
            name=c.VENUE_V3,
            description="BitMart v3 spot (ticker, kline, depth5/20/50, depth/increase100, trade)",
            live_url=c.V3_URL,
            testnet_url=None,
            default_topics=V3_DEFAULT_TOPICS,
            make_client=make_v3_client,
            client_counters=v3_counters,
            make_replayer=make_v3_replayer,
            replayer_counters=v3_replayer_counters,
            validate=validate_v3,
        )
    )
