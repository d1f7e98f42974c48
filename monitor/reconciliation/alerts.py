"""The `drift` alert: one per (account, UTC day) whose computed cost is off the billed cost by more
than the threshold, through the same durable outbox as budget alerts.

Each (account, day) is an `AlertStore` state machine (budget = account, period_start = day start,
threshold = the percent, kind "drift"): it fires once when the drift exceeds the threshold and
resolves when a later evaluation finds it within (billed cost revised, prices fixed and repriced).
Days are evaluated for a week after they end, once they have settled for a few hours, since both
providers report late and the last hour of usage may still be arriving just after midnight.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from monitor.periods import to_unix
from monitor.pricing.bill import ObservedRate
from monitor.reconciliation.drift import DayDrift, ModelDrift, drift_rows, exceeds, model_drift, off_models
from monitor.reconciliation.rates import rate_payload, rate_text
from monitor.records import usd_exact, usd_text
from monitor.store import Ledger
from monitor.store.alerts import ALARM, OK, AlertKey, AlertStore
from monitor.store.billed import DAY, BilledStore, utc_day

KIND = "drift"
WINDOW_DAYS = 7
"""Complete days evaluated (and kept resolvable) after they end."""
SETTLE_SECONDS = 3 * 3600
"""A day is evaluated once it ended this long ago."""
MODELS_IN_PAYLOAD = 5


@dataclass(frozen=True, slots=True)
class DriftStatus:
    """One evaluated (account, day): its drift, the state it is in now and the notifications queued."""

    drift: DayDrift
    state: str
    queued: int
    models: tuple[ModelDrift, ...] = ()


def threshold_label(threshold_percent: Decimal) -> str:
    """The canonical percent text used as the alert's `threshold` label: Decimal("2.50") -> "2.5"."""
    value = Decimal(threshold_percent).normalize()
    return format(value, "f")


def _percent(ratio: Decimal | None) -> str:
    return "n/a" if ratio is None else f"{ratio * 100:+.2f}"


def _payload(
    row: DayDrift, models: Sequence[ModelDrift], threshold: str, rates: Sequence[ObservedRate] = ()
) -> dict[str, Any]:
    day = utc_day(row.day_start)
    named = ", ".join(f"{m.model} ({_percent(m.ratio)}%)" for m in models[:MODELS_IN_PAYLOAD])
    summary = (
        f"{row.account}: computed cost of {day} (UTC) is {_percent(row.ratio)}% off the billed cost "
        f"(computed {usd_text(row.computed_pico)}, billed {usd_text(row.billed_pico)}; threshold {threshold}%)"
    )
    if named:
        summary += f"; models: {named}"
    if rates:  # the prices that are off, from the rates the day's bill shows
        summary += "; prices off: " + "; ".join(rate_text(r) for r in rates[:MODELS_IN_PAYLOAD])
    return {
        "prices": [rate_payload(r) for r in rates[:MODELS_IN_PAYLOAD]],
        "summary": summary,
        "severity": "warning",
        "labels": {"provider": row.provider, "account": row.account, "day": day},
        "provider": row.provider,
        "account": row.account,
        "day": day,
        "computed_usd": usd_exact(row.computed_pico),
        "billed_usd": usd_exact(row.billed_pico),
        "drift_percent": _percent(row.ratio),
        "threshold_percent": threshold,
        "models": [
            {
                "model": m.model,
                "drift_percent": _percent(m.ratio),
                "computed_usd": usd_exact(m.computed_pico),
                "billed_usd": usd_exact(m.billed_pico),
            }
            for m in models[:MODELS_IN_PAYLOAD]
        ],
    }


def evaluate_drift(  # noqa: PLR0917 - the positional order the daemon calls it with
    ledger: Ledger,
    billed: BilledStore,
    alert_store: AlertStore,
    channels: Iterable[str],
    threshold_percent: Decimal,
    now: datetime,
    *,
    window_days: int = WINDOW_DAYS,
    settle_seconds: int = SETTLE_SECONDS,
    rates: Mapping[tuple[str, int], Sequence[ObservedRate]] | None = None,
) -> list[DriftStatus]:
    """Evaluate the settled days of the last `window_days` and move each (account, day) alert.

    Transitions and their outbox rows are written in one transaction. A day whose drift is
    undefined (nothing billed) is left as it is. Alarms of an older threshold setting for the
    same days are resolved, so changing the threshold never leaves an alarm behind. `rates`, per
    (account, day), are the bill's rates that disagree with the table's (reconciliation.rates): the
    alert names those prices.
    """
    names = list(channels)
    now_s = to_unix(now)
    end = (now_s - settle_seconds) // DAY * DAY
    start = now_s // DAY * DAY - window_days * DAY
    label = threshold_label(threshold_percent)
    days = [r for r in drift_rows(ledger, billed, start, end) if r.project is None] if end > start else []
    models: dict[tuple[str, int], list[ModelDrift]] = {}
    if days:
        for m in off_models(model_drift(ledger, billed, start, end, per_day=True), threshold_percent):
            if m.day_start is not None:
                models.setdefault((m.account, m.day_start), []).append(m)
    result: list[DriftStatus] = []
    with alert_store.transaction():
        for row in days:
            if row.ratio is None:
                continue
            state = ALARM if exceeds(row.ratio, threshold_percent) else OK
            off = tuple(models.get((row.account, row.day_start), ()))
            queued = alert_store.transition(
                AlertKey(row.account, row.day_start, label, KIND),
                state,
                period_end=row.day_start + DAY + window_days * DAY,
                now=now_s,
                payload=_payload(row, off, label, (rates or {}).get((row.account, row.day_start), ())),
                channels=names,
            )
            result.append(DriftStatus(row, state, queued, off))
        by_day = {(r.account, r.day_start): r for r in days}
        for key, stored in alert_store.states(current_at=now_s).items():
            if key.kind != KIND or key.threshold == label or stored.state != ALARM:
                continue
            current = by_day.get((key.budget, key.period_start))
            if current is not None:
                alert_store.transition(
                    key,
                    OK,
                    period_end=stored.period_end,
                    now=now_s,
                    payload=_payload(current, (), key.threshold),
                    channels=names,
                )
    return result
