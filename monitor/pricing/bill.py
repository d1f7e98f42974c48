"""Rates from the bill: what each model's token kind actually cost per token on one UTC day, read from
the provider's own bill, to price what no price source knows.

OpenAI's costs grouped by `line_item` say what a line counts (`quantity` in `quantity_unit` "tokens"
or "1000_tokens", since 2026-08-21), so a line's rate is its amount over its quantity. Anthropic's
cost report grouped by `description` names model, token type, tier and context window but no count,
so its rate is the day's amount over the same day's tokens of that model, type, tier and window in
the ledger, which needs the whole day in the ledger (provider-apis.md §2, §3.4; docs/pricing.md).

A rate is kept per (account, model, tier, context window, UTC day) and token kind as an exact
Fraction of picodollars per token, and is blended over what the bill does not split (Anthropic's
inference geos, OpenAI's long prompts, projects): priced at it, the rows of that day add up to the
bill. A line that gives no rate is a `BillProblem`, counted and reported, never dropped in silence.

Pure: the daemon hands in the billed lines and the ledger's usage (monitor/bill_prices.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Protocol

from monitor.pricing.tiers import normalise_tier
from monitor.records import TOKEN_INDEX, TOKEN_TYPES, BilledCost

DAY = 86_400
WEB_SEARCH = "web_search_requests"
"""The one non-token unit a bill prices per model (Anthropic's web search lines)."""
TOKEN_UNITS: Mapping[str, int] = {"tokens": 1, "1000_tokens": 1000}
"""OpenAI `quantity_unit`s that count tokens, and how many tokens one of them is."""
UNMATCHED, NO_TOKENS, CURRENCY, UNREADABLE, PARTIAL_DAY, CREDIT = (
    "unmatched", "no_tokens", "currency", "unreadable", "partial_day", "credit",
)  # fmt: skip
REASONS = (UNMATCHED, NO_TOKENS, CURRENCY, UNREADABLE, PARTIAL_DAY, CREDIT)
"""Why a billed line gave no rate (the `reason` label of `spend_monitor_bill_lines_unused`)."""
_WHY = {
    UNMATCHED: "no usage of that model, token type, tier and context window that day in the ledger",
    NO_TOKENS: "a charge for zero tokens",
    CURRENCY: "not in USD; it is kept apart and never added to dollars",
    UNREADABLE: "counts tokens, but which model, token type or tier it is for cannot be read",
    PARTIAL_DAY: "the ledger holds only part of that day (its first poll), and the line gives no count",
    CREDIT: "a negative amount (a credit) on a token line",
}

RateKey = tuple[str, str, str, str, int]
"""(account, model, tier, context window, UTC day start): what a rate from the bill applies to."""


class UsageGroup(Protocol):
    """The ledger's usage of one (account, UTC day, model, reported tier, context window) and how it
    was priced (monitor.store.bill_usage.BillUsage)."""

    @property
    def provider(self) -> str: ...
    @property
    def account(self) -> str: ...
    @property
    def day_start(self) -> int: ...
    @property
    def model(self) -> str: ...
    @property
    def service_tier(self) -> str: ...
    @property
    def batch(self) -> bool: ...
    @property
    def context_window(self) -> str: ...
    @property
    def priced_by(self) -> str: ...
    @property
    def tokens(self) -> tuple[int, ...]: ...
    @property
    def costs(self) -> tuple[int, ...]: ...
    @property
    def web_searches(self) -> int: ...


@dataclass
class UsageSums:
    """Tokens per TOKEN_TYPES kind (and web searches) of one RateKey, and the tokens and cost of the
    part a price source of the table priced (what a bill's rate is compared with)."""

    tokens: list[int] = field(default_factory=lambda: [0] * len(TOKEN_TYPES))
    web_searches: int = 0
    table_tokens: list[int] = field(default_factory=lambda: [0] * len(TOKEN_TYPES))
    table_costs: list[int] = field(default_factory=lambda: [0] * len(TOKEN_TYPES))


def usage_sums(groups: Iterable[UsageGroup], table: str = "table") -> dict[RateKey, UsageSums]:
    """The ledger's usage per RateKey (tiers normalised as the pricer does)."""
    sums: dict[RateKey, UsageSums] = {}
    for g in groups:
        tier = normalise_tier(g.provider, g.service_tier, g.batch)
        found = sums.setdefault((g.account, g.model, tier, g.context_window, g.day_start), UsageSums())
        found.web_searches += g.web_searches
        for i, count in enumerate(g.tokens):
            found.tokens[i] += count
            if g.priced_by == table and g.costs[i]:
                found.table_tokens[i] += count
                found.table_costs[i] += g.costs[i]
    return sums


@dataclass(frozen=True, slots=True)
class ObservedRate:
    """What one token kind (or web search) of one RateKey cost on the bill: `amount_pico` for
    `quantity` tokens, the bill's own count (`counted`) or the ledger's tokens of that day.
    `ledger_rate` is what the table's prices made of the same tokens (picodollars per token), None
    where no table price priced any."""

    provider: str
    account: str
    day_start: int
    model: str
    tier: str
    context_window: str
    token_type: str
    amount_pico: int
    quantity: Fraction
    counted: bool
    ledger_rate: Fraction | None = None

    @property
    def rate(self) -> Fraction:
        """Picodollars per token (per search for web search), exact."""
        return Fraction(self.amount_pico) / self.quantity

    @property
    def day(self) -> str:
        return utc_day(self.day_start)


def usd_per_million(rate: Fraction) -> Decimal:
    """A rate in picodollars per token as USD per 1M tokens (12 significant digits past the point)."""
    with localcontext() as ctx:
        ctx.prec = 40
        return (Decimal(rate.numerator) / Decimal(rate.denominator)).scaleb(-6).quantize(Decimal("1e-12"))


@dataclass(frozen=True, slots=True)
class BillProblem:
    """A billed line that gave no rate, and why (one of REASONS)."""

    provider: str
    account: str
    day_start: int
    line_item: str
    reason: str
    amount_pico: int
    currency: str = "USD"

    def text(self) -> str:
        """One line for people: "anthropic-prod: bill of 2026-12-03, line 'X' ($1.25): <why>"."""
        amount = Decimal(self.amount_pico).scaleb(-12).quantize(Decimal("0.01"))
        money = f"${amount:,}" if self.currency == "USD" else f"{amount:,} {self.currency}"
        return f"{self.account}: bill of {utc_day(self.day_start)}, line {self.line_item[:80]!r} ({money}): {_WHY[self.reason]}"


def problems_text(problems: Sequence[BillProblem], named: int = 3) -> str:
    """Lines of one account, day and reason in one line: the first `named` by name, then how many more."""
    first = problems[0]
    if len(problems) == 1:
        return first.text()
    names = ", ".join(repr(p.line_item[:60]) for p in problems[:named])
    more = f" and {len(problems) - named} more" if len(problems) > named else ""
    return f"{first.account}: bill of {utc_day(first.day_start)}, {len(problems)} lines ({names}{more}): {_WHY[first.reason]}"


@dataclass(frozen=True, slots=True)
class Derived:
    """The rates the bills of some days give, and the lines that gave none."""

    rates: tuple[ObservedRate, ...]
    problems: tuple[BillProblem, ...]


def derive(
    lines: Iterable[BilledCost], usage: Mapping[RateKey, UsageSums], *, coverage: Mapping[str, int]
) -> Derived:
    """The rates of `lines` (one or more accounts and days): per RateKey and kind, the lines' amounts
    added up, over their own count where every line has one, else over the ledger's tokens, which
    needs the day wholly in the ledger (`coverage`: account -> first covered bucket start)."""
    by_kind: dict[tuple[RateKey, str], list[BilledCost]] = {}
    problems: list[BillProblem] = []
    for line in lines:
        if line.currency != "USD":
            problems.append(_problem(line, CURRENCY))
        elif line.model and line.token_type == WEB_SEARCH:  # no tier or window on these lines: per model
            by_kind.setdefault(((line.account, line.model, "", "", line.day_start), WEB_SEARCH), []).append(
                line
            )
        elif line.model and line.token_type in TOKEN_INDEX:
            tier = normalise_tier(line.provider, line.service_tier, False)
            key = (line.account, line.model, tier, line.context_window, line.day_start)
            by_kind.setdefault((key, line.token_type), []).append(line)
        elif line.quantity_unit in TOKEN_UNITS and line.amount_pico:
            problems.append(_problem(line, UNREADABLE))
    searches: dict[tuple[str, str, int], int] = {}
    for (account, model, _, _, day), sums in usage.items():
        searches[(account, model, day)] = searches.get((account, model, day), 0) + sums.web_searches
    rates: list[ObservedRate] = []
    for (key, kind), members in sorted(by_kind.items()):
        if kind == WEB_SEARCH:
            found = searches.get((key[0], key[1], key[4]), 0)
            rate, why = _rate(key, kind, members, UsageSums(web_searches=found), coverage)
        else:
            rate, why = _rate(key, kind, members, usage.get(key), coverage)
        if rate is not None:
            rates.append(rate)
        if why is not None:
            problems.extend(_problem(line, why) for line in members)
    return Derived(tuple(rates), tuple(problems))


def _rate(
    key: RateKey,
    kind: str,
    lines: list[BilledCost],
    usage: UsageSums | None,
    coverage: Mapping[str, int],
) -> tuple[ObservedRate | None, str | None]:
    """The rate of one key and kind from its lines, and why some line gave none (or None)."""
    account, model, tier, window, day = key
    amount = sum(line.amount_pico for line in lines)
    used = (
        0 if usage is None else usage.web_searches if kind == WEB_SEARCH else usage.tokens[TOKEN_INDEX[kind]]
    )
    counted = _counted(lines)
    if amount < 0:
        return None, CREDIT
    if counted is not None:
        if counted == 0:
            return None, (NO_TOKENS if amount else None)
        quantity = counted
    elif day < coverage.get(account, day):  # a problem only where the ledger has tokens to price
        return None, (PARTIAL_DAY if _needs_rate(kind, usage) else None)
    elif used == 0:
        return None, (UNMATCHED if amount else None)
    else:
        quantity = Fraction(used)
    ledger_rate = None
    if usage is not None and kind != WEB_SEARCH:
        i = TOKEN_INDEX[kind]
        if usage.table_tokens[i]:
            ledger_rate = Fraction(usage.table_costs[i], usage.table_tokens[i])
    rate = ObservedRate(
        lines[0].provider,
        account,
        day,
        model,
        tier,
        window,
        kind,
        amount,
        quantity,
        counted is not None,
        ledger_rate,
    )
    return rate, (UNMATCHED if used == 0 else None)


def _needs_rate(kind: str, usage: UsageSums | None) -> bool:
    """Whether the ledger holds tokens of that kind no table source priced (that a rate would price)."""
    if usage is None or kind == WEB_SEARCH:
        return usage is not None and usage.web_searches > 0
    i = TOKEN_INDEX[kind]
    return usage.tokens[i] > usage.table_tokens[i]


def _counted(lines: list[BilledCost]) -> Fraction | None:
    """The tokens the lines count by their own quantity, or None when some line gives none."""
    total = Fraction(0)
    for line in lines:
        per = TOKEN_UNITS.get(line.quantity_unit) if line.token_type != WEB_SEARCH else None
        if line.quantity is None or per is None:
            return None
        total += Fraction(line.quantity) * per
    return total


def _problem(line: BilledCost, reason: str) -> BillProblem:
    return BillProblem(
        line.provider, line.account, line.day_start, line.line_item, reason, line.amount_pico, line.currency
    )


def utc_day(day_start: int) -> str:
    return datetime.fromtimestamp(day_start, UTC).date().isoformat()
