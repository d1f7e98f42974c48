"""The status page's sections about the bills: what was priced from a bill this month, the table prices a
bill disagrees with, and the billed lines that gave no rate (monitor/metrics/status_page.py renders
them after the top models).

Values that came from outside (account, model and line names) are escaped; money is in cents with
thousands separators, the exact amount in `data-usd` as everywhere on the page.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from monitor.metrics.status_data import BillLineProblem, RateLine
from monitor.records import pico_to_usd
from monitor.store.bill_usage import BillPriced

_CENT = Decimal("0.01")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _usd(pico: int) -> str:
    exact = pico_to_usd(pico)
    shown = exact.quantize(_CENT, rounding=ROUND_HALF_EVEN)
    return f'<td class="usd" data-usd="{_e(format(exact.normalize(), "f"))}">${shown:,}</td>'


def _table(css: str, headers: Sequence[str], rows: Sequence[str], empty: str) -> str:
    if not rows:
        return f'<p class="muted">{_e(empty)}</p>'
    head = "".join(
        f'<th class="usd">{_e(h[1:])}</th>' if h.startswith("$") else f"<th>{_e(h)}</th>" for h in headers
    )
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def bill_sections(
    priced: Sequence[BillPriced], rates: Sequence[RateLine], problems: Sequence[BillLineProblem]
) -> list[str]:
    """The HTML of the three sections, in order."""
    priced_rows = [
        f'<tr class="bill-priced"><td>{_e(p.provider)}</td><td>{_e(p.account)}</td><td>{_e(p.model)}</td>'
        f'<td class="usd">{p.tokens:,}</td>{_usd(p.cost_pico)}'
        f"<td>{_e(p.first_day if p.first_day == p.last_day else f'{p.first_day} to {p.last_day}')}</td></tr>"
        for p in priced
    ]
    rate_rows = [
        f'<tr class="rate-off"><td>{_e(r.account)}</td><td>{_e(r.model)}</td><td>{_e(r.token_type)}</td>'
        f'<td>{_e(r.tier)}</td><td>{_e(r.day)}</td><td class="usd">${_e(r.billed_per_million)}</td>'
        f'<td class="usd">${_e(r.table_per_million)}</td><td class="usd">{_e(r.drift_percent)}%</td></tr>'
        for r in rates
    ]
    problem_rows = [
        f'<tr class="bill-line"><td>{_e(p.account)}</td><td>{_e(p.day)}</td><td>{_e(p.reason)}</td>'
        f"<td>{_e(p.text)}</td></tr>"
        for p in problems
    ]
    return [
        "<h2>Priced from the bill</h2>",
        '<p class="muted">Models no price source lists, priced at the rates of their own bill of the same '
        "day (price source <code>billed YYYY-MM-DD</code>), this month.</p>",
        _table(
            "bill-priced",
            ("provider", "account", "model", "$tokens", "$cost", "days"),
            priced_rows,
            "Nothing priced from a bill this month.",
        ),
        "<h2>Prices the bill disagrees with</h2>",
        _table(
            "rates-off",
            ("account", "model", "token type", "tier", "day", "$billed per 1M", "$table per 1M", "$off"),
            rate_rows,
            "Every table price agrees with the bills (within the drift threshold).",
        ),
        "<h2>Bill lines that gave no rate</h2>",
        _table(
            "bill-lines",
            ("account", "day", "reason", "line"),
            problem_rows,
            "Every billed token line of the last 31 days gave a rate.",
        ),
    ]
