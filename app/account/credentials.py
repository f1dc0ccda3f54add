"""Where API secrets live: the OS keychain (keyring), environment variables, or memory only.

Secrets never go to settings files or logs. When keyring has no usable backend (its ``fail`` or
``null`` keyring, or a chainer with nothing to chain) the store says so and keeps secrets in
memory for the session only. Errors raised here never carry the secret.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from app.account.constants import ENV_KEY, ENV_SECRET, KEYRING_SERVICE_FMT, Environment
from app.feeds.bitmex.auth import ApiCredentials

log = logging.getLogger(__name__)

Source = Literal["keychain", "env", "memory"]


@dataclass(frozen=True)
class KeychainStatus:
    """Whether secrets can be remembered across sessions, and why not."""

    available: bool
    backend: str
    detail: str


@dataclass(frozen=True)
class FoundCredentials:
    """Credentials plus where they came from (shown to the user, never the secret)."""

    credentials: ApiCredentials
    source: Source


@dataclass(frozen=True)
class SaveResult:
    """Outcome of `CredentialStore.remember`: where the secret ended up and a user-facing note."""

    stored_in: Literal["keychain", "memory"]
    message: str


def service_name(env: Environment) -> str:
    """keyring service for one BitMEX environment, e.g. ``depthdesk/bitmex/testnet``."""
    return KEYRING_SERVICE_FMT.format(env=env)


def _keyring() -> Any:
    import keyring

    return keyring


def _backend_is_usable(backend: Any) -> tuple[bool, str]:
    """Reject keyring's fail/null backends and an empty chainer."""
    from keyring.backends import chainer, fail, null

    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(backend, fail.Keyring):
        return False, f"no keychain backend available ({name})"
    if isinstance(backend, null.Keyring):
        return False, f"keychain disabled ({name})"
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return False, f"no keychain backend available ({name} is empty)"
    return True, name


class CredentialStore:
    """Looks up and stores BitMEX API credentials per environment.

    Lookup order: this session's memory, then the keychain (user name = key id).
    Environment variables are a separate, explicit source (`from_env`).
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ if environ is not None else os.environ
        self._memory: dict[tuple[Environment, str], ApiCredentials] = {}

    def __repr__(self) -> str:
        return f"CredentialStore(in_memory={len(self._memory)})"

    # -- keychain ------------------------------------------------------------------------------

    def keychain_status(self) -> KeychainStatus:
        """Probe the active keyring backend without touching any stored secret."""
        try:
            backend = _keyring().get_keyring()
        except Exception as exc:  # keyring can fail to initialise on odd desktops
            return KeychainStatus(False, "", f"keychain unavailable: {type(exc).__name__}")
        ok, detail = _backend_is_usable(backend)
        name = f"{type(backend).__module__}.{type(backend).__name__}"
        if ok:
            return KeychainStatus(True, name, f"secrets are stored in the OS keychain ({name})")
        return KeychainStatus(False, name, detail + "; secrets are kept in memory only")

    def remember(self, env: Environment, creds: ApiCredentials) -> SaveResult:
        """Store in the keychain if there is one; otherwise (or on error) keep in memory."""
        self.hold(env, creds)
        status = self.keychain_status()
        if not status.available:
            return SaveResult("memory", status.detail)
        try:
            _keyring().set_password(service_name(env), creds.key, creds.secret)
        except Exception as exc:
            note = f"could not save to the keychain ({type(exc).__name__}); kept in memory only"
            log.warning("keychain save failed for %s: %s", service_name(env), type(exc).__name__)
            return SaveResult("memory", note)
        return SaveResult("keychain", f"saved in the OS keychain ({status.backend})")

    def forget_keychain(self, env: Environment, key_id: str) -> bool:
        """Delete a remembered secret; True when one was deleted."""
        if not self.keychain_status().available:
            return False
        kr = _keyring()
        try:
            kr.delete_password(service_name(env), key_id)
        except Exception as exc:  # PasswordDeleteError when nothing is stored
            log.info("keychain delete for %s: %s", service_name(env), type(exc).__name__)
            return False
        return True

    def _from_keychain(self, env: Environment, key_id: str) -> ApiCredentials | None:
        if not key_id or not self.keychain_status().available:
            return None
        try:
            secret = _keyring().get_password(service_name(env), key_id)
        except Exception as exc:
            log.warning("keychain read failed for %s: %s", service_name(env), type(exc).__name__)
            return None
        if not secret:
            return None
        return ApiCredentials(key=key_id, secret=secret)

    # -- memory --------------------------------------------------------------------------------

    def hold(self, env: Environment, creds: ApiCredentials) -> None:
        """Keep credentials for this session only."""
        self._memory[(env, creds.key)] = creds

    def forget_session(self, env: Environment | None = None) -> None:
        """Drop in-memory secrets (of one environment, or all)."""
        for slot in [s for s in self._memory if env is None or s[0] == env]:
            del self._memory[slot]

    def in_memory(self, env: Environment) -> list[str]:
        """Key ids held in memory for an environment."""
        return [key for (e, key) in self._memory if e == env]

    # -- lookup --------------------------------------------------------------------------------

    def from_env(self) -> ApiCredentials | None:
        """DEPTHDESK_BITMEX_KEY / DEPTHDESK_BITMEX_SECRET, when both are set and non-empty."""
        key = self._environ.get(ENV_KEY, "").strip()
        secret = self._environ.get(ENV_SECRET, "").strip()
        if key and secret:
            return ApiCredentials(key=key, secret=secret)
        return None

    def lookup(self, env: Environment, key_id: str) -> FoundCredentials | None:
        """Credentials for a key id: session memory first, then the keychain."""
        held = self._memory.get((env, key_id))
        if held is not None:
            return FoundCredentials(held, "memory")
        stored = self._from_keychain(env, key_id)
        if stored is not None:
            return FoundCredentials(stored, "keychain")
        return None

    def find(self, env: Environment, key_id: str | None) -> FoundCredentials | None:
        """Best credentials to pre-fill a login: memory/keychain for `key_id`, else env vars."""
        if key_id:
            found = self.lookup(env, key_id)
            if found is not None:
                return found
        from_env = self.from_env()
        if from_env is not None:
            return FoundCredentials(from_env, "env")
        return None
