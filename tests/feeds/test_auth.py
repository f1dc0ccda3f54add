"""BitMEX API-key signing: the documented test vectors, integer expires, masking, nonces."""

from __future__ import annotations

from urllib.parse import parse_qs

from app.feeds.bitmex.auth import (
    ApiCredentials,
    NonceSource,
    auth_headers,
    auth_key_args,
    auth_key_expires_args,
    auth_key_expires_message,
    auth_key_message,
    auth_query,
    expires_at,
    sign,
)

SECRET = "chNOOS4KvNXR_Xq4k4c9qsfoKWvnDecLATCRlcBwyKDYnWgO"
KEY = "LAqUlngMIQkIUjXMUreyu3qn"
WS_SIG = "6d459dc02866d35a2b965edeecc68063d488e296b77982235fc6eca24b934945"
REST_SIG = "c7682d435d0cfe87c16098df34ef2eb5a549d4c5a3c2b1f0f77b8af73423bf00"


def test_rest_vector() -> None:
    assert sign(SECRET, "GET", "/api/v1/instrument", 1518064236) == REST_SIG


def test_realtime_vector() -> None:
    assert sign(SECRET, "GET", "/realtime", 1518064236) == WS_SIG


def test_signature_is_lowercase_hex_and_body_counts() -> None:
    plain = sign(SECRET, "POST", "/api/v1/order", 1518064238)
    with_body = sign(SECRET, "POST", "/api/v1/order", 1518064238, '{"symbol":"XBTUSD"}')
    assert plain != with_body
    assert with_body == with_body.lower() and len(with_body) == 64
    int(with_body, 16)


def test_auth_key_expires_args_sign_get_realtime_with_int_expires() -> None:
    creds = ApiCredentials(KEY, SECRET)
    args = auth_key_expires_args(creds, 1518064236)
    assert args == [KEY, 1518064236, WS_SIG]
    assert type(args[1]) is int
    # A float expires (the api-connectors#421 mistake) is coerced to the integer it means.
    float_args = auth_key_expires_args(creds, 1518064236.9)  # type: ignore[arg-type]
    assert float_args == [KEY, 1518064236, WS_SIG]
    assert auth_key_expires_message(creds, 1518064236) == {"op": "authKeyExpires", "args": args}


def test_expires_at_is_integer_in_the_future() -> None:
    value = expires_at(1_700_000_000.75, 30)
    assert value == 1_700_000_030 and type(value) is int


def test_secret_never_in_repr_or_str() -> None:
    creds = ApiCredentials(KEY, SECRET)
    assert SECRET not in repr(creds)
    assert SECRET not in str(creds)
    assert SECRET not in repr([creds, {"c": creds}])
    assert creds.masked_key().startswith(KEY[:4]) and KEY not in creds.masked_key()


def test_headers_and_query_for_the_upgrade_request() -> None:
    creds = ApiCredentials(KEY, SECRET)
    headers = auth_headers(creds, 1518064236)
    assert headers == {"api-expires": "1518064236", "api-signature": WS_SIG, "api-key": KEY}
    query = parse_qs(auth_query(creds, 1518064236))
    assert query == {"api-expires": ["1518064236"], "api-signature": [WS_SIG], "api-key": [KEY]}


def test_nonces_strictly_increase_even_when_the_clock_stalls_or_steps_back() -> None:
    times = iter([100.0, 100.0, 99.0, 101.0])
    nonces = NonceSource(clock=lambda: next(times))
    values = [nonces.next() for _ in range(4)]
    assert values == sorted(values) and len(set(values)) == 4
    assert values[0] == 100_000_000 and values[-1] == 101_000_000


def test_legacy_auth_key_uses_nonce_in_signature() -> None:
    creds = ApiCredentials(KEY, SECRET)
    assert auth_key_args(creds, 1518064236) == [KEY, 1518064236, WS_SIG]
    nonces = NonceSource(clock=lambda: 5.0)
    first = auth_key_message(creds, nonces)
    second = auth_key_message(creds, nonces)
    assert first["op"] == "authKey"
    assert second["args"][1] == first["args"][1] + 1
    assert second["args"][2] == sign(SECRET, "GET", "/realtime", second["args"][1])
