"""Credential store: keychain via a test keyring backend, env vars, in-memory fallback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import keyring
import pytest
from keyring.backends import chainer, fail, null
from keyring.errors import PasswordSetError

from app.account.credentials import CredentialStore, service_name
from app.feeds.bitmex.auth import ApiCredentials
from tests.account.helpers import MemoryKeyring

SECRET = "s3cr3t-Zq9xVv0-test-secret-value"


class BrokenKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError(f"locked; tried {password}")


@pytest.fixture
def restore_keyring() -> Iterator[None]:
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


@pytest.fixture
def mem_keyring(restore_keyring: None) -> MemoryKeyring:
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    return kr


def test_service_names() -> None:
    assert service_name("live") == "depthdesk/bitmex/live"
    assert service_name("testnet") == "depthdesk/bitmex/testnet"
    assert service_name("demo") == "depthdesk/bitmex/demo"


def test_remember_in_keychain_and_lookup(mem_keyring: MemoryKeyring) -> None:
    store = CredentialStore(environ={})
    st = store.keychain_status()
    assert st.available and "MemoryKeyring" in st.backend
    res = store.remember("testnet", ApiCredentials("KEYID1", SECRET))
    assert res.stored_in == "keychain"
    assert mem_keyring.items == {("depthdesk/bitmex/testnet", "KEYID1"): SECRET}
    # a fresh store (new session) finds it in the keychain, not under another environment
    fresh = CredentialStore(environ={})
    found = fresh.lookup("testnet", "KEYID1")
    assert found is not None and found.source == "keychain"
    assert found.credentials.secret == SECRET
    assert fresh.lookup("live", "KEYID1") is None
    assert fresh.lookup("testnet", "OTHER") is None
    assert fresh.forget_keychain("testnet", "KEYID1")
    assert not fresh.forget_keychain("testnet", "KEYID1")
    assert mem_keyring.items == {}


def test_session_memory_is_first_and_forgotten(mem_keyring: MemoryKeyring) -> None:
    store = CredentialStore(environ={})
    store.hold("demo", ApiCredentials("K", SECRET))
    found = store.lookup("demo", "K")
    assert found is not None and found.source == "memory"
    assert store.in_memory("demo") == ["K"]
    assert mem_keyring.items == {}  # holding never writes the keychain
    store.forget_session("demo")
    assert store.lookup("demo", "K") is None
    assert SECRET not in repr(store)


@pytest.mark.parametrize(
    "backend",
    [fail.Keyring(), null.Keyring()],
    ids=["fail", "null"],
)
def test_no_backend_means_memory_only(restore_keyring: None, backend: Any) -> None:
    keyring.set_keyring(backend)
    store = CredentialStore(environ={})
    st = store.keychain_status()
    assert not st.available
    assert "memory only" in st.detail
    res = store.remember("live", ApiCredentials("K", SECRET))
    assert res.stored_in == "memory" and "memory only" in res.message
    found = store.lookup("live", "K")
    assert found is not None and found.source == "memory"
    assert CredentialStore(environ={}).lookup("live", "K") is None
    assert not store.forget_keychain("live", "K")


def test_empty_chainer_is_no_backend(
    restore_keyring: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    keyring.set_keyring(chainer.ChainerBackend())
    assert not CredentialStore(environ={}).keychain_status().available


def test_keychain_error_falls_back_without_leaking(
    restore_keyring: None, caplog: pytest.LogCaptureFixture
) -> None:
    keyring.set_keyring(BrokenKeyring())
    store = CredentialStore(environ={})
    with caplog.at_level(logging.DEBUG):
        res = store.remember("live", ApiCredentials("K", SECRET))
    assert res.stored_in == "memory"
    assert "PasswordSetError" in res.message
    assert SECRET not in res.message
    assert SECRET not in caplog.text
    found = store.lookup("live", "K")
    assert found is not None and found.source == "memory"


def test_env_vars(mem_keyring: MemoryKeyring) -> None:
    env = {"DEPTHDESK_BITMEX_KEY": "ENVKEY", "DEPTHDESK_BITMEX_SECRET": SECRET}
    store = CredentialStore(environ=env)
    creds = store.from_env()
    assert creds is not None and creds.key == "ENVKEY" and creds.secret == SECRET
    found = store.find("testnet", None)
    assert found is not None and found.source == "env"
    # a remembered key wins over the environment for that key id
    mem_keyring.set_password("depthdesk/bitmex/testnet", "SAVED", "other-secret")
    found = store.find("testnet", "SAVED")
    assert found is not None and found.source == "keychain"
    # half-set variables are ignored
    assert CredentialStore(environ={"DEPTHDESK_BITMEX_KEY": "K"}).from_env() is None
    assert CredentialStore(environ={"DEPTHDESK_BITMEX_SECRET": "S"}).from_env() is None


def test_credentials_repr_hides_secret() -> None:
    assert SECRET not in repr(ApiCredentials("K", SECRET))
