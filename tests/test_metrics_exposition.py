"""The cached exposition: format negotiation, gzip, escaping variants, and promtool's verdict."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from decimal import Decimal

import pytest
from prometheus_client import exposition as text_format
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from monitor.metrics import (
    AccountRef,
    BilledRow,
    BudgetRow,
    BuildInfo,
    DriftRow,
    Exposition,
    LedgerView,
    PollStats,
    PriceRow,
    SavingsRow,
    Snapshot,
    SnapshotCollector,
    SpendRow,
    TotalRow,
    UnpricedRow,
)
from monitor.records import tokens_of

OPENMETRICS_ACCEPT = "application/openmetrics-text; version=1.0.0"
# What Prometheus 2.x sends by default.
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)


def ledger() -> LedgerView:
    odd = 'we"ird\\proj\nname'
    return LedgerView(
        totals=[
            TotalRow(
                "openai",
                "prod",
                "proj_a",
                "gpt-4.1",
                "standard",
                "",
                tokens_of(input=10),
                tokens_of(input=20_000_000),
                1,
            ),
            TotalRow(
                "openai", "prod", odd, "gpt-4.1", "batch", "", tokens_of(output=3), tokens_of(output=33), 2
            ),
            TotalRow(  # values an escaping rewrite must not mistake for syntax
                "anthropic",
                'acct\\"},x="1',
                'p="q",r=\\',
                "m\r\u2028\x1c{é}",
                'tier \\\\"',
                "",
                tokens_of(input=1, cached_input=2),
                tokens_of(input=10**15 + 1, cached_input=3),
                3,
            ),
        ],
        spend=[SpendRow("openai", "prod", "proj_a", "gpt-4.1", "day", 20_000_000)],
        billed=[BilledRow("openai", "prod", "proj_a", "day", -5_000_000)],  # a credit
        drift=[DriftRow("openai", "prod", Decimal("-0.5"))],
        unpriced=[UnpricedRow("openai", "prod", "mystery", 9)],
        cache_savings=[SavingsRow("openai", "prod", "gpt-4.1", 7)],
        prices=[PriceRow("openai", "gpt-4.1", "standard", "input", Decimal("2"))],
        budgets=[BudgetRow("m", 10**12, 0, 0, 1_700_000_000, alert_states=[("80", "actual", 0)])],
        outbox_pending=1,
        ledger_rows=2,
    )


def published(data: LedgerView | None = None) -> Exposition:
    stats = PollStats(
        [AccountRef("openai", "prod", ("completions",))], channels=["alertmanager"], jobs=["outbox"]
    )
    stats.record_poll("openai", "prod", duration=2.0, ok=True, finished_at=1_700_000_000.0, data_lag=120.0)
    exposition = Exposition()
    exposition.update(
        data or ledger(), stats, version="0.1.0", pricing_version="2025-06-01", now=1_700_000_100.0
    )
    return exposition


def test_render_before_any_update_raises_lookup_error() -> None:
    with pytest.raises(LookupError):
        Exposition().render()


def test_default_format_is_prometheus_text_0_0_4() -> None:
    body, content_type, encoding = published().render(None, None)
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    assert encoding is None
    names = {f.name for f in parse_text(body.decode())}
    assert "llm_cost_usd" in names  # the text parser reports counters without _total


def test_openmetrics_is_negotiated_like_prometheus_client() -> None:
    exposition = published()
    for accept in (OPENMETRICS_ACCEPT, PROMETHEUS_ACCEPT):
        body, content_type, _ = exposition.render(accept, None)
        assert content_type == text_format.choose_encoder(accept)[1]
        assert content_type.startswith("application/openmetrics-text; version=1.0.0")
        assert body.endswith(b"# EOF\n")


def test_openmetrics_output_parses_strictly() -> None:
    body = published().render(OPENMETRICS_ACCEPT, None)[0].decode()
    families = {f.name: f for f in parse_openmetrics(body)}
    assert families["llm_tokens"].type == "counter"
    assert families["spend_monitor_poll_duration_seconds"].type == "histogram"


def test_gzip_is_served_when_accepted_and_decodes_to_the_same_bytes() -> None:
    exposition = published()
    plain = exposition.render(OPENMETRICS_ACCEPT, None)[0]
    body, _, encoding = exposition.render(OPENMETRICS_ACCEPT, "deflate, gzip;q=0.8")
    assert encoding == "gzip"
    assert gzip.decompress(body) == plain


def test_gzip_with_q_zero_is_refused() -> None:
    assert published().render(None, "gzip;q=0")[2] is None


def test_an_unparsable_version_falls_back_to_text() -> None:
    body, content_type, _ = published().render("application/openmetrics-text; version=abc", None)
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    assert b"llm_tokens_total" in body


@pytest.mark.parametrize("escaping", ["underscores", "allow-utf-8", "values", "dots"])
@pytest.mark.parametrize("fmt", ["text/plain; version=1.0.0", OPENMETRICS_ACCEPT])
def test_every_name_escaping_renders_what_prometheus_client_would(fmt: str, escaping: str) -> None:
    snapshot = Snapshot(
        ledger(), PollStats([AccountRef("openai", "prod", ("x",))]).view(), BuildInfo("1"), 5.0
    )
    exposition = Exposition()
    exposition.publish(snapshot)
    accept = f"{fmt}; escaping={escaping}"
    body, content_type, _ = exposition.render(accept, None)
    encoder, expected_type = text_format.choose_encoder(accept)
    assert content_type == expected_type
    assert body == encoder(SnapshotCollector(snapshot))
    if escaping in ("underscores", "allow-utf-8"):  # served from the pre-rendered variant
        assert body == exposition.render(fmt, None)[0]


def test_the_cached_bytes_do_not_change_until_update() -> None:
    exposition = published()
    before = exposition.render(None, None)[0]
    changed = LedgerView(
        totals=[TotalRow("openai", "prod", "proj_z", tokens=tokens_of(input=1), costs=tokens_of(input=1))]
    )
    assert exposition.render(None, None)[0] == before
    exposition.update(changed, PollStats([]), version="0.1.0", now=1_700_000_200.0)
    assert b'project="proj_z"' in exposition.render(None, None)[0]


def test_promtool_accepts_the_text_exposition() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is not installed: run `make system-deps` (Debian package prometheus)")
    body = published().render(None, None)[0]
    result = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert result.stdout.decode().strip() == ""  # no lint findings either
