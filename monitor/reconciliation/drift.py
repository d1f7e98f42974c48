"""Drift: how far the ledger's computed cost is from what the provider billed, per account, project and day.

drift = (computed - billed) / billed, an exact Decimal, over UTC days: both providers bill in UTC
days, so the computed side is summed over the same UTC days (whatever the configured timezone).
Only days whose billed cost was fetched (`BilledStore.observed_days`) are compared. A model's
drift uses the lines that name a model (Anthropic's fields, OpenAI's parsed `line_item`).
See docs/reconciliation.md for the caveats (Anthropic Priority Tier, code execution, OpenAI usage).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext

from monitor.periods import to_unix
from monitor.reconciliation.lines import OTHER, attribute
from monitor.records import TOKEN_TYPES, BilledCost
from monitor.store import Ledger
from monitor.store.billed import DAY, BilledStore

_RATIO_DIGITS = 34
ATTRIBUTED_BY = ("provider", "account", "day_start", "line_item", "model", "token_type")
"""The fields of a billed line that `attribute` reads: what `model_drift` groups the lines by."""


def drift_ratio(computed_pico: int, billed_pico: int) -> Decimal | None:
    """(computed - billed) / billed as a Decimal (34 significant digits; exactly 0 when equal).

    None when nothing was billed but something was computed: the ratio is undefined there.
    """
    if billed_pico == 0:
        return Decimal(0) if computed_pico == 0 else None
    with localcontext() as ctx:
        ctx.prec = _RATIO_DIGITS
        return Decimal(computed_pico - billed_pico) / Decimal(billed_pico)


def exceeds(ratio: Decimal | None, threshold_percent: Decimal) -> bool:
    """True when |ratio| is above `threshold_percent` percent (an undefined ratio never is)."""
    return ratio is not None and abs(ratio) * 100 > threshold_percent


@dataclass(frozen=True, slots=True)
class DayDrift:
    """Computed vs billed picodollars of one account's UTC day; `project` None means the whole account."""

    provider: str
    account: str
    day_start: int
    project: str | None
    computed_pico: int
    billed_pico: int

    @property
    def ratio(self) -> Decimal | None:
        return drift_ratio(self.computed_pico, self.billed_pico)


@dataclass(frozen=True, slots=True)
class ModelDrift:
    """Computed vs billed picodollars of one model of one account, over a range of days (`day_start`
    None) or one day. `kind` is "" for the model's whole cost, else a TOKEN_TYPES name or "other"."""

    provider: str
    account: str
    model: str
    kind: str
    day_start: int | None
    computed_pico: int
    billed_pico: int

    @property
    def ratio(self) -> Decimal | None:
        return drift_ratio(self.computed_pico, self.billed_pico)


def _day_range(start: int, end: int) -> tuple[int, int]:
    """[start, end) widened to whole UTC days: the days starting in it."""
    return -(-start // DAY) * DAY, -(-end // DAY) * DAY


def _providers(ledger: Ledger, billed: BilledStore) -> dict[str, str]:
    """account -> provider, from the usage totals and the billed lines."""
    return billed.providers() | ledger.account_providers()


def _comparable_days(ledger: Ledger, billed: BilledStore, first: int, end: int) -> set[tuple[str, int]]:
    """(account, day_start) of the days in [first, end) whose bill was fetched and whose usage the
    ledger holds from the day's start (not a first poll that looked back to mid-day)."""
    coverage = ledger.coverage_starts()
    return {(a, d) for a, d in billed.observed_days(first, end) if d >= coverage.get(a, d)}


def drift_rows(ledger: Ledger, billed: BilledStore, day_start: int, day_end: int) -> list[DayDrift]:
    """Drift of every fetched (account, UTC day) starting in [day_start, day_end): one row per account
    and day (project None), then one per project (OpenAI project id, Anthropic workspace id) seen on
    either side. Ordered by day, account, project.

    A day that starts before the account's usage coverage (Ledger.coverage_starts: the first poll
    looked back to mid-day) is left out: its bill covers the whole day, the ledger only part of it.
    """
    first, end = _day_range(day_start, day_end)
    observed = _comparable_days(ledger, billed, first, end)
    providers = _providers(ledger, billed)
    billed_sums: dict[tuple[str, int, str], int] = {
        (r["account"], r["day_start"], r["project"]): r["amount_pico"]
        for r in billed.billed_by(("account", "day_start", "project"), first, end)
    }
    rows: list[DayDrift] = []
    for day in sorted({d for _, d in observed}):
        computed: dict[tuple[str, str], int] = {
            (r["account"], r["project"]): r["cost_total"]
            for r in ledger.spend_by(("account", "project"), day, day + DAY)
        }
        for account in sorted(a for a, d in observed if d == day):
            provider = providers.get(account, "")
            projects = {p for a, p in computed if a == account}
            projects |= {p for a, d, p in billed_sums if a == account and d == day}
            per_project = [
                DayDrift(
                    provider,
                    account,
                    day,
                    project,
                    computed.get((account, project), 0),
                    billed_sums.get((account, day, project), 0),
                )
                for project in sorted(projects)
            ]
            total_c = sum(r.computed_pico for r in per_project)
            total_b = sum(r.billed_pico for r in per_project)
            rows.append(DayDrift(provider, account, day, None, total_c, total_b))
            rows.extend(per_project)
    return rows


def model_drift(
    ledger: Ledger,
    billed: BilledStore,
    day_start: int,
    day_end: int,
    *,
    per_day: bool = False,
    by_kind: bool = False,
) -> list[ModelDrift]:
    """Drift per (account, model) over the fetched UTC days starting in [day_start, day_end).

    Only billed lines that name a model take part, and only computed usage that has a model, so
    unattributed costs (e.g. OpenAI "Web search tool calls") never count against a model.
    An account-day without any line naming a model (wording not understood) is left out, so its
    models are not all reported as unbilled. `per_day` gives one row per day; `by_kind` adds rows
    per token kind (computed non-token costs and billed lines of unknown kind are "other"). Model
    names are matched as reported. Days before the account's usage coverage are left out, as in
    `drift_rows`.
    """
    first, end = _day_range(day_start, day_end)
    observed = _comparable_days(ledger, billed, first, end)
    providers = _providers(ledger, billed)
    lines_by_day: dict[int, list[tuple[str, str, str, int]]] = defaultdict(list)
    # The lines summed per what names their model (tens a day, not the tens of thousands of lines
    # per project and key a large organisation is billed in): only those fields attribute a line.
    for r in billed.billed_by(ATTRIBUTED_BY, first, end):
        if (r["account"], r["day_start"]) in observed:
            line = BilledCost(
                provider=r["provider"],
                account=r["account"],
                day_start=r["day_start"],
                project="",
                line_item=r["line_item"],
                amount_pico=r["amount_pico"],
                model=r["model"],
                token_type=r["token_type"],
            )
            who = attribute(line)
            if who.model:
                lines_by_day[line.day_start].append((line.account, who.model, who.kind, line.amount_pico))
    sums: dict[tuple[str, str, str, int | None], list[int]] = defaultdict(lambda: [0, 0])
    for day in sorted({d for _, d in observed}):
        accounts = {account for account, _, _, _ in lines_by_day.get(day, ())}
        slot: int | None = day if per_day else None
        for r in ledger.spend_by(("account", "model"), day, day + DAY):
            if r["account"] not in accounts or not r["model"]:
                continue
            key = (r["account"], r["model"])
            sums[(*key, "", slot)][0] += r["cost_total"]
            if by_kind:
                for kind in TOKEN_TYPES:
                    sums[(*key, kind, slot)][0] += r["costs"][kind]
                sums[(*key, OTHER, slot)][0] += r["unit_cost"]
        for account, model, kind, amount in lines_by_day.get(day, ()):
            sums[(account, model, "", slot)][1] += amount
            if by_kind:
                sums[(account, model, kind, slot)][1] += amount
    return [
        ModelDrift(providers.get(account, ""), account, model, kind, slot, c, b)
        for (account, model, kind, slot), (c, b) in sorted(sums.items(), key=_model_order)
        if c or b or not kind
    ]


def _model_order(item: tuple[tuple[str, str, str, int | None], list[int]]) -> tuple[object, ...]:
    account, model, kind, slot = item[0]
    return (account, model, -1 if slot is None else slot, kind)


def last_complete_day(now: datetime) -> int:
    """The start of the last complete UTC day before `now` (aware)."""
    today = to_unix(now) // DAY * DAY
    return today - DAY


def last_complete_day_drift(ledger: Ledger, billed: BilledStore, now: datetime) -> list[DayDrift]:
    """Account-level drift of the last complete UTC day, for `llm_cost_drift_ratio{provider,account}`.

    Accounts whose billed cost of that day was not fetched, or whose ratio is undefined (nothing
    billed, something computed), are left out rather than shown as 0.
    """
    day = last_complete_day(now)
    return [
        r for r in drift_rows(ledger, billed, day, day + DAY) if r.project is None and r.ratio is not None
    ]


def off_models(rows: Iterable[ModelDrift], threshold_percent: Decimal) -> list[ModelDrift]:
    """The whole-model rows (kind "") whose |drift| is above the threshold, or that were computed but
    not billed at all (ratio undefined); unbilled first, then by |drift|, largest first."""
    off = [r for r in rows if not r.kind and (r.ratio is None or exceeds(r.ratio, threshold_percent))]
    return sorted(off, key=lambda r: (r.ratio is not None, -abs(r.ratio or Decimal(0)), r.account, r.model))
