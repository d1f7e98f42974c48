"""Configuration: the YAML file, `${ENV}` / `${file:PATH}` secrets, and validation with key paths and lines.

`load_config(path)` returns a frozen `Config` or raises `ConfigError` listing every problem found.
"""

from __future__ import annotations

from monitor.config.loader import load_config
from monitor.config.model import (
    ALERT_TYPES,
    BUCKET_WIDTHS,
    PERIODS,
    WEEKDAYS,
    AlertChannelConfig,
    AnomalyConfig,
    BalanceConfig,
    BudgetConfig,
    BudgetScope,
    Config,
    MetricsConfig,
    PricingConfig,
    ProviderConfig,
    ReconciliationConfig,
    Secret,
    StorageConfig,
    WebConfig,
)
from monitor.config.values import parse_duration, parse_listen

__all__ = [
    "ALERT_TYPES",
    "BUCKET_WIDTHS",
    "PERIODS",
    "WEEKDAYS",
    "AlertChannelConfig",
    "AnomalyConfig",
    "BalanceConfig",
    "BudgetConfig",
    "BudgetScope",
    "Config",
    "MetricsConfig",
    "PricingConfig",
    "ProviderConfig",
    "ReconciliationConfig",
    "Secret",
    "StorageConfig",
    "WebConfig",
    "load_config",
    "parse_duration",
    "parse_listen",
]
