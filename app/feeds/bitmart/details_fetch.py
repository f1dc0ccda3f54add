"""Fetching the legacy symbol details over HTTP, with a bounded wait.

The GET runs with urllib in a daemon thread, so neither a slow name lookup nor a silent
server can hold the caller (or the interpreter's exit) beyond `timeout`. One fetch per URL is
shared for `SHARE_SECONDS`: the topic check of `depthdesk feed`, the window's hints and the
client that follows them use one answer (or one failure) instead of asking again.
"""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import Future

from app.feeds.bitmart import constants as c
from app.feeds.bitmart.symbols_details import DetailsError, SymbolDetails, parse_symbols_details

SHARE_SECONDS = 10.0

Details = dict[str, SymbolDetails]

_lock = threading.Lock()
_fetches: dict[str, tuple[float, Future[Details]]] = {}


def _get(url: str, timeout: float) -> Details:
    """One blocking GET of the list; DetailsError for any failure."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            body = reply.read(c.LEGACY_DETAILS_MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        exc.close()  # the error carries the open reply
        raise DetailsError(f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DetailsError(" ".join(str(reason).split()) or type(exc).__name__) from None
    if len(body) > c.LEGACY_DETAILS_MAX_BYTES:
        raise DetailsError(f"reply larger than {c.LEGACY_DETAILS_MAX_BYTES} bytes")
    return parse_symbols_details(body)


def _work(url: str, timeout: float, future: Future[Details]) -> None:
    try:
        future.set_result(_get(url, timeout))
    except DetailsError as exc:
        future.set_exception(exc)
    except Exception as exc:  # an unexpected failure is still only a failed fetch
        future.set_exception(DetailsError(f"{type(exc).__name__}: {exc}"))


def start_fetch(url: str, timeout: float = c.LEGACY_DETAILS_TIMEOUT) -> Future[Details]:
    """The fetch of `url`: one still running or finished less than SHARE_SECONDS ago, else a
    new one (started in a daemon thread)."""
    now = time.monotonic()
    with _lock:
        entry = _fetches.get(url)
        if entry is not None and (not entry[1].done() or now - entry[0] < SHARE_SECONDS):
            return entry[1]
        future: Future[Details] = Future()
        future.set_running_or_notify_cancel()  # a waiter that gives up cannot cancel it
        _fetches[url] = (now, future)
    threading.Thread(
        target=_work, args=(url, timeout, future), name="bitmart-symbols-details", daemon=True
    ).start()
    return future


def fetch_details(url: str, timeout: float = c.LEGACY_DETAILS_TIMEOUT) -> Details:
    """The symbol details of `url`, waiting at most `timeout` s (blocking)."""
    try:
        return start_fetch(url, timeout).result(timeout)
    except TimeoutError:
        raise DetailsError(f"no answer within {timeout:g} s") from None


async def load_details(url: str, within: float = c.LEGACY_DETAILS_TIMEOUT) -> Details:
    """The symbol details of `url`, waiting at most `within` s without blocking the loop."""
    waiter = asyncio.wrap_future(start_fetch(url, within))
    try:
        return await asyncio.wait_for(asyncio.shield(waiter), within)
    except TimeoutError:
        raise DetailsError(f"no answer within {within:g} s") from None


__all__ = ["Details", "DetailsError", "fetch_details", "load_details", "start_fetch"]
