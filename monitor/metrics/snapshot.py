"""What the metrics are rendered from: the ledger view the daemon fills after each poll.

`LedgerView` and its rows are plain frozen values (money in integer picodollars) read from the
ledger, so a restart never resets a counter; a `Snapshot` adds the poll stats (`PollView`, see
stats.py), build info, render options and the time it was built. No I/O here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from monitor.metrics.stats import AccountRef, PollStats, PollView
from monitor.reconciliation.savings import SavingsRow
from monitor.records import TOKEN_TYPES, ZERO_TOKENS

__all__ = [
    "AccountRef",
    "BalanceRow",
    "BillLinesRow",
    "BilledRow",
    "BudgetRow",
    "BuildInfo",
    "ClaudeCodeRow",
    "DriftRow",
    "LedgerView",
    "MetricsOptions",
    "NameRow",
    "ObservedPriceRow",
    "PollStats",
    "PollView",
    "PriceRow",
    "SavingsRow",
    "Snapshot",
    "SpendRow",
    "TotalRow",
    "UnpricedRow",
]


@dataclass(frozen=True, slots=True)
class TotalRow:
    """Cumulative usage of one label combination: `tokens` and `costs` (picodollars) in TOKEN_TYPES order.

    `unpriced_tokens` counts the tokens among `tokens` that had no price: their cost is unknown, so
    a token type with tokens but no cost in such a row is not exported as costing $0.
    """

    provider: str
    account: str
    project: str = ""
    model: str = ""
    service_tier: str = ""
    api_key: str = ""
    tokens: tuple[int, ...] = ZERO_TOKENS
    costs: tuple[int, ...] = ZERO_TOKENS
    requests: int = 0
    unpriced_tokens: int = 0
    unit_cost: int = 0
    """Picodollars of billable non-token units (web search requests, tool calls)."""
    user: str = ""
    """The user (OpenAI's user_id, a Claude Code developer); exported with `include_user`."""
    repriced_costs: tuple[int, ...] = ZERO_TOKENS
    repriced_unit_cost: int = 0
    """What re-pricing took back from `costs` and `unit_cost` (store/repriced.py): the counters add it,
    so they never go down when rows are priced again; `llm_cost_repriced_usd_total` exports it."""

    def __post_init__(self) -> None:
        if len(self.tokens) != len(TOKEN_TYPES) or len(self.costs) != len(TOKEN_TYPES):
            raise ValueError(f"TotalRow tokens and costs need {len(TOKEN_TYPES)} values (TOKEN_TYPES order)")


@dataclass(frozen=True, slots=True)
class SpendRow:
    """Spend in the current calendar `period` ("day" or "month"), picodollars."""

    provider: str
    account: str
    project: str
    model: str
    period: str
    cost_pico: int
    team: str = "unassigned"
    """The team the attribution rules give this usage (docs/configuration.md, `attribution`)."""


@dataclass(frozen=True, slots=True)
class BilledRow:
    """Provider-reported cost in the current `period`, picodollars."""

    provider: str
    account: str
    project: str
    period: str
    amount_pico: int


@dataclass(frozen=True, slots=True)
class DriftRow:
    """(computed - billed) / billed for the last complete day."""

    provider: str
    account: str
    ratio: Decimal


@dataclass(frozen=True, slots=True)
class UnpricedRow:
    """Cumulative tokens that could not be priced (unknown model or token kind)."""

    provider: str
    account: str
    model: str
    tokens: int
    priced_later: int = 0
    """Tokens that had no price when stored and got one since: `llm_unpriced_tokens_total` counts them
    too (it counts tokens that arrived unpriced), `llm_unpriced_tokens_now` only `tokens`."""


@dataclass(frozen=True, slots=True)
class BillLinesRow:
    """Billed lines of the last 31 days that gave no rate, per account and reason (pricing/bill.py)."""

    provider: str
    account: str
    reason: str
    lines: int


@dataclass(frozen=True, slots=True)
class PriceRow:
    """A price in force now, USD per 1M tokens, so dashboards can re-price usage."""

    provider: str
    model: str
    service_tier: str
    token_type: str
    usd_per_million: Decimal


@dataclass(frozen=True, slots=True)
class ObservedPriceRow:
    """The rate an account's latest bill shows for a model, tier and token type, USD per 1M tokens."""

    provider: str
    account: str
    model: str
    service_tier: str
    token_type: str
    usd_per_million: Decimal


@dataclass(frozen=True, slots=True)
class BudgetRow:
    """A budget's state now. `runout` is a unix time or float('inf'); `alert_states` holds
    (threshold, kind, state) with kind "actual"/"forecast" and state 1 in ALARM, 0 in OK."""

    budget: str
    limit_pico: int
    spend_pico: int
    forecast_pico: int
    period_end: int
    runout: float = float("inf")
    alert_states: Sequence[tuple[str, str, int]] = ()
    unpriced_tokens: int = 0
    """Tokens of the period and scope no price source priced (their cost is unknown, not zero)."""


@dataclass(frozen=True, slots=True)
class BalanceRow:
    """A channel's prepaid balance (`key` "" for the account, else a key with its own limit), picodollars;
    `limit_pico` is None where the channel states no limit."""

    provider: str
    account: str
    key: str
    balance_pico: int
    limit_pico: int | None = None


@dataclass(frozen=True, slots=True)
class ClaudeCodeRow:
    """The Claude Code report's estimated cost of one developer (`user`) and model in the current
    `period` ("day" or "month"), picodollars; not part of the spend series (see monitor.claude_code)."""

    provider: str
    account: str
    user: str
    model: str
    period: str
    cost_pico: int


@dataclass(frozen=True, slots=True)
class NameRow:
    """The name of one id, exported as an info metric (value 1) that dashboards join on the id.

    `kind` is "project", "api_key" or "user"; `name` is the project or key name or the user's email
    (the id itself when the directory does not know it); `owner` is an API key's owner."""

    kind: str
    account: str
    id: str
    name: str
    owner: str = ""


@dataclass(frozen=True, slots=True)
class LedgerView:
    """Everything the metrics take from the ledger; rows with equal labels are added together."""

    totals: Sequence[TotalRow] = ()
    spend: Sequence[SpendRow] = ()
    billed: Sequence[BilledRow] = ()
    drift: Sequence[DriftRow] = ()
    unpriced: Sequence[UnpricedRow] = ()
    cache_savings: Sequence[SavingsRow] = ()
    prices: Sequence[PriceRow] = ()
    observed_prices: Sequence[ObservedPriceRow] = ()
    bill_lines: Sequence[BillLinesRow] = ()
    budgets: Sequence[BudgetRow] = ()
    balances: Sequence[BalanceRow] = ()
    outbox_pending: int = 0
    ledger_rows: int = 0
    names: Sequence[NameRow] = ()
    claude_code: Sequence[ClaudeCodeRow] = ()


@dataclass(frozen=True, slots=True)
class BuildInfo:
    """Labels of `spend_monitor_build_info`."""

    version: str
    pricing_version: str = ""


@dataclass(frozen=True, slots=True)
class MetricsOptions:
    """How to render: `include_api_key` adds the api_key label, `include_user` the user label;
    `series_limit` caps the series count."""

    include_api_key: bool = False
    series_limit: int = 50_000
    include_user: bool = False


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one exposition is rendered from; `built_at` is the unix time it was built."""

    ledger: LedgerView
    polls: PollView
    build: BuildInfo
    built_at: float
    options: MetricsOptions = MetricsOptions()
