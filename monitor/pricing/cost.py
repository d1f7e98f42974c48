"""Exact cost of usage rows: tokens times integer rates, account discounts, non-token units.

`cost_pico = tokens * rate` with `rate` in picodollars per token, so every cost is an exact integer.
A discount (percent, per account) is applied per token type, and once to the units' cost, rounding
half-to-even to 1 picodollar. What cannot be priced is counted as unpriced, never costed at $0.

A row that reports no model (OpenAI code_interpreter_sessions) is priced under its endpoint's name,
which the table lists as an alias of a pseudo-model (`code-interpreter`).

The ingest path prices ~1M rows a second: each row costs one dict lookup of a cached plan (per
account, model, tier, context and UTC day, since prices change only at 00:00 UTC) and 11 multiplies.
"""

from __future__ import annotations

import itertools
import logging
import operator
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from monitor.errors import PricingError
from monitor.pricing.bill_rates import BillEntry, BillRates
from monitor.pricing.entry import PriceEntry
from monitor.pricing.table import PriceTable
from monitor.pricing.tiers import normalise_tier, parse_context_floor
from monitor.records import TOKEN_TYPES, ZERO_TOKENS, PricedRow, UsageRow

log = logging.getLogger(__name__)

_DAY = 86_400
_PLAN_CACHE_LIMIT = 65_536
_FIX = "add a price in config pricing.overrides (or map the name with pricing.aliases)"
_UNTIL_BILLED = " until the provider's bill of its day gives its rates (price source 'bill')"


def discount_factor(percent: Decimal | int | str) -> Fraction:
    """The share of list price paid after a discount of `percent` (0-100): 15 -> 17/20."""
    value = Decimal(percent)
    if not value.is_finite() or not 0 <= value <= 100:
        raise PricingError(f"discount {percent}% is not a percentage between 0 and 100")
    return (100 - Fraction(value)) / 100


def apply_discount(cost: int, factor: Fraction) -> int:
    """`cost * factor` rounded half-to-even to a whole picodollar (exact integer arithmetic)."""
    quotient, remainder = divmod(cost * factor.numerator, factor.denominator)
    twice = 2 * remainder
    if twice > factor.denominator or (twice == factor.denominator and quotient % 2):
        quotient += 1
    return quotient


@dataclass(frozen=True, slots=True)
class _Plan:
    entry: PriceEntry | None
    rates: tuple[int, ...]  # a missing price as 0; `missing` marks those token types with 1
    missing: tuple[int, ...] | None  # None when every token type has a price
    factor: Fraction | None  # on token costs: the account's discount times the inference geo's multiplier
    unit_factor: Fraction | None = None  # on units: the discount only (geo multipliers are token prices)
    bill: BillEntry | None = None  # no table entry, but the day's bill has rates (pricing/bill.py)


class Pricer:
    """Prices UsageRows against a PriceTable; `discounts` maps account name -> percent off list.

    `unknown_models` collects the (provider, model) pairs no price matched. Each kind of gap (unknown
    model, missing tier, missing token price, missing unit price) is logged once as a WARNING.

    A channel that charges a share of list price per project (a relay's group ratio) says so with
    `set_shares`; an account's `discounts` entry overrides its shares.
    """

    def __init__(self, table: PriceTable, discounts: Mapping[str, Decimal] | None = None) -> None:
        self.table = table
        self._factors = {
            account: discount_factor(percent) for account, percent in (discounts or {}).items() if percent
        }
        self._shares: dict[tuple[str, str], Fraction] = {}
        self._plans: dict[tuple[str, str, str, str, bool, str, str, int], _Plan] = {}
        self._swap = threading.Lock()
        self._warned: set[tuple[str, ...]] = set()
        self.unknown_models: set[tuple[str, str]] = set()
        self.bill: BillRates | None = None
        """Rates from the providers' bills, for rows no price source prices (None: not used)."""

    def use(self, table: PriceTable) -> None:
        """Price with `table` from now on (the daemon's community data was updated). Thread-safe: rows
        priced concurrently use the old or the new table, never a plan of the old one afterwards."""
        with self._swap:
            self.table = table
            self._plans = {}
            self.unknown_models = set()

    def use_bill(self, rates: BillRates | None) -> None:
        """Price the rows no price source prices with `rates` from now on (the daemon derived the
        rates of new bills); None stops pricing from bills. Thread-safe, like `use`."""
        with self._swap:
            self.bill = rates
            self._plans = {}

    def price(self, row: UsageRow) -> PricedRow:
        """The exact cost of one row, priced at the entry in force at the row's bucket start."""
        plan = self._plans.get(
            (
                row.account,
                row.provider,
                row.model or row.endpoint,
                row.service_tier,
                row.batch,
                row.context_window,
                row.inference_geo,
                row.bucket_start // _DAY,
            )
        )
        if plan is None:
            plan = self._plan(row)
        tokens = row.tokens
        entry = plan.entry
        if entry is None:
            if plan.bill is not None:
                return _price_from_bill(row, plan.bill)
            return PricedRow(row, ZERO_TOKENS, 0, None, sum(tokens), row.units)
        costs = tuple(map(operator.mul, tokens, plan.rates))
        unpriced = 0
        if plan.missing is not None:
            unpriced = sum(itertools.compress(tokens, plan.missing))
            if unpriced:
                self._warn_missing_tokens(entry, tokens)
        factor, unit_factor = plan.factor, plan.unit_factor
        if self._shares and row.account not in self._factors:
            share = self._shares.get((row.account, row.project))
            if share is not None:  # a relay group's share of list price, where no discount is set
                factor = share if factor is None else factor * share
                unit_factor = share if unit_factor is None else unit_factor * share
        if factor is not None:
            costs = tuple([apply_discount(cost, factor) if cost else 0 for cost in costs])
        if not row.units:
            return PricedRow(row, costs, 0, entry.id, unpriced, (), entry.origin)
        unit_cost, unpriced_units = self._price_units(entry, row.units, unit_factor)
        return PricedRow(row, costs, unit_cost, entry.id, unpriced, unpriced_units, entry.origin)

    def set_shares(self, account: str, shares: Mapping[str, Decimal]) -> None:
        """The share of list price `account` pays per project from now on (e.g. {"vip": 0.7}), replacing
        the account's earlier shares; a project without a share pays list price."""
        for project, share in shares.items():
            if not share.is_finite() or share < 0:
                raise PricingError(f"{account}: the share of list price of {project!r} is {share}, not >= 0")
        kept = {key: value for key, value in self._shares.items() if key[0] != account}
        kept.update({(account, project): Fraction(share) for project, share in shares.items()})
        self._shares = kept  # one reference swap: pollers of other accounts may be pricing meanwhile

    def price_rows(self, rows: Iterable[UsageRow]) -> list[PricedRow]:
        """Price many rows (one page); same results as calling `price` on each."""
        price = self.price
        return [price(row) for row in rows]

    def _plan(self, row: UsageRow) -> _Plan:
        table = self.table
        tier = normalise_tier(row.provider, row.service_tier, row.batch)
        model = row.model or row.endpoint
        if parse_context_floor(row.context_window) is None:
            self._warn_once(
                ("context", row.provider),
                "%s reported a context window that is not a token range (%r, for %r); such rows are "
                "priced at the base (not long-context) price",
                row.provider, row.context_window[:40], model[:80],
            )  # fmt: skip
        entry = table.price_for(row.provider, model, tier, row.context_window, row.bucket_start)
        plan = _Plan(None, ZERO_TOKENS, None, None) if entry is None else self._entry_plan(entry, row)
        bill = self.bill
        if plan.entry is None and bill is not None:
            found = bill.entry(row.account, model, tier, row.context_window, row.bucket_start)
            if found is not None:
                plan = _Plan(None, ZERO_TOKENS, None, None, bill=found)
        if entry is None and plan.bill is None:
            self._warn_unpriced(table, row, tier)
        key = (
            row.account,
            row.provider,
            model,
            row.service_tier,
            row.batch,
            row.context_window,
            row.inference_geo,
            row.bucket_start // _DAY,
        )
        with self._swap:  # a plan of a table (or bill rates) swapped out meanwhile is used once, never kept
            if table is self.table and bill is self.bill:
                if len(self._plans) >= _PLAN_CACHE_LIMIT:
                    self._plans.clear()
                self._plans[key] = plan
        return plan

    def _entry_plan(self, entry: PriceEntry, row: UsageRow) -> _Plan:
        """The rates of `entry` for `row`: the account's discount and the row's inference geo applied."""
        geo = entry.geo_factor(row.inference_geo)
        if geo is None:
            self._warn_once(
                ("geo", entry.id, row.inference_geo),
                "%s (from %s) has no price for inference geo %r, which may cost more: its usage is "
                "counted as unpriced tokens; %s",
                entry.id, entry.origin, row.inference_geo[:40], _FIX,
            )  # fmt: skip
            return _Plan(None, ZERO_TOKENS, None, None)
        rates = tuple(0 if rate is None else rate for rate in entry.rates)
        missing = tuple(int(rate is None) for rate in entry.rates)
        discount = self._factors.get(row.account)
        factor = discount if geo == 1 else geo if discount is None else discount * geo
        return _Plan(entry, rates, missing if any(missing) else None, factor, discount)

    def _price_units(
        self, entry: PriceEntry, units: tuple[tuple[str, int], ...], factor: Fraction | None
    ) -> tuple[int, tuple[tuple[str, int], ...]]:
        cost = 0
        unpriced: list[tuple[str, int]] = []
        for name, count in units:
            rate = entry.unit_rates.get(name)
            if rate is None:
                if count:
                    unpriced.append((name, count))
                    self._warn_once(
                        ("unit", entry.provider, entry.model, name),
                        "no price for %r units of %s/%s (%s); they are counted as unpriced: %s",
                        name, entry.provider, entry.model, entry.id, _FIX,
                    )  # fmt: skip
            else:
                cost += count * rate
        if factor is not None:
            cost = apply_discount(cost, factor)
        return cost, tuple(unpriced)

    def _warn_unpriced(self, table: PriceTable, row: UsageRow, tier: str) -> None:
        model = row.model or row.endpoint
        resolved = table.resolve(row.provider, model)
        if resolved is None:
            self.unknown_models.add((row.provider, model))
            if not row.model:
                self._warn_once(
                    ("model", row.provider, model),
                    "%s rows of endpoint %r report no model and no price is listed under that name: "
                    "their usage is counted as unpriced; group the endpoint by model, or %s",
                    row.provider, row.endpoint, _FIX,
                )  # fmt: skip
                return
            self._warn_once(
                ("model", row.provider, model),
                "unknown %s model %r: its usage is counted as unpriced tokens%s; %s",
                row.provider, model, _UNTIL_BILLED if self.bill is not None else "", _FIX,
            )  # fmt: skip
            return
        day = datetime.fromtimestamp(row.bucket_start, UTC).date()
        source = table.source_of(row.provider, model)
        self._warn_once(
            ("tier", resolved.provider, resolved.model, tier, row.context_window),
            "no %r price for %s/%s (reported as %r, context %r) in force on %s in price source %r, which "
            "prices this model: its usage is counted as unpriced tokens; %s",
            tier, resolved.provider, resolved.model, model, row.context_window, day, source, _FIX,
        )  # fmt: skip

    def _warn_missing_tokens(self, entry: PriceEntry, tokens: tuple[int, ...]) -> None:
        for token_type, count, rate in zip(TOKEN_TYPES, tokens, entry.rates, strict=True):
            if count and rate is None:
                self._warn_once(
                    ("token", entry.id, token_type),
                    "%s has no price for %s tokens: they are counted as unpriced; %s",
                    entry.id, token_type, _FIX,
                )  # fmt: skip

    def _warn_once(self, key: tuple[str, ...], message: str, *args: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message, *args)


def _price_from_bill(row: UsageRow, bill: BillEntry) -> PricedRow:
    """A row priced at its day's rates from the bill: exact Fractions per token, each token kind's cost
    rounded half-even to a picodollar. No discount or share applies: the bill is what was paid."""
    costs = tuple(
        apply_discount(count, rate) if count and rate is not None else 0
        for count, rate in zip(row.tokens, bill.rates, strict=True)
    )
    unpriced = sum(count for count, rate in zip(row.tokens, bill.rates, strict=True) if rate is None)
    unit_cost = Fraction(0)
    unpriced_units: list[tuple[str, int]] = []
    for name, count in row.units:
        rate = bill.unit_rates.get(name)
        if rate is None:
            if count:
                unpriced_units.append((name, count))
        else:
            unit_cost += count * rate
    units = apply_discount(unit_cost.numerator, Fraction(1, unit_cost.denominator))
    return PricedRow(row, costs, units, bill.id, unpriced, tuple(unpriced_units), bill.origin)
