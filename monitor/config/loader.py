"""`load_config`: read a YAML file, validate every key, and return a frozen `Config` or raise ConfigError.

All problems are gathered before raising, each as `<file>:<line>: <key path>: <problem> (<fix>)`.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from monitor.config.attribution import attribution_rules, named
from monitor.config.balances import balance, check_unique
from monitor.config.channels import alert_channels
from monitor.config.digests import digests
from monitor.config.model import (
    LOG_LEVELS,
    WEEKDAYS,
    AnomalyConfig,
    Config,
    MetricsConfig,
    ReconciliationConfig,
    StorageConfig,
    WebConfig,
)
from monitor.config.prices import pricing_section
from monitor.config.reader import At, Field, Reader, read_document, read_scalars, require
from monitor.config.sections import budget, provider
from monitor.config.values import (
    LISTEN_HINT,
    Invalid,
    check_bcrypt,
    decimal_between,
    int_between,
    one_of,
    parse_bool,
    parse_listen,
)
from monitor.errors import ConfigError

_TOP_KEYS = (
    "listen",
    "timezone",
    "month_start_day",
    "week_start",
    "log_level",
    "storage",
    "providers",
    "budgets",
    "balances",
    "alerts",
    "pricing",
    "metrics",
    "web",
    "anomalies",
    "reconciliation",
    "attribution",
    "digests",
)


def load_config(path: str | Path, *, environ: Mapping[str, str] | None = None) -> Config:
    """Load and validate a config file; `environ` (default os.environ) resolves `${VAR}` references.

    Raises ConfigError listing every problem, one line each, in file order.
    """
    path = Path(path)
    shown = str(path)
    root = read_document(path, shown)
    if root is None:
        raise ConfigError(
            [f"{shown}: the file is empty (expected at least a 'providers' list; see config.example.yaml)"]
        )
    reader = Reader(shown, os.environ if environ is None else environ)
    config = _config(reader, At(root, ""), path)
    problems = reader.problems()
    if problems or config is None:
        raise ConfigError(problems or [f"{shown}: invalid configuration"])
    return config


def _listen(text: str) -> str:
    parse_listen(text)
    return text.strip()


def _timezone(text: str) -> str:
    name = text.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "expected an IANA name like UTC or Europe/Berlin"
        raise Invalid("unknown timezone {value}", hint) from None
    return name


def _path(text: str) -> Path:
    if not text.strip():
        raise Invalid("{value} is an empty path", "give a file path")
    return Path(text.strip()).expanduser()


def _existing_file(text: str) -> Path:
    path = _path(text)
    if not path.is_file():
        raise Invalid(
            "file {value} does not exist", "check the path; relative paths start at the working directory"
        )
    return path


_TOP_FIELDS: Mapping[str, Field] = {
    "listen": (_listen, LISTEN_HINT),
    "timezone": (_timezone, "a timezone name"),
    "month_start_day": (int_between(1, 28), "a day of the month from 1 to 28"),
    "week_start": (one_of(WEEKDAYS, "weekday"), "a weekday"),
    "log_level": (one_of(LOG_LEVELS, "log level", str.upper), "a log level"),
}


_SCALAR_SECTIONS: Mapping[str, tuple[type[Any], Mapping[str, Field]]] = {
    "storage": (StorageConfig, {"path": (_path, "a file path")}),
    "metrics": (
        MetricsConfig,
        {
            "include_api_key": (parse_bool, "true or false"),
            "include_user": (parse_bool, "true or false"),
            "series_limit": (int_between(1), "a whole number"),
        },
    ),
    "anomalies": (
        AnomalyConfig,
        {
            "spike_factor": (decimal_between(Decimal(1), low_open=True), "a factor above 1"),
            "spike_min_usd": (decimal_between(Decimal(0)), "an amount in USD"),
            "spike_baseline_days": (int_between(1, 366), "a number of days"),
            "new_api_key": (parse_bool, "true or false"),
            "new_model": (parse_bool, "true or false"),
        },
    ),
    "reconciliation": (
        ReconciliationConfig,
        {"drift_threshold_percent": (decimal_between(Decimal(0)), "a percent")},
    ),
}
"""Sections whose keys are all scalars: the dataclass to build and how to read each key."""


def _config(reader: Reader, root: At, path: Path) -> Config | None:
    items = reader.mapping(root, _TOP_KEYS, "a mapping of keys like listen, providers, budgets")
    if items is None:
        return None
    values: dict[str, Any] = read_scalars(reader, items, _TOP_FIELDS)
    require(reader, root, items, {"providers": "add a providers list with at least one account"})
    names: dict[str, At] = {}
    providers = [provider(reader, at, names) for at in _entries(reader, items, "providers", non_empty=True)]
    rules = attribution_rules(reader, _entries(reader, items, "attribution"), names)
    if "attribution" in items:
        values["attribution"] = rules
    budget_names: dict[str, At] = {}
    budgets = [
        budget(reader, at, budget_names, names, named(rules)) for at in _entries(reader, items, "budgets")
    ]
    configured = {**dict.fromkeys(names), **{p.name: p for p in providers if p is not None}}
    balance_entries = [(at, balance(reader, at, configured)) for at in _entries(reader, items, "balances")]
    check_unique(reader, balance_entries)
    balances = [entry for _, entry in balance_entries]
    alerts = alert_channels(reader, _entries(reader, items, "alerts"))
    if "digests" in items and alerts is not None:
        values["digests"] = digests(reader, _entries(reader, items, "digests"), [c.name for c in alerts])
    for key, (cls, fields) in _SCALAR_SECTIONS.items():
        if key in items:
            values[key] = _section(reader, items[key], cls, fields)
    if "web" in items:
        values["web"] = _web(reader, items["web"])
    if "pricing" in items:
        values["pricing"] = pricing_section(reader, items["pricing"], _existing_file)
    if alerts is None or None in (*providers, *budgets, *balances, *values.values()):
        return None
    return Config(
        path=path,
        providers=tuple(p for p in providers if p is not None),
        budgets=tuple(b for b in budgets if b is not None),
        balances=tuple(b for b in balances if b is not None),
        alerts=alerts,
        **values,
    )


def _entries(reader: Reader, items: Mapping[str, At], key: str, *, non_empty: bool = False) -> list[At]:
    if key not in items:
        return []
    entries = reader.sequence(items[key], f"a list of {key}")
    if entries is not None and not entries and non_empty:
        reader.problem(items[key], "the list is empty (add at least one provider account)")
    return entries or []


def _section(reader: Reader, at: At, cls: type[Any], fields: Mapping[str, Field]) -> Any:
    """A mapping whose keys are all scalars: read them and build `cls` (None if anything failed)."""
    items = reader.mapping(at, fields.keys())
    if items is None:
        return None
    values = read_scalars(reader, items, fields)
    return None if None in values.values() else cls(**values)


def _web(reader: Reader, at: At) -> WebConfig | None:
    items = reader.mapping(at, ("tls_cert_file", "tls_key_file", "basic_auth_users"))
    if items is None:
        return None
    file_field: Field = (_existing_file, "a file path")
    values: dict[str, Any] = read_scalars(
        reader, items, {"tls_cert_file": file_field, "tls_key_file": file_field}
    )
    cert, key = items.get("tls_cert_file"), items.get("tls_key_file")
    lone = cert or key if (cert is None) != (key is None) else None
    if lone is not None:
        reader.problem(
            lone, "TLS needs both tls_cert_file and tls_key_file (set both, or neither for plain HTTP)"
        )
    if "basic_auth_users" in items:
        users = reader.string_map(items["basic_auth_users"], check_bcrypt, secret=True)
        values["basic_auth_users"] = None if users is None else MappingProxyType(users)
    if lone is not None or None in values.values():
        return None
    return WebConfig(**values)
