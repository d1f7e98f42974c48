"""A month of the ledger as FOCUS rows: one per UTC day, account, project, model, tier and token type.

- EffectiveCost and ContractedCost are the ledger's stored cost (discounts applied), so the file's
  totals per day and account are the ledger's to the picodollar. ListCost is the same tokens at the
  price table's list price in force that day (no discount), or for what only the bill priced, the
  rate of its day's bill (docs/pricing.md); ListUnitPrice and ContractedUnitPrice
  are per token (or per unit), PricingQuantity and ConsumedQuantity the tokens.
- BilledCost is the provider's bill where the day's bill was fetched: each bill line goes to the rows
  it names (Anthropic's model and token type, OpenAI's parsed line item), split by their effective
  cost with exact remainders; a line no row matches is a row of its own (no quantity). On days
  without a fetched bill, BilledCost is the computed cost (`x_BillSource` says which).
- Rows are split by the attribution too (`Tags`: team and cost centre, at read time), and by service
  tier and context window, since those change the unit price.
- Usage without a price keeps its tokens with a zero cost, no SkuPriceId and `x_Unpriced` true: its
  cost is unknown, not zero (docs/pricing.md).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from typing import Any, TextIO

from monitor.attribution import Attributor
from monitor.directory import Names, no_project
from monitor.focus.columns import (
    COLUMNS,
    CURRENCY,
    PROVIDER_NAMES,
    SERVICE_CATEGORY,
    SERVICE_NAMES,
    SERVICE_SUBCATEGORY,
    UNIT_NAMES,
)
from monitor.pricing import Pricer, PriceTable
from monitor.pricing.bill_rates import BillRates
from monitor.pricing.tiers import normalise_tier
from monitor.reconciliation.lines import OTHER, attribute
from monitor.records import TOKEN_TYPES
from monitor.store import Ledger
from monitor.store.billed import BilledStore
from monitor.store.reads import StoredRow

DAY = 86_400

Key = tuple[int, str, str, str, str, str, str, str, str, str]
"""(day, provider, account, project, model, tier, context window, kind, team, cost centre)."""


@dataclass
class _Group:
    quantity: int = 0
    effective: int = 0
    listed: int = 0
    unpriced: int = 0
    price_ids: set[str] = field(default_factory=set)
    billed: int | None = None


@dataclass(frozen=True)
class FocusInputs:
    """What the rows are made from besides the ledger."""

    table: PriceTable
    names: Names
    attributor: Attributor
    bill: BillRates | None = None
    """The rates of the month's bills, where `bill` is a price source: a row priced from its day's bill
    lists at that rate (a bill's rate takes no discount), not at $0 for want of a table price."""


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _usd(pico: int) -> str:
    text = format(Decimal(pico).scaleb(-12), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _per_unit(pico: int, quantity: int) -> str:
    with localcontext() as ctx:
        ctx.prec = 40
        value = Decimal(pico) / Decimal(quantity) / Decimal(10**12)
    text = format(value.normalize(), "f")
    return text


def _group_rows(ledger: Ledger, start: int, end: int, inputs: FocusInputs) -> dict[Key, _Group]:
    lister = Pricer(inputs.table)  # list prices: no account discount
    lister.use_bill(inputs.bill)
    groups: dict[Key, _Group] = {}
    for stored in ledger.iter_stored(start, end):
        _add(groups, stored, lister, inputs.attributor)
    return groups


def _add(groups: dict[Key, _Group], stored: StoredRow, lister: Pricer, attributor: Attributor) -> None:
    u = stored.usage
    listed = lister.price(u)
    found = attributor.of((u.provider, u.account, u.project, u.model, u.api_key, u.user))
    tier = normalise_tier(u.provider, u.service_tier, u.batch)
    head = (u.bucket_start // DAY * DAY, u.provider, u.account, u.project, u.model, tier, u.context_window)
    for i, kind in enumerate(TOKEN_TYPES):
        tokens, cost = u.tokens[i], stored.costs[i]
        if not tokens and not cost:
            continue
        g = groups.setdefault((*head, kind, found.team, found.cost_center), _Group())
        g.quantity += tokens
        g.effective += cost
        g.listed += listed.costs[i]
        if stored.price_id is None or (stored.unpriced_tokens and not cost and tokens):
            g.unpriced += tokens
        elif listed.price_id is not None:
            g.price_ids.add(f"{listed.price_id}/{kind}")
    if u.units or stored.unit_cost:
        kind = "+".join(name for name, _ in u.units) or "units"
        g = groups.setdefault((*head, kind, found.team, found.cost_center), _Group())
        g.quantity += sum(count for _, count in u.units)
        g.effective += stored.unit_cost
        g.listed += listed.unit_cost
        if listed.unpriced_units or stored.price_id is None:
            g.unpriced += sum(count for _, count in listed.unpriced_units or u.units)
        elif listed.price_id is not None:
            g.price_ids.add(f"{listed.price_id}/{kind}")


def _match_kind(kind: str) -> str:
    return kind if kind in TOKEN_TYPES else OTHER


def _apply_bills(
    groups: dict[Key, _Group], billed: BilledStore, start: int, end: int
) -> list[tuple[Key, int, str]]:
    """Put each fetched day's bill on the rows it names; returns the bill lines no row matches."""
    observed = billed.observed_days(start, end)
    matched: dict[tuple[str, int, str, str, str], list[Key]] = {}
    for key, group in groups.items():
        day, account = key[0], key[2]
        if (account, day) in observed:
            group.billed = 0
            matched.setdefault((account, day, key[3], key[4], _match_kind(key[7])), []).append(key)
    orphans: list[tuple[Key, int, str]] = []
    for line in billed.lines(start, end):
        target = attribute(line)
        keys = matched.get((line.account, line.day_start, line.project, target.model, target.kind))
        if not keys:
            orphan: Key = (
                line.day_start,
                line.provider,
                line.account,
                line.project,
                target.model,
                "",
                "",
                target.kind,
                "",
                "",
            )
            orphans.append((orphan, line.amount_pico, line.line_item))
            continue
        _split(groups, keys, line.amount_pico)
    return orphans


def _split(groups: dict[Key, _Group], keys: list[Key], amount: int) -> None:
    """Add `amount` to the keys' billed cost in proportion to their effective cost, exactly."""
    weights = [max(groups[k].effective, 0) for k in keys]
    total = sum(weights)
    if total == 0:
        weights, total = [1] * len(keys), len(keys)
    shares = [amount * w // total for w in weights]
    remainders = sorted(range(len(keys)), key=lambda i: -(amount * weights[i] % total))
    for i in remainders[: amount - sum(shares)]:
        shares[i] += 1
    for k, share in zip(keys, shares, strict=True):
        groups[k].billed = (groups[k].billed or 0) + share


def focus_rows(ledger: Ledger, start: int, end: int, inputs: FocusInputs) -> Iterator[dict[str, str]]:
    """The FOCUS rows of the UTC days starting in [start, end) (a month), as column -> text."""
    groups = _group_rows(ledger, start, end, inputs)
    orphans = _apply_bills(groups, BilledStore(ledger), start, end)
    period = (_iso(start), _iso(end))
    for key in sorted(groups):
        yield _row(key, groups[key], period, inputs.names)
    for key, amount, item in sorted(orphans):
        yield _bill_only(key, amount, item, period, inputs.names)


def _common(key: Key, period: tuple[str, str], names: Names) -> dict[str, str]:
    day, provider, account, project = key[0], key[1], key[2], key[3]
    tags = {"team": key[8], "cost_center": key[9]} if key[8] else {}
    return {
        "BillingAccountId": account,
        "BillingAccountName": account,
        "BillingCurrency": CURRENCY,
        "BillingPeriodStart": period[0],
        "BillingPeriodEnd": period[1],
        "ChargeCategory": "Usage",
        "ChargeClass": "",
        "ChargeFrequency": "Usage-Based",
        "ChargePeriodStart": _iso(day),
        "ChargePeriodEnd": _iso(day + DAY),
        "InvoiceIssuerName": PROVIDER_NAMES.get(provider, provider),
        "PricingCategory": "Standard",
        "ProviderName": PROVIDER_NAMES.get(provider, provider),
        "PublisherName": PROVIDER_NAMES.get(provider, provider),
        "ServiceCategory": SERVICE_CATEGORY,
        "ServiceName": SERVICE_NAMES.get(provider, provider),
        "ServiceSubcategory": SERVICE_SUBCATEGORY,
        "SubAccountId": project,
        "SubAccountName": (names.project(account, project) or no_project(provider)) if project else "",
        "Tags": json.dumps(tags, sort_keys=True) if tags else "{}",
        "x_Model": key[4],
    }


def _row(key: Key, g: _Group, period: tuple[str, str], names: Names) -> dict[str, str]:
    provider, model, tier, window, kind = key[1], key[4], key[5], key[6], key[7]
    unit = "Tokens" if kind in TOKEN_TYPES else UNIT_NAMES.get(kind, "Units")
    priced = not g.unpriced and len(g.price_ids) == 1 and g.quantity > 0
    words = kind.replace("_", " ") + (" tokens" if kind in TOKEN_TYPES else "")
    row = _common(key, period, names)
    row.update(
        {
            "BilledCost": _usd(g.effective if g.billed is None else g.billed),
            "ChargeDescription": f"{model or '(no model)'} {words}, {tier} tier"
            + (f", context {window}" if window else "")
            + ("; no price known: the cost is unknown" if g.unpriced else ""),
            "ConsumedQuantity": str(g.quantity),
            "ConsumedUnit": unit,
            "ContractedCost": _usd(g.effective),
            "ContractedUnitPrice": _per_unit(g.effective, g.quantity) if priced else "",
            "EffectiveCost": _usd(g.effective),
            "ListCost": _usd(g.listed),
            "ListUnitPrice": _per_unit(g.listed, g.quantity) if priced else "",
            "PricingQuantity": str(g.quantity),
            "PricingUnit": unit,
            "SkuId": f"{provider}/{model}/{tier}/{window or 'base'}/{kind}",
            "SkuPriceId": next(iter(g.price_ids)) if priced else "",
            "x_TokenType": kind if kind in TOKEN_TYPES else "",
            "x_ServiceTier": tier,
            "x_ContextWindow": window,
            "x_Unpriced": "true" if g.unpriced else "false",
            "x_BillSource": "computed" if g.billed is None else "bill",
        }
    )
    return row


def _bill_only(key: Key, amount: int, item: str, period: tuple[str, str], names: Names) -> dict[str, str]:
    """A billed line that no usage row matches (e.g. a tool or storage fee): its cost, no quantity."""
    provider, model, kind = key[1], key[4], key[7]
    row = _common(key, period, names)
    row.update(
        {
            "BilledCost": _usd(amount),
            "ChargeDescription": f"billed: {item or '(no description)'}",
            "ConsumedQuantity": "0",
            "ConsumedUnit": "Tokens" if kind in TOKEN_TYPES else "Units",
            "ContractedCost": "0",
            "ContractedUnitPrice": "",
            "EffectiveCost": "0",
            "ListCost": "0",
            "ListUnitPrice": "",
            "PricingQuantity": "0",
            "PricingUnit": "Tokens" if kind in TOKEN_TYPES else "Units",
            "SkuId": f"{provider}/{model or '(billed)'}/bill/{kind}",
            "SkuPriceId": "",
            "x_TokenType": kind if kind in TOKEN_TYPES else "",
            "x_ServiceTier": "",
            "x_ContextWindow": "",
            "x_Unpriced": "false",
            "x_BillSource": "bill",
        }
    )
    return row


def write_csv(rows: Iterable[Mapping[str, Any]], out: TextIO) -> int:
    """Write the header and `rows` (COLUMNS order; missing values empty); returns the rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow([row.get(c, "") for c in COLUMNS])
        count += 1
    return count
