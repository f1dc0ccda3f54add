"""Names and limits of the account layer (keychain service names, env vars, DMS limits)."""

from __future__ import annotations

from typing import Final, Literal

Environment = Literal["live", "testnet", "demo"]
ENVIRONMENTS: Final[tuple[Environment, ...]] = ("live", "testnet", "demo")

#: keyring service per environment; the API key id is the keyring user name.
KEYRING_SERVICE_FMT: Final = "depthdesk/bitmex/{env}"

#: environment variables read as an alternative to the keychain.
ENV_KEY: Final = "DEPTHDESK_BITMEX_KEY"
ENV_SECRET: Final = "DEPTHDESK_BITMEX_SECRET"

#: dead man's switch: defaults and limits in seconds (the wire unit is milliseconds).
DMS_DEFAULT_TIMEOUT_S: Final = 60
DMS_MIN_TIMEOUT_S: Final = 5
DMS_MAX_TIMEOUT_S: Final = 600
#: refresh period as a fraction of the timeout (60 s timeout -> every 15 s).
DMS_REFRESH_FRACTION: Final = 0.25
#: a refresh reply must arrive within this many seconds (capped at the refresh period).
DMS_REPLY_TIMEOUT_S: Final = 5.0
#: a refresh that starts this much later than planned counts as late.
DMS_LATE_GRACE_S: Final = 2.0
#: how often the async runner wakes up to check deadlines.
DMS_POLL_INTERVAL_S: Final = 0.25
#: the wire op name used to match server error replies to our requests.
DMS_OP: Final = "cancelAllAfter"
