"""The status page: hostile labels are escaped, no script runs, bars are CSS widths, and the figures
built from a real ledger equal the ledger's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

from test_drift_support import ANTHROPIC, NOW, OPENAI, populated_ledger

from monitor.metrics.status_page import (
    BalanceLine,
    BudgetLine,
    PollLine,
    SavingsLine,
    SpendLine,
    StatusData,
    render_status_page,
)
from monitor.pricing import PriceTable
from monitor.reconciliation import savings_by
from monitor.records import pico_to_usd, usd_to_pico
from monitor.status import build_status_data
from monitor.store import Ledger
from monitor.store.billed import BilledStore

HOSTILE = '<script>alert("x")</script>'
QUOTES = "\"onmouseover='steal()' x=\""
UNICODE = "prøject-ü-€-😀"
MONTH_START = 1793491200  # 2026-11-01T00:00:00Z
MONTH_END = 1796083200


class Page(HTMLParser):
    """Collects the text, the tags, the attributes and the data-usd figures of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.usd: list[tuple[str, str]] = []  # (row class, exact value)
        self._row = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        found = dict(attrs)
        if tag == "tr":
            self._row = found.get("class") or ""
        if "data-usd" in found:
            self.usd.append((found.get("id") or self._row, found["data-usd"] or ""))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def page(data: StatusData) -> Page:
    return Page(render_status_page(data).decode("utf-8"))


def hostile_data() -> StatusData:
    return StatusData(
        generated_at=NOW,
        month_start=MONTH_START,
        month_spend_pico=usd_to_pico("12.5"),
        budgets=(BudgetLine(HOSTILE, usd_to_pico(100), usd_to_pico("12.5"), usd_to_pico(150), MONTH_END),),
        providers=(SpendLine("openai", QUOTES, usd_to_pico("12.5")),),
        models=(SpendLine("openai", QUOTES, usd_to_pico("12.5"), model=UNICODE),),
        savings=(SavingsLine("openai", HOSTILE, usd_to_pico(1)),),
        polls=(PollLine(HOSTILE, "completions", NOW, ok=False, error="429 from <b>api</b> & retry"),),
    )


def test_hostile_labels_are_escaped_and_read_back_unchanged() -> None:
    html = render_status_page(hostile_data()).decode("utf-8")
    parsed = Page(html)
    text = "".join(parsed.text)
    assert "<script" not in html and "<b>" not in html
    assert "script" not in parsed.tags and "b" not in parsed.tags
    assert HOSTILE in text and QUOTES in text and UNICODE in text
    assert "429 from <b>api</b> & retry" in text
    assert not any(name.startswith("on") for name, _ in parsed.attrs)


def test_the_page_needs_no_javascript_and_links_the_metrics() -> None:
    parsed = page(hostile_data())
    assert "script" not in parsed.tags
    assert ("href", "/metrics") in parsed.attrs


def test_a_budget_bar_is_a_css_width_capped_at_100_percent() -> None:
    data = hostile_data()
    html = render_status_page(data).decode()
    assert 'style="width:12.5%"' in html  # spend 12.5 of 100
    assert 'style="width:100%"' in html and "150.0%" in html  # forecast 150 of 100, drawn full, told in text


def test_money_is_shown_to_the_cent_with_the_exact_amount_alongside() -> None:
    data = StatusData(generated_at=NOW, month_start=MONTH_START, month_spend_pico=1_234_567_890_123_456)
    html = render_status_page(data).decode()
    assert "$1,234.57" in html
    assert ("month-spend", "1234.567890123456") in Page(html).usd


def test_an_empty_install_says_so_instead_of_showing_empty_tables() -> None:
    text = "".join(page(StatusData(generated_at=NOW, month_start=MONTH_START, month_spend_pico=0)).text)
    assert "No budgets configured." in text and "No poll has finished yet." in text


@dataclass(frozen=True)
class Budget:
    name: str
    limit_pico: int
    spend_pico: int
    forecast_pico: int
    period_end: datetime
    billed_excess_pico: int = 0
    unpriced_tokens: int = 0
    unpriced_models: tuple[tuple[str, int], ...] = ()


def test_the_figures_built_from_a_ledger_equal_the_ledger(tmp_path: Path) -> None:
    table = PriceTable.bundled()
    end = datetime.fromtimestamp(MONTH_END, UTC)
    with Ledger.open(populated_ledger(tmp_path)) as ledger:
        ledger.record_poll(
            OPENAI, "completions", started=NOW - 5, finished=NOW, ok=False, error="HTTP 503 <retrying>"
        )
        data = build_status_data(
            ledger,
            [Budget("all", usd_to_pico(500), usd_to_pico(300), usd_to_pico(600), end)],
            table=table,
            now=datetime.fromtimestamp(NOW, UTC),
            tz=ZoneInfo("UTC"),
        )
        month = ledger.spend(MONTH_START, MONTH_END)
        per_account = {
            r["account"]: r["cost_total"] for r in ledger.spend_by(("account",), MONTH_START, MONTH_END)
        }
        saved = savings_by(ledger, table, ("account",), start=MONTH_START, end=MONTH_END)
        billed = {
            r["account"]: r["amount_pico"]
            for r in BilledStore(ledger).billed_by(("account",), MONTH_START, MONTH_END)
        }
    parsed = page(data)
    figures = parsed.usd
    assert [Decimal(v) for row, v in figures if row == "month-spend"] == [pico_to_usd(month)]
    assert billed  # each account row shows its spend, then what the provider billed
    assert [Decimal(v) for row, v in figures if row == "account"] == [
        pico_to_usd(x) for a in (ANTHROPIC, OPENAI) for x in (per_account[a], billed[a])
    ]
    assert [Decimal(v) for row, v in figures if row == "savings"] == [
        pico_to_usd(saved[(a,)]) for a in (ANTHROPIC, OPENAI)
    ]
    assert [Decimal(v) for row, v in figures if row == "budget"] == [300, 500, 600]
    models = [Decimal(v) for row, v in figures if row == "model"]
    assert models == sorted(models, reverse=True) and 0 < len(models) <= 10
    assert "HTTP 503 <retrying>" in "".join(parsed.text)


def test_the_month_is_the_configured_timezones(tmp_path: Path) -> None:
    december_in_tokyo = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # 2026-12-01 05:00 in Tokyo
    with Ledger.open(tmp_path / "spend.db") as ledger:
        data = build_status_data(
            ledger, [], table=PriceTable.bundled(), now=december_in_tokyo, tz=ZoneInfo("Asia/Tokyo")
        )
    assert "Month to date (2026-12, Asia/Tokyo)" in "".join(page(data).text)


def test_prepaid_balances_are_listed_with_their_limits() -> None:
    data = StatusData(
        generated_at=NOW,
        month_start=MONTH_START,
        month_spend_pico=0,
        balances=(
            BalanceLine("newapi", "relay", "", 38_204_000_000_000, 500 * 10**12, NOW),
            BalanceLine("openrouter", "router", "<prod>", 5 * 10**12, None, NOW),
        ),
    )
    parsed = page(data)
    assert [Decimal(v) for row, v in parsed.usd if row == "balance"] == [Decimal("38.204"), 500, 5]
    text = "".join(parsed.text)
    assert "$38.20" in text and "(account)" in text and "<prod>" in text  # escaped, shown as text
