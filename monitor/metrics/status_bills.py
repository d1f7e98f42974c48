"""The status page's sections about the bills: what was priced from a bill this month, the table prices a
bill disagrees with, and the billed lines that gave no rate (monitor/metrics/status_page.py renders
them after the top models).

Values that came from outside (account, model and line names) are escaped; money is in cents with
thousands separators, the exact amount in `data-usd` as everywhere on the page (monitor.metrics.html_cells).
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor.metrics.html_cells import escaped, table, usd_cell
from monitor.metrics.status_data import BillLineProblem, RateLine
from monitor.store.bill_usage import BillPriced


def bill_sections(
    priced: Sequence[BillPriced], rates: Sequence[RateLine], problems: Sequence[BillLineProblem]
) -> list[str]:
    """The HTML of the three sections, in order."""
    priced_rows = [
        f'<tr class="bill-priced"><td>{escaped(p.provider)}</td><td>{escaped(p.account)}</td><td>{escaped(p.model)}</td>'
        f'<td class="usd">{p.tokens:,}</td>{usd_cell(p.cost_pico)}'
        f"<td>{escaped(p.first_day if p.first_day == p.last_day else f'{p.first_day} to {p.last_day}')}</td></tr>"
        for p in priced
    ]
    rate_rows = [
        f'<tr class="rate-off"><td>{escaped(r.account)}</td><td>{escaped(r.model)}</td><td>{escaped(r.token_type)}</td>'
        f'<td>{escaped(r.tier)}</td><td>{escaped(r.day)}</td><td class="usd">${escaped(r.billed_per_million)}</td>'
        f'<td class="usd">${escaped(r.table_per_million)}</td><td class="usd">{escaped(r.drift_percent)}%</td></tr>'
        for r in rates
    ]
    problem_rows = [
        f'<tr class="bill-line"><td>{escaped(p.account)}</td><td>{escaped(p.day)}</td><td>{escaped(p.reason)}</td>'
        f"<td>{escaped(p.text)}</td></tr>"
        for p in problems
    ]
    return [
        "<h2>Priced from the bill</h2>",
        '<p class="muted">Models no price source lists, priced at the rates of their own bill of the same '
        "day (price source <code>billed YYYY-MM-DD</code>), this month.</p>",
        table(
            ("provider", "account", "model", "$tokens", "$cost", "days"),
            priced_rows,
            "Nothing priced from a bill this month.",
            css="bill-priced",
        ),
        "<h2>Prices the bill disagrees with</h2>",
        table(
            ("account", "model", "token type", "tier", "day", "$billed per 1M", "$table per 1M", "$off"),
            rate_rows,
            "Every table price agrees with the bills (within the drift threshold).",
            css="rates-off",
        ),
        "<h2>Bill lines that gave no rate</h2>",
        table(
            ("account", "day", "reason", "line"),
            problem_rows,
            "Every billed token line of the last 31 days gave a rate.",
            css="bill-lines",
        ),
    ]
