"""What the status page shows, as plain values: filled by the daemon (monitor.status), rendered by
monitor.metrics.status_page. Money is picodollars, times unix seconds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from monitor.store.bill_usage import BillPriced


@dataclass(frozen=True, slots=True)
class BudgetLine:
    """One budget's current period: limit, spend and forecast in picodollars, period end in unix seconds."""

    name: str
    limit_pico: int
    spend_pico: int
    forecast_pico: int
    period_end: int
    note: str = ""
    """What the spend does not show: "plus 12.4M unpriced tokens of gpt-7-preview" (budgets/payload.py)."""


@dataclass(frozen=True, slots=True)
class SpendLine:
    """Month-to-date spend of one provider account (`model` "") or one model; `billed_pico` is what the
    provider billed for the account this month (None: no bill fetched)."""

    provider: str
    account: str
    spend_pico: int
    model: str = ""
    billed_pico: int | None = None


@dataclass(frozen=True, slots=True)
class BalanceLine:
    """A channel's prepaid balance (`key` "" for the account) and its limit (None: none stated), picodollars."""

    provider: str
    account: str
    key: str
    balance_pico: int
    limit_pico: int | None
    observed_at: int


@dataclass(frozen=True, slots=True)
class NamedLine:
    """Month-to-date spend of one project, API key or user, shown by name (`ident` is the id).

    `detail` is an API key's owner."""

    account: str
    ident: str
    name: str
    spend_pico: int
    detail: str = ""


@dataclass(frozen=True, slots=True)
class SavingsLine:
    """Month-to-date cache savings of one provider account, picodollars."""

    provider: str
    account: str
    saved_pico: int


@dataclass(frozen=True, slots=True)
class PollLine:
    """The last poll of one (account, endpoint); `error` is already redacted, empty when ok."""

    account: str
    endpoint: str
    finished: int
    ok: bool
    error: str = ""


@dataclass(frozen=True, slots=True)
class RateLine:
    """A rate of a bill that disagrees with the table: USD per 1M tokens as text, the gap in percent."""

    account: str
    model: str
    token_type: str
    tier: str
    day: str
    billed_per_million: str
    table_per_million: str
    drift_percent: str


@dataclass(frozen=True, slots=True)
class BillLineProblem:
    """A billed line that gave no rate, as one line for people (pricing.bill.BillProblem.text)."""

    account: str
    day: str
    reason: str
    text: str


@dataclass(frozen=True, slots=True)
class StatusData:
    """Everything the status page shows; filled by the daemon (see monitor.status.build_status_data)."""

    generated_at: int
    month_start: int
    month_spend_pico: int
    timezone: str = "UTC"
    month: str = ""
    """The month's label (YYYY-MM) in the configured timezone; default: month_start's UTC month."""
    version: str = ""
    budgets: Sequence[BudgetLine] = field(default_factory=tuple)
    providers: Sequence[SpendLine] = field(default_factory=tuple)
    models: Sequence[SpendLine] = field(default_factory=tuple)
    savings: Sequence[SavingsLine] = field(default_factory=tuple)
    polls: Sequence[PollLine] = field(default_factory=tuple)
    balances: Sequence[BalanceLine] = field(default_factory=tuple)
    problems: Sequence[str] = field(default_factory=tuple)
    """What keeps the daemon from being ready (the ledger refused a write, a refresh failed)."""
    projects: Sequence[NamedLine] = field(default_factory=tuple)
    api_keys: Sequence[NamedLine] = field(default_factory=tuple)
    users: Sequence[NamedLine] = field(default_factory=tuple)
    teams: Sequence[NamedLine] = field(default_factory=tuple)
    """Month-to-date spend per team (`ident` the team, `detail` its cost centres), when rules exist."""
    developers: Sequence[NamedLine] = field(default_factory=tuple)
    """Claude Code's estimated cost this month per developer (not part of the spend above)."""
    bill_priced: Sequence[BillPriced] = field(default_factory=tuple)
    rates_off: Sequence[RateLine] = field(default_factory=tuple)
    bill_lines: Sequence[BillLineProblem] = field(default_factory=tuple)
    """The bills: models priced from them, table prices they disagree with, lines that gave no rate."""
