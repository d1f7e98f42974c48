"""Alert changes the engine decides on, and the JSON payloads stored with them in the outbox.

The payload is what every channel renders (see docs/alerts.md). Its fields hold amounts as exact
decimal strings and times as ISO 8601; its `summary` is for people (money in cents with thousands
separators). It never holds a secret: budget names, account labels, model names and api key *ids*.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from monitor.records import usd_exact, usd_text
from monitor.store.alerts import AlertKey

ALERTNAMES: Mapping[str, str] = {
    "actual": "LLMBudgetThreshold",
    "forecast": "LLMBudgetForecast",
    "spike": "LLMSpendSpike",
    "new_api_key": "LLMNewApiKey",
    "new_model": "LLMNewModel",
}


@dataclass(frozen=True, slots=True)
class AlertChange:
    """One state change to record: `key` moves to `state` ("OK"/"ALARM"), with its outbox payload."""

    key: AlertKey
    state: str
    period_end: int
    payload: Mapping[str, Any]


usd = usd_exact
"""Exact dollars as a plain decimal string ("412.5", "0.000123"): the payload fields."""


@functools.lru_cache(maxsize=4096)
def threshold_text(threshold: Decimal) -> str:
    """The canonical threshold label: "80", "12.5" (the same for 80, 80.0 and 8E+1)."""
    return format(threshold.normalize(), "f")


def severity(kind: str, threshold: Decimal | None) -> str:
    if kind == "actual" and threshold is not None and threshold >= 100:
        return "critical"
    if kind in ("new_api_key", "new_model"):
        return "info"
    return "warning"


def budget_payload(
    *,
    budget: str,
    kind: str,
    threshold: Decimal,
    period: str,
    period_start: datetime,
    period_end: datetime,
    spend_pico: int,
    limit_pico: int,
    forecast_pico: int,
    utilization: Decimal,
    starts_at: datetime,
    ends_at: datetime | None = None,
    scope: str = "",
) -> dict[str, Any]:
    """The payload of a budget threshold alert (kind "actual" or "forecast"); `scope` says what the
    budget counts, with names (see budgets.describe)."""
    what = "spend" if kind == "actual" else "projected spend"
    amount = spend_pico if kind == "actual" else forecast_pico
    spent = (utilization * 100).quantize(Decimal("0.1"))
    summary = (
        f"Budget {budget}: {what} {usd_text(amount)} of {usd_text(limit_pico)} this {period} "
        f"({spent:,}% spent) {'crossed' if ends_at is None else 'is back below'} {threshold_text(threshold)}%"
    )
    if scope:
        summary += f" (counts {scope})"
    return {
        "alertname": ALERTNAMES[kind],
        "budget": budget,
        "kind": kind,
        "threshold": threshold_text(threshold),
        "severity": severity(kind, threshold),
        "period": period,
        "period_start": period_start.isoformat(),
        "period_end": period_end.isoformat(),
        "spend_usd": usd(spend_pico),
        "limit_usd": usd(limit_pico),
        "forecast_usd": usd(forecast_pico),
        "utilization": str(utilization),
        "summary": summary,
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat() if ends_at is not None else None,
        **({"scope": scope} if scope else {}),
    }


def event_payload(
    *,
    kind: str,
    subject: str,
    summary: str,
    starts_at: datetime,
    expires_at: datetime,
    labels: Mapping[str, str],
    **extra: Any,
) -> dict[str, Any]:
    """The payload of a one-off event alert (spike, new api key, new model): it expires, it is not re-posted."""
    return {
        "alertname": ALERTNAMES.get(kind, "LLMSpendAnomaly"),
        "budget": subject,
        "kind": kind,
        "severity": severity(kind, None),
        "summary": summary,
        "starts_at": starts_at.isoformat(),
        "expires_at": expires_at.isoformat(),
        "ends_at": None,
        "labels": dict(labels),
        **extra,
    }
