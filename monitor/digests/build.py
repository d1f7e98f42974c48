"""The digest's text: a period's spend for people, against the period before.

Sections: the total and each account against the previous period, each team (when attribution
rules exist), the top movers (projects and models by the size of their change, named), budgets near
their limits, usage that could not be priced, savings found (caching, and the largest what-if), and
Claude Code per developer. Money is in dollars and cents with thousands separators (`$1,234.56`),
ids are shown by their directory names. The same text goes to every channel and to the CLI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from monitor.attribution import Attributor
from monitor.budgets import BudgetStatus
from monitor.budgets.payload import blind_text
from monitor.directory import Names, no_project
from monitor.pricing import PriceTable
from monitor.reconciliation.attributed import attributed_spend
from monitor.reconciliation.report import developers
from monitor.reconciliation.savings import savings_by, what_if
from monitor.records import usd_text
from monitor.store import Ledger
from monitor.store.directory import read_names

TOP = 5
NEAR_LIMIT = Decimal("0.8")
"""A budget is "near its limit" from 80% spent, or when its forecast reaches the limit."""


@dataclass(frozen=True, slots=True)
class Digest:
    """One digest: `title` (one line), `summary` (the total, one line) and `text` (everything)."""

    period: str
    start: int
    end: int
    title: str
    summary: str
    text: str


def change(now: int, before: int) -> str:
    """ "+$150.00 (+60.0%)", "-$2.00 (-4.1%)", "+$3.00 (new)", "no change"."""
    diff = now - before
    if diff == 0:
        return "no change"
    sign = "+" if diff > 0 else "-"
    money = f"{sign}{usd_text(abs(diff))}"
    if before <= 0:
        return f"{money} (new)"
    percent = (Decimal(diff) * 100 / Decimal(before)).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
    return f"{money} ({'+' if percent > 0 else ''}{percent}%)"


def period_label(period: str, start: datetime, end: datetime) -> str:
    last = (end - timedelta(days=1)).date()
    if period == "day":
        return f"on {start.date().isoformat()}"
    if period == "week":
        return f"in the week of {start.date().isoformat()} to {last.isoformat()}"
    return f"in {start.date().isoformat()} to {last.isoformat()}"


@dataclass(frozen=True)
class DigestInputs:
    """What a digest is built from besides the ledger."""

    tz: ZoneInfo
    attributor: Attributor
    table: PriceTable
    budgets: Sequence[BudgetStatus] = ()
    discounts: Mapping[str, Decimal] | None = None


def build_digest(
    ledger: Ledger, period: str, bounds: tuple[datetime, datetime, datetime], inputs: DigestInputs
) -> Digest:
    """The digest of [start, end) against [previous, start); `bounds` = (previous, start, end)."""
    _, start_dt, end_dt = bounds
    prev, start, end = (int(d.timestamp()) for d in bounds)
    dims = ("provider", "account", "project", "model", "team")
    now_rows = attributed_spend(ledger, dims, start, end, inputs.attributor)
    before_rows = attributed_spend(ledger, dims, prev, start, inputs.attributor)
    label = period_label(period, start_dt, end_dt)
    names = read_names(ledger)
    total, before = _sum(now_rows), _sum(before_rows)
    summary = f"LLM spend {label}: {usd_text(total)}, {change(total, before)} against the {period} before"
    lines = [
        f"LLM spend {label} ({inputs.tz.key})",
        f"Total: {usd_text(total)}, {change(total, before)} against {usd_text(before)} the {period} before",
    ]
    lines += _section("By account", _compare(now_rows, before_rows, ("account",), names))
    if inputs.attributor.rules:
        lines += _section("By team", _compare(now_rows, before_rows, ("team",), names))
    lines += _section(
        "Top movers by project", _compare(now_rows, before_rows, ("account", "project"), names, movers=True)
    )
    lines += _section("Top movers by model", _compare(now_rows, before_rows, ("model",), names, movers=True))
    lines += _section("Budgets near their limits", _budgets(inputs.budgets))
    lines += _section("Unpriced usage", _unpriced(ledger, start, end))
    lines += _section("Savings found", _savings(ledger, start, end, inputs, names))
    lines += _section("Claude Code by developer (Anthropic's estimate)", _claude_code(ledger, start, end))
    title = f"LLM spend digest {label}"
    return Digest(period, start, end, title, summary, "\n".join(lines) + "\n")


def _sum(rows: Sequence[Mapping[str, Any]]) -> int:
    return sum(int(r["cost_total"]) for r in rows)


def _section(title: str, lines: list[str], empty: str = "") -> list[str]:
    if not lines and not empty:
        return []
    return ["", f"{title}:", *(f"  {line}" for line in (lines or [empty]))]


def _label(key: tuple[str, ...], dims: tuple[str, ...], provider: str, names: Names) -> str:
    values = dict(zip(dims, key, strict=True))
    if "project" in values:
        account, project = values["account"], values["project"]
        name = names.project(account, project) or no_project(provider)
        return f"{name} ({account})"
    return " ".join(values.values()) or "(none)"


def _totals(
    rows: Sequence[Mapping[str, Any]], dims: tuple[str, ...]
) -> dict[tuple[str, ...], tuple[str, int]]:
    out: dict[tuple[str, ...], tuple[str, int]] = {}
    for r in rows:
        key = tuple(str(r[d]) for d in dims)
        provider, cost = out.get(key, (str(r["provider"]), 0))
        out[key] = (provider, cost + int(r["cost_total"]))
    return out


def _compare(
    now_rows: Sequence[Mapping[str, Any]],
    before_rows: Sequence[Mapping[str, Any]],
    dims: tuple[str, ...],
    names: Names,
    *,
    movers: bool = False,
) -> list[str]:
    """One line per group of `dims`: its spend and its change. All groups, largest first; or
    (`movers`) the TOP groups whose spend changed most, either way."""
    now, before = _totals(now_rows, dims), _totals(before_rows, dims)

    def spent(totals: dict[tuple[str, ...], tuple[str, int]], key: tuple[str, ...]) -> int:
        return totals.get(key, ("", 0))[1]

    keys = set(now) | set(before)
    if movers:
        moved = [k for k in keys if spent(now, k) != spent(before, k)]
        ranked = sorted(moved, key=lambda k: (-abs(spent(now, k) - spent(before, k)), k))[:TOP]
    else:
        ranked = sorted(keys, key=lambda k: (-spent(now, k), k))
    return [
        f"{_label(k, dims, (now.get(k) or before[k])[0], names)}: {usd_text(spent(now, k))}, "
        f"{change(spent(now, k), spent(before, k))}"
        for k in ranked
    ]


def _budgets(statuses: Sequence[BudgetStatus]) -> list[str]:
    lines = []
    for s in statuses:
        if s.limit_pico <= 0:
            continue
        near = s.utilization >= NEAR_LIMIT or s.forecast_pico >= s.limit_pico
        if near:
            percent = (s.utilization * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
            lines.append(
                f"{s.name}: {usd_text(s.spend_pico)} of {usd_text(s.limit_pico)} ({percent}%) this {s.period}, "
                f"forecast {usd_text(s.forecast_pico)}"
                + blind_text(s.billed_excess_pico, s.unpriced_tokens, s.unpriced_models)
            )
    return lines


def _unpriced(ledger: Ledger, start: int, end: int) -> list[str]:
    rows = [r for r in ledger.spend_by(("account", "model"), start, end) if r["unpriced_tokens"]]
    return [
        f"{r['unpriced_tokens']:,} tokens of {r['model'] or '(no model)'} on {r['account']} have no price "
        "(their cost is unknown, not zero; add a price)"
        for r in sorted(rows, key=lambda r: -r["unpriced_tokens"])
    ]


def _savings(ledger: Ledger, start: int, end: int, inputs: DigestInputs, names: Names) -> list[str]:
    lines = []
    cached = sum(
        savings_by(
            ledger, inputs.table, ("account",), start=start, end=end, discounts=inputs.discounts
        ).values()
    )
    if cached:
        lines.append(f"caching saved {usd_text(cached)} against the full input price")
    best: tuple[int, str] | None = None
    for w in what_if(ledger, inputs.table, start, end, discounts=inputs.discounts):
        project = names.project(w.account, w.project) or no_project(w.provider)
        for price, what in (
            (w.batch_pico, "batch prices"),
            (w.flex_pico, "flex prices"),
            (w.cheaper_pico, w.cheaper_model),
        ):
            if price is not None and w.actual_pico - price > (best[0] if best else 0):
                saved = w.actual_pico - price
                best = (
                    saved,
                    f"{w.model} in {project} ({w.account}) at {what}: {usd_text(price)} instead of {usd_text(w.actual_pico)} (an estimate)",
                )
    if best is not None:
        lines.append(best[1])
    return lines


def _claude_code(ledger: Ledger, start: int, end: int) -> list[str]:
    day = 86_400
    lines = developers(ledger, -(-start // day) * day, -(-end // day) * day)
    return [f"{d.actor} ({d.account}): {usd_text(d.estimated_pico)}" for d in lines[:TOP]]
