"""A budget's status now (`BudgetStatus`) and the arithmetic of its thresholds: exact utilization and
whether a value reaches a percent of a limit (Decimal with enough precision, never floats)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, localcontext
from types import MappingProxyType

from monitor.store.alerts import ALARM, OK


def _empty_states() -> Mapping[tuple[Decimal, str], str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """A budget now: its current period, spend and limit (picodollars), forecast and alert states.

    `states` maps (threshold percent, kind) to "OK" or "ALARM", kind being "actual" (spend) or
    "forecast" (projected period-end spend). `runout_at` is when spend reaches the limit at the
    current run rate (None: never at this rate); it may lie past the period end.
    """

    name: str
    period: str
    period_start: datetime
    period_end: datetime
    limit_pico: int
    spend_pico: int
    utilization: Decimal
    forecast_pico: int
    runout_at: datetime | None
    states: Mapping[tuple[Decimal, str], str] = field(default_factory=_empty_states)
    daily_rate_pico: int = 0
    forecast_method: str = "none"
    billed_excess_pico: int = 0
    """Of `spend_pico`, what bills show above the computed cost (budgets/blind.py)."""
    unpriced_tokens: int = 0
    unpriced_models: tuple[tuple[str, int], ...] = ()
    """Tokens of the period and scope no source priced, in all and by model (largest first)."""

    def state(self, threshold: Decimal, kind: str = "actual") -> str:
        return self.states.get((threshold, kind), OK)

    def alarm_states(self) -> list[tuple[tuple[Decimal, str], bool]]:
        """((threshold, kind), in ALARM) for every configured threshold: the llm_budget_alert_state gauge."""
        return [(key, state == ALARM) for key, state in self.states.items()]


def utilization(spend: int, limit: int) -> Decimal:
    if limit <= 0:
        return Decimal(0) if spend <= 0 else Decimal("Infinity")
    with localcontext() as ctx:
        ctx.prec = 40
        return (Decimal(spend) / Decimal(limit)).quantize(Decimal("0.000001"))


def at_or_over(value: int, limit: int, percent: Decimal) -> bool:
    with localcontext() as ctx:
        ctx.prec = 60
        return Decimal(value) * 100 >= Decimal(limit) * percent
