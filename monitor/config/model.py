"""The validated configuration as frozen value types, and the vocabulary (types, endpoints, periods) it allows.

No I/O here: `monitor.config.loader` builds these from YAML; tests and the demo build them directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

BUCKET_WIDTHS: tuple[str, ...] = ("1m", "1h", "1d")
PERIODS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ALERT_TYPES: tuple[str, ...] = ("alertmanager", "apprise", "webhook")
LOG_LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Secret:
    """A secret string (API key, webhook secret, apprise URL) that never prints itself.

    str() and repr() give '<secret>', so a secret inside a dataclass repr, a log line or an
    f-string stays hidden; `reveal()` is the one explicit way to the value. Equal values compare equal.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "<secret>"

    def __repr__(self) -> str:
        return "<secret>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))


def _empty_mapping() -> Mapping[str, str]:
    return MappingProxyType({})


def _empty_any_mapping() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class ProviderConfig:
    """One provider account to poll. `name` is the account label in the ledger, metrics and alerts.

    The keys of its `type` (monitor.providers.registry) beyond the common ones are in `options`
    (secrets as `Secret`), except `api_key` and `base_url`, which have fields of their own.
    """

    name: str
    type: str
    api_key: Secret | None = None
    base_url: str = ""
    poll_interval: float = 300.0
    bucket_width: str = "1h"
    revision_window: float = 172800.0
    initial_lookback: str = "month"
    timeout: float = 30.0
    max_attempts: int = 5
    discount_percent: Decimal = Decimal(0)
    endpoints: tuple[str, ...] | None = None
    fetch_costs: bool = True
    options: Mapping[str, Any] = field(default_factory=_empty_any_mapping)


@dataclass(frozen=True)
class StorageConfig:
    """Where the SQLite ledger lives; a relative path is relative to the working directory."""

    path: Path = Path("./data/spend.db")


@dataclass(frozen=True)
class PricingConfig:
    """The price-source chain (`sources`, in order), extra price files, inline price entries (checked
    by `monitor.pricing`), model name aliases, and the community source's automatic update."""

    files: tuple[Path, ...] = ()
    overrides: tuple[Mapping[str, Any], ...] = ()
    aliases: Mapping[str, str] = field(default_factory=_empty_mapping)
    sources: tuple[str, ...] = ("bundled", "files", "bill")
    auto_update: bool = False
    update_interval: float = 6 * 3600.0
    update_url: str = ""
    """Where the community data is fetched from; "" is genai-prices' own URL."""


@dataclass(frozen=True)
class MetricsConfig:
    """`include_api_key` adds the api_key label to usage metrics, `include_user` the user label;
    `series_limit` caps the series count."""

    include_api_key: bool = False
    series_limit: int = 50000
    include_user: bool = False


@dataclass(frozen=True)
class WebConfig:
    """TLS and basic auth for the metrics server, in the manner of Prometheus' exporter-toolkit."""

    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    basic_auth_users: Mapping[str, str] = field(default_factory=_empty_mapping, repr=False)


@dataclass(frozen=True)
class BudgetScope:
    """Which usage a budget counts: each dimension lists allowed values ('*' globs); empty means any."""

    provider: tuple[str, ...] = ()
    account: tuple[str, ...] = ()
    project: tuple[str, ...] = ()
    model: tuple[str, ...] = ()
    api_key: tuple[str, ...] = ()
    user: tuple[str, ...] = ()
    team: tuple[str, ...] = ()
    cost_center: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttributionRule:
    """One `attribution:` rule: usage its `match` (a budget scope without team/cost_center) selects
    belongs to `team` and `cost_center` ("" leaves that one unassigned); the first matching rule wins."""

    match: BudgetScope = field(default_factory=BudgetScope)
    team: str = ""
    cost_center: str = ""


DIGEST_PERIODS: tuple[str, ...] = ("day", "week", "month")


@dataclass(frozen=True)
class DigestConfig:
    """A scheduled spend summary: each `period`, at local `time` (minutes after midnight) on the
    period's first day, the previous period is summarised to `channels` (alert channel names)."""

    period: str
    time: int = 9 * 60
    channels: tuple[str, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", f"{self.period}ly" if self.period != "day" else "daily")


@dataclass(frozen=True)
class BudgetConfig:
    """A spend limit per calendar period; thresholds are percents of `amount_usd`."""

    name: str
    amount_usd: Decimal
    period: str
    scope: BudgetScope = field(default_factory=BudgetScope)
    thresholds: tuple[Decimal, ...] = (Decimal(50), Decimal(80), Decimal(100))
    forecast_thresholds: tuple[Decimal, ...] = (Decimal(100),)


@dataclass(frozen=True)
class AlertChannelConfig:
    """One notification channel. `name` defaults to the type; the loader numbers several of one type."""

    type: str
    url: Secret
    name: str = ""
    secret: Secret | None = None
    timeout: float = 10.0
    headers: Mapping[str, str] = field(default_factory=_empty_mapping, repr=False)

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.type)


@dataclass(frozen=True)
class AnomalyConfig:
    """Spike detection (spend over `spike_factor` times the baseline) and first-seen key/model notices."""

    spike_factor: Decimal = Decimal(3)
    spike_min_usd: Decimal = Decimal(1)
    spike_baseline_days: int = 7
    new_api_key: bool = True
    new_model: bool = True


@dataclass(frozen=True)
class BalanceConfig:
    """An alert on a channel's prepaid balance: when it falls below `below_usd`, or when at the recent
    daily spend it would run out within `runway_days`. At least one of the two is set."""

    account: str
    below_usd: Decimal | None = None
    runway_days: int | None = None


@dataclass(frozen=True)
class ReconciliationConfig:
    """How far computed cost may drift from the provider's billed cost before it is reported."""

    drift_threshold_percent: Decimal = Decimal(2)


@dataclass(frozen=True)
class Config:
    """The whole validated configuration. `path` is the file it came from (None when built in code)."""

    path: Path | None
    listen: str = "127.0.0.1:9877"
    timezone: str = "UTC"
    month_start_day: int = 1
    week_start: str = "monday"
    storage: StorageConfig = field(default_factory=StorageConfig)
    providers: tuple[ProviderConfig, ...] = ()
    budgets: tuple[BudgetConfig, ...] = ()
    balances: tuple[BalanceConfig, ...] = ()
    alerts: tuple[AlertChannelConfig, ...] = ()
    pricing: PricingConfig = field(default_factory=PricingConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    web: WebConfig = field(default_factory=WebConfig)
    anomalies: AnomalyConfig = field(default_factory=AnomalyConfig)
    reconciliation: ReconciliationConfig = field(default_factory=ReconciliationConfig)
    log_level: str = "INFO"
    attribution: tuple[AttributionRule, ...] = ()
    digests: tuple[DigestConfig, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        """The configured timezone (ZoneInfo caches instances, so this is cheap)."""
        return ZoneInfo(self.timezone)
