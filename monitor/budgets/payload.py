"""Alert changes the engine decides on, and the JSON payloads stored with them in the outbox.

The payload is what every channel renders (see docs/alerts.md). Its fields hold amounts as exact
decimal strings and times as ISO 8601; its `summary` is for people (money in cents with thousands
separators). It never holds a secret: budget names, account labels, model names and api key *ids*.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from monitor.records import tokens_text, usd_exact, usd_text
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


def unpriced_text(tokens: int, models: Sequence[tuple[str, int]], named: int = 3) -> str:
    """What a budget cannot put a price on, for people: "plus 12.4M unpriced tokens of gpt-7-preview",
    "plus 13.6M unpriced tokens of gpt-7-preview (12.4M) and claude-x (1.2M)"; "" when nothing is."""
    if tokens <= 0:
        return ""
    if len(models) == 1:
        return f"plus {tokens_text(tokens)} unpriced tokens of {models[0][0]}"
    parts = [f"{model} ({tokens_text(count)})" for model, count in models[:named]]
    if len(models) > named:
        parts.append(f"{len(models) - named} more models")
    listed = ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else "".join(parts)
    return f"plus {tokens_text(tokens)} unpriced tokens of {listed}"


def blind_text(billed_excess_pico: int, tokens: int, models: Sequence[tuple[str, int]]) -> str:
    """The spend a budget knows of beyond the computed cost: "; $12.50 of it billed above the computed
    cost; plus 12.4M unpriced tokens of gpt-7-preview" (each part only when there is some)."""
    parts = []
    if billed_excess_pico > 0:
        parts.append(f"{usd_text(billed_excess_pico)} of it billed above the computed cost")
    unpriced = unpriced_text(tokens, models)
    if unpriced:
        parts.append(unpriced)
    return "".join(f"; {part}" for part in parts)


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
    billed_excess_pico: int = 0,
    unpriced_tokens: int = 0,
    unpriced_models: Sequence[tuple[str, int]] = (),
) -> dict[str, Any]:
    """The payload of a budget threshold alert (kind "actual" or "forecast"); `scope` says what the
    budget counts, with names (see budgets.describe); it says what of the spend is billed above the
    computed cost and what tokens it could not price (budgets/blind.py), last."""
    what = "spend" if kind == "actual" else "projected spend"
    amount = spend_pico if kind == "actual" else forecast_pico
    spent = (utilization * 100).quantize(Decimal("0.1"))
    summary = (
        f"Budget {budget}: {what} {usd_text(amount)} of {usd_text(limit_pico)} this {period} "
        f"({spent:,}% spent) {'crossed' if ends_at is None else 'is back below'} {threshold_text(threshold)}%"
    )
    if scope:
        summary += f" (counts {scope})"
    also = blind_text(billed_excess_pico, unpriced_tokens, unpriced_models).removeprefix("; ")
    return {
        "also_known": also,
        "billed_above_computed_usd": usd(billed_excess_pico),
        "unpriced_tokens": unpriced_tokens,
        "unpriced_models": [{"model": model, "tokens": count} for model, count in unpriced_models],
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
        "summary": f"{summary}; {also}" if also else summary,
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
