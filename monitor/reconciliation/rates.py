"""The table's prices against what the bill charged: per (account, model, token type, tier, context window,
UTC day), the rate the bill shows (pricing/bill.py) and the rate the table's prices gave the same tokens
in the ledger (their computed cost over their count, the account's discount and inference geos included).

A rate that differs from the ledger's by more than `reconciliation.drift_threshold_percent` names the
price that is off: the daemon logs it once and exports both rates, and the drift alert of that day names
it instead of only saying that the day drifted (docs/reconciliation.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

from monitor.pricing.bill import Derived, ObservedRate, derive, usage_sums, usd_per_million
from monitor.store import Ledger
from monitor.store.billed import BilledStore


def derive_days(ledger: Ledger, start: int, end: int) -> Derived:
    """The rates (and the lines that gave none) of the bills of the UTC days starting in [start, end)."""
    billed = BilledStore(ledger)
    lines = [*billed.lines(start, end), *billed.other_currency_lines(start, end)]
    if not lines:
        return Derived((), ())
    usage = usage_sums(ledger.usage_for_bills(start, end))
    return derive(lines, usage, coverage=ledger.coverage_starts())


def off_by(rate: ObservedRate) -> Decimal | None:
    """(bill - ledger) / ledger rate, or None when no table price priced those tokens."""
    if not rate.ledger_rate:
        return None
    share = (rate.rate - rate.ledger_rate) / rate.ledger_rate
    with localcontext() as ctx:
        ctx.prec = 34
        return Decimal(share.numerator) / Decimal(share.denominator)


def disagrees(rate: ObservedRate, threshold_percent: Decimal) -> bool:
    """Whether the bill's rate is off the ledger's table rate by more than the threshold."""
    off = off_by(rate)
    return off is not None and abs(off) * 100 > threshold_percent


def disagreements(rates: Iterable[ObservedRate], threshold_percent: Decimal) -> list[ObservedRate]:
    """The rates that disagree with the table's, largest gap first."""
    found = [r for r in rates if disagrees(r, threshold_percent)]
    return sorted(found, key=lambda r: (-abs(off_by(r) or Decimal(0)), r.account, r.model, r.token_type))


def per_million(rate: Fraction) -> str:
    """A rate as USD per 1M tokens for people: "2.75", "0.0625" (to the micro-dollar)."""
    return format(usd_per_million(rate).quantize(Decimal("0.000001")).normalize(), "f")


def rate_text(rate: ObservedRate) -> str:
    """ "gpt-6.1-sol input (standard): billed $2.75 per 1M, the table $2.5 (+10.00%)"."""
    window = f", {rate.context_window}" if rate.context_window else ""
    table = "" if rate.ledger_rate is None else f", the table ${per_million(rate.ledger_rate)}"
    off = off_by(rate)
    gap = "" if off is None else f" ({off * 100:+.2f}%)"
    return f"{rate.model} {rate.token_type} ({rate.tier}{window}): billed ${per_million(rate.rate)} per 1M{table}{gap}"


def disagreement_text(rate: ObservedRate, threshold_percent: Decimal) -> str:
    """The log line of a disagreement: account, model, token type, tier, day and both rates."""
    return (
        f"{rate.account}: on {rate.day} {rate_text(rate)}, beyond the {threshold_percent}% drift threshold: "
        "the table's price may be stale or wrong (llm_price_observed_usd_per_million_tokens)"
    )


def rate_payload(rate: ObservedRate) -> dict[str, Any]:
    """A disagreement in an alert payload: exact decimal strings."""
    off = off_by(rate)
    return {
        "model": rate.model,
        "token_type": rate.token_type,
        "service_tier": rate.tier,
        "context_window": rate.context_window,
        "billed_usd_per_million": format(usd_per_million(rate.rate).normalize(), "f"),
        "table_usd_per_million": None
        if rate.ledger_rate is None
        else format(usd_per_million(rate.ledger_rate).normalize(), "f"),
        "drift_percent": None if off is None else f"{off * 100:+.2f}",
    }
