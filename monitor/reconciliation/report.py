"""The monthly report's figures: spend, tokens, requests, billed cost, drift and savings per group,
totals, drift per day, the models whose computed cost is off, and what-if estimates.

Spend is the ledger's (buckets starting in the month, in the configured timezone), so the totals
equal `Ledger.spend` and the metrics. Billed cost and drift are over the UTC days that start in the
month and whose billed cost was fetched; drift compares the computed cost of exactly those days.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from monitor.attribution import Attributor
from monitor.config.model import AttributionRule
from monitor.pricing import PriceTable
from monitor.reconciliation.attributed import ATTRIBUTED, attributed_savings, attributed_spend
from monitor.reconciliation.drift import (
    DayDrift,
    ModelDrift,
    drift_ratio,
    drift_rows,
    model_drift,
    off_models,
)
from monitor.reconciliation.lines import attribute
from monitor.reconciliation.savings import WhatIfRow, savings_by, what_if
from monitor.records import TOKEN_TYPES
from monitor.store import Ledger
from monitor.store.billed import DAY, BilledStore
from monitor.store.claude_code import ClaudeCodeStore

REPORT_DIMENSIONS: tuple[str, ...] = (
    "provider",
    "account",
    "project",
    "model",
    "api_key",
    "user",
    "team",
    "cost_center",
)
BILLED_DIMENSIONS: tuple[str, ...] = ("provider", "account", "project", "model", "api_key")
"""Groupings the providers' cost data can be split by. By API key only where the bill is (OpenAI's
costs grouped by `api_key_id`); Anthropic's cost report has no key, so its keys' bills are unknown."""


@dataclass(frozen=True, slots=True)
class GroupLine:
    """One group's month: `key` holds the values of the report's `by` dimensions (empty for the total).

    `billed_pico`/`drift_computed_pico` are None when the grouping has a dimension the billed cost
    lacks; `drift_computed_pico` is the computed cost of the billed (fetched) UTC days only.
    """

    key: tuple[Any, ...]
    cost_pico: int
    tokens: Mapping[str, int]
    requests: int
    unpriced_tokens: int
    saved_pico: int
    billed_pico: int | None
    drift_computed_pico: int | None

    @property
    def ratio(self) -> Decimal | None:
        if self.billed_pico is None or self.drift_computed_pico is None:
            return None
        return drift_ratio(self.drift_computed_pico, self.billed_pico)


@dataclass(frozen=True, slots=True)
class DeveloperLine:
    """One developer's (or API key's) Claude Code in the month: tokens and the provider's estimate."""

    provider: str
    account: str
    actor: str
    actor_type: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    estimated_pico: int


@dataclass(frozen=True)
class Report:
    """Everything `spend-monitor report` prints for one month."""

    start: int
    end: int
    by: tuple[str, ...]
    threshold_percent: Decimal
    groups: list[GroupLine]
    total: GroupLine
    days: list[DayDrift]
    models: list[ModelDrift]
    """Per model, UTC day and kind (kind "" = the model's whole cost)."""
    off: list[ModelDrift]
    """(model, day) whose whole cost is off by more than the threshold, or computed but not billed."""
    off_kinds: list[ModelDrift]
    """The token kinds of those (model, day) that differ."""
    what_if: list[WhatIfRow]
    notes: list[str] = field(default_factory=list)
    claude_code: list[DeveloperLine] = field(default_factory=list)
    """Claude Code per developer over the UTC days starting in the month (not part of the spend)."""


def _billed_groups(
    ledger: Ledger, billed: BilledStore, by: Sequence[str], start: int, end: int
) -> tuple[dict[tuple[Any, ...], int], dict[tuple[Any, ...], int]]:
    """(billed, computed on the same fetched UTC days) per group of `by`."""
    first, last = -(-start // DAY) * DAY, -(-end // DAY) * DAY
    observed = billed.observed_days(first, last)
    keyed = keyed_accounts(billed, first, last)
    if "api_key" in by:
        observed = {(a, d): o for (a, d), o in observed.items() if a in keyed}
    billed_sums: dict[tuple[Any, ...], int] = {}
    for line in billed.lines(first, last):
        if "api_key" in by and line.account not in keyed:
            continue
        values = {
            "provider": line.provider,
            "account": line.account,
            "project": line.project,
            "model": attribute(line).model,
            "api_key": line.api_key,
        }
        key = tuple(values[d] for d in by)
        billed_sums[key] = billed_sums.get(key, 0) + line.amount_pico
    computed: dict[tuple[Any, ...], int] = {}
    dims = tuple(dict.fromkeys(("account", *by)))
    for day in sorted({d for _, d in observed}):
        for r in ledger.spend_by(dims, day, day + DAY):
            if (r["account"], day) in observed:
                key = tuple(r[d] for d in by)
                computed[key] = computed.get(key, 0) + r["cost_total"]
    return billed_sums, computed


def keyed_accounts(billed: BilledStore, start: int, end: int) -> set[str]:
    """Accounts whose bills of the days in [start, end) are split by API key (any line names one)."""
    return {line.account for line in billed.lines(start, end) if line.api_key}


def build_report(
    ledger: Ledger,
    billed: BilledStore,
    table: PriceTable,
    *,
    start: int,
    end: int,
    by: Sequence[str],
    threshold_percent: Decimal,
    discounts: Mapping[str, Decimal] | None = None,
    attribution: Sequence[AttributionRule] = (),
) -> Report:
    """The report of buckets starting in [start, end) grouped by `by` (REPORT_DIMENSIONS; team and
    cost_center through the `attribution` rules)."""
    unknown = [d for d in by if d not in REPORT_DIMENSIONS]
    if unknown or not by:
        raise ValueError(
            f"--by: expected some of {', '.join(REPORT_DIMENSIONS)}, got {', '.join(by) or 'nothing'}"
        )
    by = tuple(dict.fromkeys(by))
    if any(d in ATTRIBUTED for d in by):
        attributor = Attributor(attribution)
        spend = attributed_spend(ledger, by, start, end, attributor)
        saved = attributed_savings(
            ledger, table, by, start=start, end=end, discounts=discounts, attributor=attributor
        )
    else:
        spend = ledger.spend_by(by, start, end)
        saved = savings_by(ledger, table, by, start=start, end=end, discounts=discounts)
    can_bill = all(d in BILLED_DIMENSIONS for d in by)
    billed_sums, computed = _billed_groups(ledger, billed, by, start, end) if can_bill else ({}, {})
    # With api_key in `by`, only the keys of accounts billed per key have a bill to compare with.
    billable = set(billed_sums) | set(computed)
    keys = sorted({tuple(r[d] for d in by) for r in spend} | set(billed_sums) | set(saved))
    by_key = {tuple(r[d] for d in by): r for r in spend}
    groups = []
    for key in keys:
        r = by_key.get(key)
        groups.append(
            GroupLine(
                key=key,
                cost_pico=r["cost_total"] if r else 0,
                tokens=dict(r["tokens"]) if r else dict.fromkeys(TOKEN_TYPES, 0),
                requests=r["requests"] if r else 0,
                unpriced_tokens=r["unpriced_tokens"] if r else 0,
                saved_pico=saved.get(key, 0),
                billed_pico=billed_sums.get(key, 0)
                if can_bill and (key in billable or "api_key" not in by)
                else None,
                drift_computed_pico=computed.get(key, 0)
                if can_bill and (key in billable or "api_key" not in by)
                else None,
            )
        )
    total = GroupLine(
        key=(),
        cost_pico=ledger.spend(start, end),
        tokens={t: sum(g.tokens[t] for g in groups) for t in TOKEN_TYPES},
        requests=sum(g.requests for g in groups),
        unpriced_tokens=sum(g.unpriced_tokens for g in groups),
        saved_pico=sum(saved.values()),
        billed_pico=sum(billed_sums.values()) if can_bill else None,
        drift_computed_pico=sum(computed.values()) if can_bill else None,
    )
    models = model_drift(ledger, billed, start, end, per_day=True, by_kind=True)
    off = off_models(models, threshold_percent)
    off_names = {(m.account, m.model, m.day_start) for m in off}
    kinds = [m for m in models if m.kind]
    notes = []
    if can_bill and "api_key" in by:
        notes.append(
            "billed cost per api_key covers the accounts billed per key (OpenAI); other accounts' keys "
            "show no bill, and the total's billed and drift cover the keyed accounts only"
        )
    if not can_bill:
        missing = ", ".join(d for d in by if d not in BILLED_DIMENSIONS)
        notes.append(f"billed cost and drift are not split by {missing} (the providers' cost data has none)")
    if total.unpriced_tokens:
        notes.append(f"{total.unpriced_tokens} tokens could not be priced: the computed cost is incomplete")
    return Report(
        start=start,
        end=end,
        by=by,
        threshold_percent=threshold_percent,
        groups=groups,
        total=total,
        days=[d for d in drift_rows(ledger, billed, start, end) if d.project is None],
        models=models,
        off=off,
        off_kinds=[m for m in kinds if (m.account, m.model, m.day_start) in off_names and m.ratio != 0],
        what_if=what_if(ledger, table, start, end, discounts=discounts),
        notes=notes,
        claude_code=developers(ledger, start, end),
    )


def developers(ledger: Ledger, start: int, end: int) -> list[DeveloperLine]:
    """Claude Code per (account, actor) over the UTC days starting in [start, end), by estimate."""
    first, last = -(-start // DAY) * DAY, -(-end // DAY) * DAY
    sums: dict[tuple[str, str, str, str], list[int]] = {}
    for r in ClaudeCodeStore(ledger).rows(first, last):
        acc = sums.setdefault((r.provider, r.account, r.actor, r.actor_type), [0] * 5)
        for i, value in enumerate(
            (
                r.input_tokens,
                r.output_tokens,
                r.cache_read_tokens,
                r.cache_write_tokens,
                r.estimated_cost_pico,
            )
        ):
            acc[i] += value
    lines = [DeveloperLine(*key, *values) for key, values in sums.items()]
    return sorted(lines, key=lambda d: (-d.estimated_pico, d.account, d.actor))
