"""BitMEX realtime client: one WebSocket, auth, subscriptions, partial tracking, reconnects.

`BitmexClient` drives a venue-neutral `ConnectionHandler` (back-off, budget, watchdog,
heartbeat, statuses) with a `BitmexSession`. The per-connection BitMEX protocol logic (auth
frames, subscribe batches, partial timeouts, resubscribes after a resync or a requested fresh
book) lives in `BitmexProtocol`, which the multiplexed client reuses once per stream.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import orjson

from app.feeds.bitmex.auth import (
    ApiCredentials,
    NonceSource,
    auth_key_args,
    auth_key_expires_args,
)
from app.feeds.bitmex.constants import (
    AUTH_EXPIRES_AHEAD_S,
    BACKOFF_INITIAL_S,
    BACKOFF_MAX_S,
    BOOK_TABLES,
    CONNECTIONS_PER_HOUR,
    HEARTBEAT_PING_INTERVAL_S,
    HEARTBEAT_QUERY,
    L2_TABLES,
    LIVE_URL,
    MAX_ARGS_PER_SUBSCRIBE,
    NO_SYMBOL_TABLES,
    OP_AUTH_KEY,
    OP_AUTH_KEY_EXPIRES,
    OP_CANCEL_ALL_AFTER,
    OP_SUBSCRIBE,
    OP_UNSUBSCRIBE,
    PARTIAL,
    PARTIAL_TIMEOUT_S,
    PING,
    PONG,
    PONG_TIMEOUT_S,
    PRIVATE_TABLES,
    RATE_LIMITED_WAIT_S,
    VENUE,
    WATCHDOG_IDLE_S,
)
from app.feeds.bitmex.engine import BitmexEngine, parse_topic
from app.feeds.connection import (
    ConnectionBudget,
    ConnectionHandler,
    ConnectionSettings,
    ConnectionStats,
    FeedFatal,
    Frame,
    PendingTracker,
    Reconnect,
    shared_budget,
)
from app.feeds.events import AuthResult, Event, FeedError, Resync

AuthMode = Literal["expires", "nonce"]
Message = dict[str, Any]


@dataclass
class BitmexConfig:
    """Everything one BitMEX connection needs; timings are injectable for tests.

    Subscriptions: each entry of `topics` is a bare table ("orderBookL2", subscribed once per
    entry of `symbols`, or unfiltered when `symbols` is empty) or an explicit "table:SYMBOL".
    Tables listed in `whole_tables` are subscribed unfiltered (every symbol) whatever
    `symbols` says, e.g. `symbols=["XBTUSD"], topics=["orderBookL2", "trade"],
    whole_tables=["instrument", "liquidation"]`; a bare table named in `whole_tables` stays
    whole in later `subscribe()`/`unsubscribe()` calls too. Tables that never take a filter
    (margin, wallet...) are always whole.

    At most one book table (orderBookL2, orderBookL2_25, orderBook10) per symbol, and an
    unfiltered book table excludes any other: their book events would fold into one book.
    A configuration breaking that raises ValueError("one book table per symbol: ...").
    """

    url: str = LIVE_URL
    symbols: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    whole_tables: list[str] = field(default_factory=list)
    credentials: ApiCredentials | None = None
    auth_mode: AuthMode = "expires"
    auth_expires_in: int = AUTH_EXPIRES_AHEAD_S
    heartbeat_mode: bool = False
    heartbeat_interval: float = HEARTBEAT_PING_INTERVAL_S
    watchdog_idle: float = WATCHDOG_IDLE_S
    pong_timeout: float = PONG_TIMEOUT_S
    partial_timeout: float = PARTIAL_TIMEOUT_S
    auth_timeout: float = PARTIAL_TIMEOUT_S
    backoff_initial: float = BACKOFF_INITIAL_S
    backoff_max: float = BACKOFF_MAX_S
    backoff_jitter: float = 0.2
    stable_after: float = 60.0
    rate_limited_wait: float = RATE_LIMITED_WAIT_S
    connections_per_hour: int = CONNECTIONS_PER_HOUR
    open_timeout: float = 10.0
    max_failures: int | None = None
    venue: str = VENUE

    def __post_init__(self) -> None:
        self.subscriptions()  # rejects conflicting book tables at configuration time

    def expand(self, topics: Iterable[str]) -> list[str]:
        """Wire topics of `topics` under this configuration's symbols and whole tables."""
        return expand_topics(topics, self.symbols, self.whole_tables)

    def subscriptions(self) -> list[str]:
        """Every wire topic this configuration subscribes (ValueError on conflicting books)."""
        topics = self.expand([*self.topics, *self.whole_tables])
        check_book_tables(topics)
        return topics

    def budget(self) -> ConnectionBudget:
        """The connection budget of this venue host, shared by every client in the process."""
        host = urlsplit(self.url).netloc or self.url
        return shared_budget(f"{self.venue}:{host}", self.connections_per_hour)

    def connection_settings(self) -> ConnectionSettings:
        """The venue-neutral part of this configuration."""
        return ConnectionSettings.of(
            self,
            heartbeat_interval=self.heartbeat_interval if self.heartbeat_mode else None,
            connections_per_window=self.connections_per_hour,
        )


@dataclass
class ClientStats(ConnectionStats):
    """Connection counters plus the BitMEX subscription bookkeeping."""

    resubscribes: int = 0
    partial_timeouts: int = 0
    auth_failures: int = 0


def table_of(topic: str) -> str:
    """The table name of a topic ("orderBookL2:XBTUSD" -> "orderBookL2")."""
    return topic.split(":", 1)[0]


def expand_topics(
    topics: Iterable[str], symbols: Sequence[str], whole_tables: Iterable[str] = ()
) -> list[str]:
    """Bare tables become one topic per symbol; no-symbol tables, tables in `whole_tables`
    and explicit filters stay as they are.

    Order is preserved and duplicates dropped.
    """
    whole = {t.strip() for t in whole_tables}
    out: list[str] = []
    seen: set[str] = set()
    for raw in topics:
        topic = raw.strip()
        if not topic:
            continue
        if ":" in topic or topic in NO_SYMBOL_TABLES or topic in whole or not symbols:
            expanded = [topic]
        else:
            expanded = [f"{topic}:{symbol}" for symbol in symbols]
        for item in expanded:
            if item not in seen:
                seen.add(item)
                out.append(item)
    return out


def check_book_tables(topics: Iterable[str]) -> None:
    """ValueError unless every symbol is covered by at most one book topic.

    A bare (unfiltered) book table covers every symbol, so it admits no other book topic.
    """
    covered: dict[str, str] = {}
    for topic in topics:
        table, _, symbol = topic.partition(":")
        if table not in BOOK_TABLES:
            continue
        clash = covered.get(symbol) or covered.get("")
        if clash is None and not symbol and covered:
            clash = next(iter(covered.values()))
        if clash is not None and clash != topic:
            raise ValueError(f"one book table per symbol: {clash} and {topic}")
        covered[symbol] = topic


def batches(items: Sequence[str], size: int = MAX_ARGS_PER_SUBSCRIBE) -> list[list[str]]:
    """Split into consecutive lists of at most `size` items."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def is_private(topic: str) -> bool:
    """True for topics of tables that require authentication."""
    return table_of(topic) in PRIVATE_TABLES


class BitmexProtocol:
    """BitMEX protocol logic of one logical connection (a socket, or one multiplexed stream).

    Produces outgoing messages (dicts) and consumes decoded incoming messages, feeding the engine
    and forwarding its events. Tracks which topics still wait for their partial.
    """

    def __init__(
        self,
        config: BitmexConfig,
        engine: BitmexEngine,
        emit: Callable[[Event], None],
        *,
        wall_clock: Callable[[], float] = time.time,
        nonces: NonceSource | None = None,
        stats: ClientStats | None = None,
    ) -> None:
        self.config = config
        self.stats = stats or ClientStats()
        self.engine = engine
        self.emit = emit
        self.wall_clock = wall_clock
        self.nonces = nonces or NonceSource(wall_clock)
        self.topics: list[str] = config.subscriptions()
        self.waiting = PendingTracker(config.partial_timeout)
        self.authenticated = False
        self.auth_failed: str | None = None
        self._auth_due: float | None = None
        self._refresh_due: float | None = None  # when requested fresh books are resubscribed
        self._deferred: list[str] = []
        self._dirty = False

    # -- outgoing -----------------------------------------------------------------------------

    def open_messages(self, now: float) -> list[Message]:
        """A fresh connection: reset table state, authenticate, subscribe everything."""
        if self._dirty:
            self._forward(self.engine.reset("reconnected"))
        self._dirty = False
        self.authenticated = False
        self.waiting.clear()
        self._refresh_due = None
        messages: list[Message] = []
        public = self.topics
        self._deferred = []
        self._auth_due = None
        if self.config.credentials is not None:
            messages.append(self.auth_message())
            self._auth_due = now + self.config.auth_timeout
            public = [t for t in self.topics if not is_private(t)]
            self._deferred = [t for t in self.topics if is_private(t)]
        messages.extend(self.subscribe_messages(public, now))
        return messages

    def auth_message(self) -> Message:
        """authKeyExpires with a fresh integer `expires`, or legacy authKey with a new nonce."""
        creds = self.config.credentials
        if creds is None:
            raise FeedFatal("authentication requested without credentials", auth=True)
        if self.config.auth_mode == "nonce":
            return {"op": OP_AUTH_KEY, "args": auth_key_args(creds, self.nonces.next())}
        expires = int(self.wall_clock()) + int(self.config.auth_expires_in)
        return {"op": OP_AUTH_KEY_EXPIRES, "args": auth_key_expires_args(creds, expires)}

    def subscribe_messages(self, topics: Sequence[str], now: float) -> list[Message]:
        """Subscribe ops in batches of at most 20 args; each topic then waits for a partial."""
        for topic in topics:
            self.waiting.expect(topic, now)
        self.engine.mark_subscribed(topics)
        return [{"op": OP_SUBSCRIBE, "args": batch} for batch in batches(topics)]

    def unsubscribe_messages(self, topics: Sequence[str]) -> list[Message]:
        """Unsubscribe ops in batches of at most 20 args."""
        for topic in topics:
            self.waiting.done(topic)
        self.engine.mark_unsubscribed(topics)
        return [{"op": OP_UNSUBSCRIBE, "args": batch} for batch in batches(topics)]

    def resubscribe_messages(self, topics: Sequence[str], now: float) -> list[Message]:
        """Unsubscribe then subscribe again, for a fresh partial."""
        if not topics:
            return []
        self.stats.resubscribes += len(topics)
        return self.unsubscribe_messages(topics) + self.subscribe_messages(topics, now)

    def request_fresh_book(self, symbol: str, reason: str, now: float) -> bool:
        """Void `symbol`'s orderBookL2/orderBookL2_25 state and resubscribe its topic for a
        fresh partial: the symbol's own topic, or the whole table when it is subscribed
        unfiltered (every symbol's book of it then waits for the partial). The engine's
        `Resync` is emitted here; the resubscribe goes out from `tick`, due at once.

        False when there is nothing to request: no L2 topic covers the symbol (orderBook10
        pushes whole books), or no partial of its book is held (one is already on its way).
        """
        table = self._l2_table_of(symbol)
        resync = self.engine.void_book(table, symbol, reason) if table is not None else None
        if resync is None:
            return False
        if self._refresh_due is None or now < self._refresh_due:
            self._refresh_due = now
        self._forward([resync])
        return True

    def add_topics(self, topics: Iterable[str], now: float, connected: bool) -> list[Message]:
        """Remember new topics; the messages to send now if connected (else on connect).

        A request that would give a symbol a second book table is refused as a whole: a
        `FeedError` is emitted and nothing is remembered or sent.
        """
        new = [t for t in self.config.expand(topics) if t not in self.topics]
        try:
            check_book_tables([*self.topics, *new])
        except ValueError as exc:
            self.emit(FeedError(self.config.venue, f"subscribe refused: {exc}"))
            return []
        self.topics.extend(new)
        if not connected:
            return []
        if self.config.credentials is not None and not self.authenticated:
            self._deferred.extend(t for t in new if is_private(t))
            new = [t for t in new if not is_private(t)]
        return self.subscribe_messages(new, now)

    def remove_topics(self, topics: Iterable[str], connected: bool) -> list[Message]:
        """Forget topics; the unsubscribe messages to send now if connected."""
        gone = [t for t in self.config.expand(topics) if t in self.topics]
        self.topics = [t for t in self.topics if t not in gone]
        self._deferred = [t for t in self._deferred if t not in gone]
        return self.unsubscribe_messages(gone) if connected else []

    # -- incoming -----------------------------------------------------------------------------

    def handle_frame(self, now: float, frame: Frame) -> list[Message]:
        """One raw frame (not a pong); returns messages to send in response."""
        try:
            msg = orjson.loads(frame)
        except orjson.JSONDecodeError:
            self._forward(self.engine.apply(frame))
            return []
        return self.handle_message(now, msg)

    def handle_message(self, now: float, msg: Any) -> list[Message]:
        """One decoded message; returns messages to send in response."""
        if isinstance(msg, dict):
            if msg.get("action") == PARTIAL:
                self._partial_arrived(msg)
            elif "error" in msg:
                self._request_failed(msg)
        self._dirty = True
        events = self.engine.apply_message(msg)
        replies: list[Message] = []
        resync = False
        for event in events:
            if isinstance(event, AuthResult):
                replies.extend(self._auth_result(event, now))
            elif isinstance(event, Resync):
                resync = True
        self._forward(events)
        if resync:
            replies.extend(self.resubscribe_messages(self._take_resubscribe(), now))
        if self.auth_failed is not None:
            raise FeedFatal(self.auth_failed, auth=True)
        return replies

    def deadline(self) -> float | None:
        """When the next partial (or authentication reply) timeout or requested fresh book
        falls due."""
        due = self.waiting.next_deadline()
        for other in (self._auth_due, self._refresh_due):
            if other is not None and (due is None or other < due):
                due = other
        return due

    def tick(self, now: float) -> list[Message]:
        """Requested fresh books, and topics whose partial did not come within
        `partial_timeout`, are resubscribed.

        No reply to authentication within `auth_timeout` drops the connection (`Reconnect`).
        """
        if self._auth_due is not None and now >= self._auth_due:
            self._auth_due = None
            raise Reconnect(f"no reply to authentication within {self.config.auth_timeout:g} s")
        messages: list[Message] = []
        if self._refresh_due is not None and now >= self._refresh_due:
            self._refresh_due = None
            messages = self.resubscribe_messages(self._take_resubscribe(), now)
        late = [t for t in self.waiting.overdue(now) if not self._arrived(t)]
        if not late:
            return messages
        self.stats.partial_timeouts += len(late)
        self.emit(
            FeedError(
                self.config.venue,
                f"no snapshot within {self.config.partial_timeout:g} s for "
                f"{', '.join(late)}; resubscribing",
            )
        )
        return messages + self.resubscribe_messages(late, now)

    def connection_lost(self, reason: str) -> None:
        """The socket/stream ended: all table state is void until fresh partials arrive."""
        self.waiting.clear()
        self.authenticated = False
        self._auth_due = None
        self._refresh_due = None
        if self._dirty:
            self._forward(self.engine.reset(reason))
            self._dirty = False

    # -- helpers ------------------------------------------------------------------------------

    def _forward(self, events: Iterable[Event]) -> None:
        emit = self.emit
        for event in events:
            emit(event)

    def _arrived(self, topic: str) -> bool:
        """True (and no longer waited for) when the engine holds the topic's partial."""
        if self.engine.has_partial(topic):
            self.waiting.done(topic)
            return True
        return False

    def _l2_table_of(self, symbol: str) -> str | None:
        """The orderBookL2/orderBookL2_25 table subscribed for `symbol` (or unfiltered)."""
        for topic in self.topics:
            table, scope = parse_topic(topic)
            if table in L2_TABLES and scope in (symbol, None):
                return table
        return None

    def _take_resubscribe(self) -> list[str]:
        """Topics to refresh, mapped to what was actually subscribed (bare or per symbol)."""
        out: list[str] = []
        for topic in self.engine.take_resubscribe():
            if topic not in self.topics and table_of(topic) in self.topics:
                topic = table_of(topic)
            if topic and topic not in out:
                out.append(topic)
        return out

    def _partial_arrived(self, msg: Message) -> None:
        table = msg.get("table")
        if not isinstance(table, str):
            return
        flt = msg.get("filter")
        symbol = flt.get("symbol") if isinstance(flt, dict) else None
        if isinstance(symbol, str) and self.waiting.done(f"{table}:{symbol}"):
            return
        self.waiting.done(table)

    def _request_failed(self, msg: Message) -> None:
        """A subscribe that the server refused will never bring a partial: stop waiting."""
        request = msg.get("request")
        if not isinstance(request, dict) or request.get("op") != OP_SUBSCRIBE:
            return
        args = request.get("args")
        for topic in args if isinstance(args, list) else [args]:
            if isinstance(topic, str):
                self.waiting.done(topic)

    def _auth_result(self, event: AuthResult, now: float) -> list[Message]:
        if not event.success:
            self._auth_due = None
            self.auth_failed = f"authentication rejected: {event.error or 'no reason given'}"
            return []
        self.authenticated = True
        self._auth_due = None
        deferred, self._deferred = self._deferred, []
        return self.subscribe_messages(deferred, now)


class BitmexSession:
    """`Session` hooks of a plain /realtime connection."""

    def __init__(self, protocol: BitmexProtocol) -> None:
        self.protocol = protocol
        self.venue = protocol.config.venue

    def url(self) -> str:
        """The configured URL, with `heartbeat=true` in heartbeat mode."""
        url = self.protocol.config.url
        return with_heartbeat(url) if self.protocol.config.heartbeat_mode else url

    def headers(self) -> dict[str, str] | None:
        """No handshake headers: authentication uses a fresh authKeyExpires per connect."""
        return None

    def opened(self, now: float) -> list[Frame]:
        """Reset, authenticate, subscribe."""
        return encode(self.protocol.open_messages(now))

    def received(self, now: float, frame: Frame) -> list[Frame]:
        """Feed the engine; send resubscribes and deferred private subscriptions."""
        return encode(self.protocol.handle_frame(now, frame))

    def deadline(self) -> float | None:
        """The next partial timeout or requested fresh book."""
        return self.protocol.deadline()

    def tick(self, now: float) -> list[Frame]:
        """Resubscribe requested fresh books and topics whose partial is late."""
        return encode(self.protocol.tick(now))

    def closed(self, reason: str) -> None:
        """Drop table state."""
        self.protocol.connection_lost(reason)

    def ping_frame(self) -> Frame:
        """BitMEX text ping."""
        return PING

    def is_pong(self, frame: Frame) -> bool:
        """BitMEX text pong."""
        return frame == PONG


def encode(messages: Iterable[Message]) -> list[Frame]:
    """JSON text frames of outgoing messages."""
    return [orjson.dumps(m).decode() for m in messages]


def with_heartbeat(url: str) -> str:
    """`url` with the `heartbeat=true` query parameter added (once)."""
    parts = urlsplit(url)
    query = parts.query
    if HEARTBEAT_QUERY in query.split("&"):
        return url
    query = f"{query}&{HEARTBEAT_QUERY}" if query else HEARTBEAT_QUERY
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class BitmexClient:
    """A BitMEX realtime feed: connect, authenticate, subscribe, keep alive, reconnect."""

    def __init__(
        self,
        config: BitmexConfig,
        on_event: Callable[[Event], None],
        *,
        on_raw: Callable[[float, Frame], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        engine: BitmexEngine | None = None,
        connect_fn: Any = None,
    ) -> None:
        self.config = config
        self.on_event = on_event
        self.engine = engine or BitmexEngine(config.venue, clock=wall_clock)
        self.stats = ClientStats()
        self.protocol = BitmexProtocol(
            config, self.engine, on_event, wall_clock=wall_clock, stats=self.stats
        )
        self.session = BitmexSession(self.protocol)
        kwargs: dict[str, Any] = {"connect_fn": connect_fn} if connect_fn is not None else {}
        self.handler = ConnectionHandler(
            self.session,
            config.connection_settings(),
            on_event,
            on_raw=on_raw,
            clock=clock,
            stats=self.stats,
            raw_clock=wall_clock,
            budget=config.budget(),
            **kwargs,
        )
        self._clock = clock

    @property
    def topics(self) -> list[str]:
        """The expanded topics this client keeps subscribed."""
        return list(self.protocol.topics)

    async def run(self) -> None:
        """Connect/reconnect until `close()` (returns) or a fatal error (raises FeedFatal)."""
        try:
            await self.handler.run()
        except FeedFatal as exc:
            if exc.auth:
                self.stats.auth_failures += 1
            raise

    async def close(self) -> None:
        """Close the socket and stop reconnecting."""
        await self.handler.close()

    async def subscribe(self, topics: list[str]) -> None:
        """Add topics (bare tables expand per configured symbol)."""
        connected = self.handler.connected
        await self.handler.send(encode(self.protocol.add_topics(topics, self._clock(), connected)))

    async def unsubscribe(self, topics: list[str]) -> None:
        """Remove topics."""
        connected = self.handler.connected
        await self.handler.send(encode(self.protocol.remove_topics(topics, connected)))

    def request_fresh_book(self, symbol: str, reason: str) -> bool:
        """Rebuild `symbol`'s book from a fresh partial (it stayed crossed: messages were lost).

        Voids the orderBookL2/orderBookL2_25 state holding it and resubscribes that topic
        (`orderBookL2:SYMBOL`, or the unfiltered `orderBookL2` with every symbol's book), as an
        unknown id does: a `Resync` event is emitted now, from inside this call, and the
        unsubscribe/subscribe pair goes out on the connection's next turn (right after the
        frame being handled, when called from the event callback). False when not connected
        (the reconnect brings fresh partials anyway) or when there is nothing to request (see
        `BitmexProtocol.request_fresh_book`).
        """
        if not self.handler.connected:
            return False
        return self.protocol.request_fresh_book(symbol, reason, self._clock())

    async def cancel_all_after(self, timeout_ms: int) -> None:
        """Arm (or with 0, disarm) the dead man's switch; the reply arrives as an event."""
        message = {"op": OP_CANCEL_ALL_AFTER, "args": int(timeout_ms)}
        if not await self.handler.send(encode([message])):
            self.on_event(FeedError(self.config.venue, "cancelAllAfter not sent: not connected"))

    def snapshot_stats(self) -> ClientStats:
        """Current counters, with the rolling-hour connection count brought up to date."""
        self.stats.connects_last_hour = self.handler.budget.used(self._clock())
        return self.stats


__all__ = [
    "BitmexClient",
    "BitmexConfig",
    "BitmexProtocol",
    "BitmexSession",
    "ClientStats",
    "batches",
    "check_book_tables",
    "encode",
    "expand_topics",
    "is_private",
    "with_heartbeat",
]
