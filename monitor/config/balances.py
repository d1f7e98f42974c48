"""The `balances:` section: alerts on channels' prepaid balances, each naming a configured account whose
type reports a balance (monitor.providers.registry)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitor.config.model import BalanceConfig, ProviderConfig
from monitor.config.reader import At, Reader, read_scalars, require
from monitor.config.sections import usd_amount
from monitor.config.values import int_between, suggest
from monitor.providers.registry import TYPES


def balance(reader: Reader, at: At, providers: Mapping[str, ProviderConfig | None]) -> BalanceConfig | None:
    """One `balances[i]` entry; `providers` are the configured accounts by name (None: not valid)."""
    items = reader.mapping(
        at, ("account", "below_usd", "runway_days"), "a mapping with account and below_usd or runway_days"
    )
    if items is None:
        return None
    values: dict[str, Any] = read_scalars(
        reader,
        items,
        {
            "account": (str, "a provider name"),
            "below_usd": (usd_amount, "an amount in USD"),
            "runway_days": (int_between(1, 366), "a number of days"),
        },
    )
    complete = require(
        reader, at, items, {"account": "add account: the name of a newapi or openrouter provider"}
    )
    if "below_usd" not in items and "runway_days" not in items:
        reader.problem(
            at, "says when to alert nowhere (add below_usd: an amount, or runway_days: a number of days)"
        )
        complete = False
    name = values.get("account")
    if name is not None:
        complete = _check_account(reader, items["account"], name, providers) and complete
    if not complete or any(value is None for value in values.values()):
        return None
    return BalanceConfig(**values)


def _check_account(reader: Reader, at: At, name: str, providers: Mapping[str, ProviderConfig | None]) -> bool:
    names = sorted(t.name for t in TYPES.values() if t.balances)
    with_balance = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    if name not in providers:
        reader.problem(
            at, f"no provider account is named '{name}' ({suggest(name, providers, always_list=True)})"
        )
        return False
    cfg = providers[name]
    if cfg is not None and not TYPES[cfg.type].balances:
        reader.problem(
            at,
            f"'{name}' is an {cfg.type} account, which has no prepaid balance "
            f"(only {with_balance} accounts report one)",
        )
        return False
    return True


def check_unique(reader: Reader, entries: list[tuple[At, BalanceConfig | None]]) -> None:
    """An account named by two entries would alert twice on one crossing: a problem."""
    seen: dict[str, At] = {}
    for at, entry in entries:
        if entry is None:
            continue
        if entry.account in seen:
            reader.problem(
                at,
                f"account '{entry.account}' already has a balances entry at line {seen[entry.account].line} (merge them)",
            )
        seen.setdefault(entry.account, at)
