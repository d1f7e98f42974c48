"""The status page's HTML pieces that every section uses: escaping, money cells and tables.

Values that came from outside are escaped; money is in cents with thousands separators, the exact
amount in `data-usd` (for tests and scrapers).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from monitor.records import pico_to_usd

_CENT = Decimal("0.01")


def escaped(value: object) -> str:
    """`value` as text safe in HTML content and attributes."""
    return html.escape(str(value), quote=True)


def usd_cell(pico: int) -> str:
    """A right-aligned money cell: the amount in cents, the exact amount in `data-usd`."""
    exact = pico_to_usd(pico)
    shown = exact.quantize(_CENT, rounding=ROUND_HALF_EVEN)
    return f'<td class="usd" data-usd="{escaped(format(exact.normalize(), "f"))}">${shown:,}</td>'


def table(headers: Sequence[str], rows: Sequence[str], empty: str, css: str = "") -> str:
    """A table of `rows` (each a `<tr>`), or `empty` in a muted paragraph when there are none; a header
    starting with "$" is a money column (right-aligned, without the "$")."""
    if not rows:
        return f'<p class="muted">{escaped(empty)}</p>'
    head = "".join(
        f'<th class="usd">{escaped(h[1:])}</th>' if h.startswith("$") else f"<th>{escaped(h)}</th>"
        for h in headers
    )
    attribute = f' class="{escaped(css)}"' if css else ""
    return f"<table{attribute}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
