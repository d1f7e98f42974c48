"""`report --plot F.png`: daily spend stacked by a dimension, and each monthly budget's cumulative spend."""

from __future__ import annotations

import fnmatch
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.attribution import Attributor
from monitor.config import BudgetScope, Config
from monitor.errors import SpendMonitorError
from monitor.reconciliation.attributed import attributed_spend
from monitor.reconciliation.report import Report
from monitor.records import pico_to_usd
from monitor.store import Ledger, Scope

PLOT_SERIES = 10
"""Series shown in the stacked bars; the rest are summed as "other"."""


def plot_report(path: Path, ledger: Ledger, config: Config, report: Report) -> None:
    """Daily spend stacked by the first --by dimension; cumulative spend per monthly budget vs its limit."""
    try:
        from matplotlib.figure import Figure  # noqa: PLC0415 - optional dependency, loaded on demand
    except ImportError:
        raise SpendMonitorError(
            "--plot needs matplotlib: install it with pip install 'llm-spend-monitor[plot]'"
        ) from None
    dim = report.by[0]
    attributor = Attributor(config.attribution)
    daily = attributed_spend(ledger, (dim, "day"), report.start, report.end, attributor, tz=config.tz)
    days = sorted({r["day"] for r in daily})
    series: dict[str, list[float]] = {}
    for r in daily:
        values = series.setdefault(str(r[dim]) or "(none)", [0.0] * len(days))
        values[days.index(r["day"])] += float(pico_to_usd(r["cost_total"]))
    ranked = sorted(series.items(), key=lambda kv: -sum(kv[1]))
    if len(ranked) > PLOT_SERIES:
        rest = [sum(column) for column in zip(*(v for _, v in ranked[PLOT_SERIES - 1 :]), strict=True)]
        ranked = [*ranked[: PLOT_SERIES - 1], ("other", rest)]
    budgets = [b for b in config.budgets if b.period == "month"]
    fig = Figure(figsize=(10, 7 if budgets else 4.5), layout="constrained")
    axes = fig.subplots(2 if budgets else 1, 1, squeeze=False)[:, 0]
    bottom = [0.0] * len(days)
    xs = list(range(len(days)))
    for name, values in ranked:
        axes[0].bar(xs, values, bottom=bottom, label=name)
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    for ax in axes:
        ax.set_xticks(xs, [d[5:] for d in days], rotation=90)
    axes[0].set_title(f"Daily spend (USD) by {dim}")
    if series:
        axes[0].legend(fontsize="small")
    for budget in budgets:
        by_day = budget_days(
            ledger, budget.scope, attributor, start=report.start, end=report.end, tz=config.tz
        )
        running, cumulative = 0, []
        for day in days:
            running += by_day.get(day, 0)
            cumulative.append(float(pico_to_usd(running)))
        line = axes[1].plot(xs, cumulative, label=f"{budget.name} spend")[0]
        axes[1].axhline(
            float(budget.amount_usd), linestyle="--", color=line.get_color(), label=f"{budget.name} limit"
        )
    if budgets:
        axes[1].set_title("Month-to-date spend per monthly budget (USD)")
        axes[1].legend(fontsize="small")
    try:
        fig.savefig(path, format="png")
    except OSError as exc:
        raise SpendMonitorError(f"--plot: cannot write {path}: {exc.strerror or exc}") from None


def budget_days(
    ledger: Ledger, s: BudgetScope, attributor: Attributor, *, start: int, end: int, tz: ZoneInfo
) -> dict[str, int]:
    """Picodollars per local day (YYYY-MM-DD) in [start, end) of the usage a budget scope counts,
    its team and cost centre as the rules give them (not the Claude Code a budget naming people adds)."""
    scope = Scope(
        provider=s.provider,
        account=s.account,
        project=s.project,
        model=s.model,
        api_key=s.api_key,
        user=s.user,
    )
    by_day: dict[str, int] = {}
    for r in attributed_spend(
        ledger, ("day", "team", "cost_center"), start, end, attributor, scope=scope, tz=tz
    ):
        if _matches(s.team, r["team"]) and _matches(s.cost_center, r["cost_center"]):
            by_day[r["day"]] = by_day.get(r["day"], 0) + r["cost_total"]
    return by_day


def _matches(patterns: tuple[str, ...], value: str) -> bool:
    return not patterns or any(fnmatch.fnmatchcase(value, p) for p in patterns)
