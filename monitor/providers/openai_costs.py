"""A line of OpenAI's Costs API (`/organization/costs`) as a BilledCost: the amount exact in
picodollars (`amount.value` parsed as a Decimal, never a float, in dollars), what its `line_item`
says (model, token kind, tier), its `quantity`, and its currency.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from monitor.providers.line_items import read_openai_line_item
from monitor.providers.payload import Fields
from monitor.records import TOKEN_INDEX, BilledCost

_QUANTITY_DIGITS = 18


def read_cost(f: Fields, day_start: int, item: Any, where: str, *, provider: str, account: str) -> BilledCost:
    """One cost line; what its `line_item` says (model, token kind, tier) goes in the line's fields
    and its `quantity` is kept. A line in another currency than USD is kept as such (the store
    reports it and never adds it to dollars) instead of failing the page."""
    r = f.obj(item, where)
    amount = f.obj(r.get("amount"), f"{where}.amount")
    currency = f.text(amount, "currency", f"{where}.amount").upper()
    if not currency:
        raise f.error(f"{where}.amount.currency", "expected a currency code such as 'usd', got none")
    value = amount.get("value")
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise f.error(f"{where}.amount.value", f"expected a number of dollars, got {value!r:.40}")
    line_item = f.text(r, "line_item", where)
    read = read_openai_line_item(line_item)
    return BilledCost(
        provider=provider,
        account=account,
        day_start=day_start,
        project=f.text(r, "project_id", where),
        line_item=line_item,
        amount_pico=f.pico(Decimal(value), f"{where}.amount.value"),
        model=read.model,
        token_type=read.kind if read.kind in TOKEN_INDEX else "",
        service_tier=read.tier if read.model else "",
        api_key=f.text(r, "api_key_id", where),
        quantity=_quantity(f, r, where),
        quantity_unit=f.text(r, "quantity_unit", where),
        currency=currency,
    )


def _quantity(f: Fields, r: dict[str, Any], where: str) -> Decimal | None:
    """A line's `quantity` (grouped by line_item, since 2026-08-21): a number >= 0, or None."""
    value = r.get("quantity")
    if value is None:
        return None
    number = Decimal(value) if isinstance(value, int | Decimal) and not isinstance(value, bool) else None
    if number is None or not number.is_finite() or number < 0 or number.adjusted() > _QUANTITY_DIGITS:
        raise f.error(f"{where}.quantity", f"expected a number from 0 to 10^18, got {value!r:.40}")
    return number
