"""`spend-monitor prices --config`: the rates the providers' bills show, beside the table's prices.

With a config whose ledger exists, each (provider, account, model, tier, context window) billed in the
31 days up to `--date` gets a row with the rates of its latest bill: `effective_from` is that bill's
day, `price_source` is `billed YYYY-MM-DD` and `source` names the account. The row follows the table's
rows of the model it resolves to (a model no source lists comes after its provider's).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from monitor.config import Config
from monitor.pricing import PriceTable
from monitor.pricing.bill import DAY, WEB_SEARCH, ObservedRate, usd_per_million
from monitor.reconciliation.rates import derive_days
from monitor.records import SERVICE_TIERS, TOKEN_TYPES
from monitor.store import Ledger

WINDOW_DAYS = 31
_TIER_ORDER = {tier: i for i, tier in enumerate(SERVICE_TIERS)}


def billed_rows(
    config: Config, table: PriceTable, at: int, provider: str, model: str
) -> list[dict[str, Any]]:
    """The rows of the latest bill rates before `at`, filtered like the table's rows; [] without a ledger."""
    path = config.storage.path
    if not path.is_file():
        return []
    day = at - at % DAY
    with Ledger.open(path) as ledger:
        rates = derive_days(ledger, day - WINDOW_DAYS * DAY, day + DAY).rates
    latest: dict[tuple[str, str, str, str, str], dict[str, ObservedRate]] = {}
    for rate in sorted(rates, key=lambda r: r.day_start):
        key = (rate.provider, rate.account, rate.model, rate.tier, rate.context_window)
        if rate.token_type != WEB_SEARCH:
            kinds = latest.setdefault(key, {})
            if kinds and next(iter(kinds.values())).day_start != rate.day_start:
                kinds.clear()  # a newer day: its rates replace the older day's
            kinds[rate.token_type] = rate
    rows = []
    for (prov, account, name, tier, window), kinds in sorted(latest.items()):
        if (provider and prov != provider) or (model and not _selected(table, prov, name, model)):
            continue
        first = next(iter(kinds.values()))
        row: dict[str, Any] = {"provider": prov, "model": name, "tier": tier, "context": window}
        for token_type in TOKEN_TYPES:
            found = kinds.get(token_type)
            row[token_type] = "" if found is None else _plain(usd_per_million(found.rate))
        row["units"] = ""
        row["effective_from"] = first.day
        row["price_source"] = f"billed {first.day}"
        row["source"] = f"{account}'s bill"
        rows.append(row)
    return rows


def _selected(table: PriceTable, provider: str, name: str, pattern: str) -> bool:
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(name, pattern)
    wanted = table.resolve(provider, pattern)
    found = table.resolve(provider, name)
    return name == pattern or (wanted is not None and found is not None and wanted.model == found.model)


def merged(
    table: PriceTable, rows: Sequence[dict[str, Any]], billed: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The table's rows with each billed row after those of the model it resolves to."""

    def order(row: dict[str, Any], from_bill: bool) -> tuple[object, ...]:
        resolved = table.resolve(row["provider"], row["model"]) if from_bill else None
        model = resolved.model if resolved is not None else row["model"]
        known = not from_bill or resolved is not None
        return (
            row["provider"],
            not known,
            model,
            from_bill,
            _TIER_ORDER.get(row["tier"], 99),
            row["context"],
        )

    keyed = [(order(r, False), i, r) for i, r in enumerate(rows)]
    keyed += [(order(r, True), len(rows) + i, r) for i, r in enumerate(billed)]
    return [r for _, _, r in sorted(keyed, key=lambda k: (k[0], k[1]))]


def _plain(value: Decimal) -> Decimal:
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal
