"""One exception tree for the whole package; only the CLI turns these into messages and exit codes."""

from __future__ import annotations


class SpendMonitorError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(SpendMonitorError):
    """The configuration is invalid. `problems` holds one line per problem, each naming its place."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class PricingError(SpendMonitorError):
    """A price file or price override is invalid, or a price cannot be computed."""


class UnknownModelError(PricingError):
    """No price entry matches a model name."""


class StoreError(SpendMonitorError):
    """The ledger cannot be opened, migrated or written."""


class ProviderError(SpendMonitorError):
    """A provider API call failed. Messages never contain credentials.

    `reason` is the `spend_monitor_poll_errors_total` label when the raiser knows it ("rate_limited",
    "server_error", "timeout", "connection", "auth", "bad_response", "client_error"), else "".
    """

    def __init__(self, message: str, *, account: str = "", endpoint: str = "", reason: str = "") -> None:
        self.account = account
        self.endpoint = endpoint
        self.reason = reason
        super().__init__(message)


class ProviderAuthError(ProviderError):
    """401/403: the key is wrong or lacks admin rights. Not retried."""


class ProviderTransientError(ProviderError):
    """429, 5xx, timeouts, connection errors: retried with backoff, then surfaced."""


class ProviderResponseError(ProviderError):
    """A malformed, truncated or unexpected response body. The page is not written."""


class AlertDeliveryError(SpendMonitorError):
    """A notification channel refused or could not take a notification (worth retrying).

    `retry_after` is the receiver's Retry-After in seconds, if it gave one; `doubtful` marks an
    answer that is usually lasting but sometimes passes (a 404 while the receiver is redeployed):
    the outbox retries it for a bounded time only.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, doubtful: bool = False) -> None:
        self.retry_after = retry_after
        self.doubtful = doubtful
        super().__init__(message)
