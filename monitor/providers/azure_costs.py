"""Azure Cost Management's query (api-version 2023-11-01) as the Azure OpenAI adapter asks and reads it:
the resource group's actual cost per day, by resource and meter, rows read by column name.
Facts: docs/providers.md, "Azure OpenAI" (shared/channel-apis.md §3.3).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from monitor.providers.payload import Fields, read_dollars
from monitor.records import BilledCost

VERSION = "2023-11-01"


def iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cost_query(first: int, last: int) -> dict[str, Any]:
    """The query of the actual cost of the days [first, last) (UTC midnights), per day, resource and meter
    (two groupings, the most the API takes)."""
    return {
        "type": "ActualCost",
        "timeframe": "Custom",
        "timePeriod": {"from": iso(first), "to": iso(last - 1)},
        "dataset": {
            "granularity": "Daily",
            "aggregation": {"totalCost": {"name": "Cost", "function": "Sum"}},
            "grouping": [{"type": "Dimension", "name": "ResourceId"}, {"type": "Dimension", "name": "Meter"}],
        },
    }


def cost_lines(
    f: Fields, page: dict[str, Any], number: int, *, resource: str, provider: str, account: str
) -> Iterator[BilledCost]:
    """The bill lines of one page's `properties` that belong to `resource` (ids compared without case:
    Cost Management lower-cases them). Columns are found by name; their order varies between answers."""
    where = f"page {number}.properties"
    columns = [
        f.text(f.obj(c, f"{where}.columns[{i}]"), "name", where).lower()
        for i, c in enumerate(f.items(page, "columns", where))
    ]
    index = {name: i for i, name in enumerate(columns)}
    cost_column = "cost" if "cost" in index else "pretaxcost"
    missing = [c for c in (cost_column, "usagedate", "resourceid", "meter", "currency") if c not in index]
    if missing:
        raise f.error(f"{where}.columns", f"no {', '.join(missing)} column (got {', '.join(columns)})")
    for i, raw in enumerate(f.items(page, "rows", where)):
        spot = f"{where}.rows[{i}]"
        if not isinstance(raw, list) or len(raw) != len(columns):
            raise f.error(spot, f"expected a list of {len(columns)} values")
        row = dict(zip(columns, raw, strict=True))
        if str(row["resourceid"]).lower() != resource.lower():
            continue  # another resource of the resource group
        currency = str(row["currency"])
        if currency.upper() != "USD":
            raise f.error(f"{spot}.Currency", f"the bill is in {currency:.10}; only USD bills are supported")
        yield BilledCost(
            provider=provider,
            account=account,
            day_start=_usage_date(f, row["usagedate"], f"{spot}.UsageDate"),
            project="",
            line_item=str(row["meter"]),
            amount_pico=f.pico(read_dollars(f, row[cost_column], f"{spot}.Cost"), f"{spot}.Cost"),
        )


def _usage_date(f: Fields, value: Any, where: str) -> int:
    """Cost Management's `UsageDate`, a number YYYYMMDD, as the unix start of that UTC day."""
    text = str(value)
    try:
        day = datetime.strptime(text, "%Y%m%d").replace(tzinfo=UTC)
    except ValueError:
        raise f.error(where, f"expected a date as YYYYMMDD, got {text!r:.20}") from None
    return int(day.timestamp())
