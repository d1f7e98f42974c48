"""The HTML status page served at `/`: month-to-date spend (computed and billed), budgets, top models,
teams, projects, API keys and users by name, Claude Code, savings, prepaid balances and polls
(its data types: monitor.metrics.status_data).

Server-rendered, dependency-free and readable without JavaScript (progress bars are CSS widths).
Every value that came from outside (budget, account, project and model names, poll errors) is
escaped with `html.escape`, so a hostile label cannot inject markup. Money cells carry the exact
amount in a `data-usd` attribute next to the rounded text, for tests and scrapers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from monitor.metrics.html_cells import escaped as _e
from monitor.metrics.html_cells import table as _table
from monitor.metrics.html_cells import usd_cell as _usd_cell
from monitor.metrics.status_bills import bill_sections
from monitor.metrics.status_data import (
    BalanceLine,
    BudgetLine,
    NamedLine,
    PollLine,
    SavingsLine,
    SpendLine,
    StatusData,
)
from monitor.records import pico_to_usd

__all__ = [
    "BalanceLine",
    "BudgetLine",
    "NamedLine",
    "PollLine",
    "SavingsLine",
    "SpendLine",
    "StatusData",
    "render_status_page",
]

_CENT = Decimal("0.01")


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1b1f24}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}th,td{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}
td.usd,th.usd{text-align:right;font-variant-numeric:tabular-nums}
.bar{background:#eee;height:.8rem;min-width:8rem;border-radius:.2rem;overflow:hidden}
.bar span{display:block;height:100%;background:#2f7d32}.bar span.warn{background:#e0a000}
.bar span.over{background:#c62828}.fc span{background:#90a4ae}
.err{color:#c62828}.ok{color:#2f7d32}.muted{color:#666}
#problems{border:2px solid #c62828;border-radius:.3rem;padding:.2rem 1rem;margin:1rem 0}
"""


def _when(ts: int) -> str:
    if ts <= 0:
        return "never"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _percent(part: int, whole: int) -> Decimal | None:
    return None if whole <= 0 else (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def _bar(part: int, whole: int, extra: str = "") -> str:
    pct = _percent(part, whole)
    if pct is None:
        return '<span class="muted">no limit</span>'
    state = "over" if pct > 100 else "warn" if pct >= 80 else ""
    width = min(pct, Decimal(100))
    return (
        f'<div class="bar{extra}" role="img" aria-label="{pct}%">'
        f'<span class="{state}" style="width:{width}%"></span></div>'
    )


def _budgets(data: StatusData) -> str:
    rows = []
    for b in data.budgets:
        pct = _percent(b.spend_pico, b.limit_pico)
        fpct = _percent(b.forecast_pico, b.limit_pico)
        rows.append(
            f'<tr class="budget"><td>{_e(b.name)}{_note(b.note)}</td>{_usd_cell(b.spend_pico)}{_usd_cell(b.limit_pico)}'
            f"<td>{_bar(b.spend_pico, b.limit_pico)} {'' if pct is None else f'{pct}%'}</td>"
            f"{_usd_cell(b.forecast_pico)}<td>{_bar(b.forecast_pico, b.limit_pico, ' fc')} "
            f"{'' if fpct is None else f'{fpct}%'}</td><td>{_e(_when(b.period_end))}</td></tr>"
        )
    headers = ("budget", "$spend", "$limit", "used", "$forecast", "forecast of limit", "period ends")
    return _table(headers, rows, "No budgets configured.")


def _note(note: str) -> str:
    return f'<br><span class="muted note">{_e(note)}</span>' if note else ""


def _spend(lines: Sequence[SpendLine], with_model: bool) -> str:
    rows = [
        f'<tr class="{"model" if with_model else "account"}"><td>{_e(s.provider)}</td><td>{_e(s.account)}</td>'
        + (f"<td>{_e(s.model)}</td>" if with_model else "")
        + f"{_usd_cell(s.spend_pico)}"
        + (
            ""
            if with_model
            else _usd_cell(s.billed_pico)
            if s.billed_pico is not None
            else '<td class="usd muted">-</td>'
        )
        + "</tr>"
        for s in lines
    ]
    headers = (
        ("provider", "account", "model", "$spend")
        if with_model
        else ("provider", "account", "$spend", "$billed")
    )
    return _table(headers, rows, "No usage this month yet.")


def _balances(lines: Sequence[BalanceLine]) -> str:
    rows = [
        f'<tr class="balance"><td>{_e(b.provider)}</td><td>{_e(b.account)}</td><td>{_e(b.key or "(account)")}</td>'
        f"{_usd_cell(b.balance_pico)}"
        + (_usd_cell(b.limit_pico) if b.limit_pico is not None else '<td class="usd muted">-</td>')
        + f"<td>{_e(_when(b.observed_at))}</td></tr>"
        for b in lines
    ]
    headers = ("provider", "account", "key", "$balance", "$credit granted", "as of")
    return _table(headers, rows, "No channel with a prepaid balance.")


def _named(lines: Sequence[NamedLine], what: str, detail: str = "") -> str:
    with_account = any(n.account for n in lines)
    rows = [
        f'<tr class="{_e(what)}">'
        + (f"<td>{_e(n.account)}</td>" if with_account else "")
        + f"<td>{_e(n.name)}"
        + (f' <span class="muted">{_e(n.ident)}</span>' if n.name != n.ident else "")
        + "</td>"
        + (f"<td>{_e(n.detail)}</td>" if detail else "")
        + f"{_usd_cell(n.spend_pico)}</tr>"
        for n in lines
    ]
    headers = (*(("account",) if with_account else ()), what, *((detail,) if detail else ()), "$spend")
    return _table(headers, rows, f"No spend by {what} this month yet.")


def _savings(lines: Sequence[SavingsLine]) -> str:
    rows = [
        f'<tr class="savings"><td>{_e(s.provider)}</td><td>{_e(s.account)}</td>{_usd_cell(s.saved_pico)}</tr>'
        for s in lines
    ]
    return _table(("provider", "account", "$saved by caching"), rows, "No cached tokens this month.")


def _polls(lines: Sequence[PollLine]) -> str:
    rows = []
    for p in lines:
        status = (
            '<span class="ok">ok</span>' if p.ok else f'<span class="err">{_e(p.error or "failed")}</span>'
        )
        rows.append(
            f'<tr class="poll"><td>{_e(p.account)}</td><td>{_e(p.endpoint)}</td>'
            f"<td>{_e(_when(p.finished))}</td><td>{status}</td></tr>"
        )
    return _table(("account", "endpoint", "last poll", "result"), rows, "No poll has finished yet.")


def _problems(problems: Sequence[str]) -> str:
    if not problems:
        return ""
    items = "".join(f'<li class="err">{_e(p)}</li>' for p in problems)
    return (
        '<div id="problems" role="alert"><h2>Not ready</h2>'
        f"<ul>{items}</ul><p>The figures below are from the last refresh that succeeded.</p></div>"
    )


def render_status_page(data: StatusData) -> bytes:
    """The page as UTF-8 bytes: a complete HTML document with inline CSS and no scripts."""
    month = data.month or datetime.fromtimestamp(data.month_start, UTC).strftime("%Y-%m")
    body = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>LLM spend {_e(month)}</title><style>{_STYLE}</style></head><body>",
        "<h1>LLM spend monitor</h1>",
        _problems(data.problems),
        f'<p>Month to date ({_e(month)}, {_e(data.timezone)}): <strong id="month-spend" '
        f'data-usd="{_e(format(pico_to_usd(data.month_spend_pico).normalize(), "f"))}">'
        f"${pico_to_usd(data.month_spend_pico).quantize(_CENT, rounding=ROUND_HALF_EVEN):,}</strong></p>",
        "<h2>Budgets</h2>",
        _budgets(data),
        "<h2>Spend by provider account</h2>",
        '<p class="muted">Spend is computed from tokens and list prices; billed is what the provider '
        "billed this month (for Azure OpenAI, OpenRouter and relays, their charge).</p>",
        _spend(data.providers, with_model=False),
        "<h2>Top models</h2>",
        _spend(data.models, with_model=True),
        *bill_sections(data.bill_priced, data.rates_off, data.bill_lines),
        *(("<h2>Spend by team</h2>", _named(data.teams, "team", "cost centre")) if data.teams else ()),
        "<h2>Top projects</h2>",
        _named(data.projects, "project"),
        "<h2>Top API keys</h2>",
        _named(data.api_keys, "api key", "owner"),
        *(("<h2>Top users</h2>", _named(data.users, "user")) if data.users else ()),
        *(
            ("<h2>Claude Code this month (Anthropic's estimate)</h2>", _named(data.developers, "developer"))
            if data.developers
            else ()
        ),
        "<h2>Savings</h2>",
        _savings(data.savings),
        "<h2>Prepaid balances</h2>",
        _balances(data.balances),
        "<h2>Last polls</h2>",
        _polls(data.polls),
        f'<p class="muted">Generated {_e(_when(data.generated_at))}'
        f"{f' by spend-monitor {_e(data.version)}' if data.version else ''}. "
        'Prometheus metrics: <a href="/metrics">/metrics</a>.</p>',
        "</body></html>",
    ]
    return "\n".join(body).encode("utf-8")
