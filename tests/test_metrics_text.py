"""The direct encoder writes exactly the bytes prometheus_client's encoders write for the same snapshot."""

from __future__ import annotations

import gzip
import random
from decimal import Decimal

import pytest
from prometheus_client import exposition as text_format
from prometheus_client.openmetrics import exposition as openmetrics

from monitor.metrics import (
    AccountRef,
    BilledRow,
    BudgetRow,
    BuildInfo,
    DriftRow,
    Exposition,
    LedgerView,
    MetricsOptions,
    PollStats,
    PriceRow,
    SavingsRow,
    Snapshot,
    SnapshotCollector,
    SpendRow,
    TotalRow,
    UnpricedRow,
    text,
)
from monitor.metrics.collector import prepare
from monitor.records import TOKEN_TYPES

HOSTILE = (
    "",
    'we"ird',
    "back\\slash\\",
    "new\nline",
    "\\n not a newline",
    'acct\\"},x="1',
    "m\r\u2028\x1c{é} ✓",
    'tier \\\\\\"',
    "__other__",
)


def varied_ledger(rows: int, seed: int = 7) -> LedgerView:
    """Many label combinations, hostile label values, values from 0 to past 2**63, credits, Decimals."""
    rng = random.Random(seed)
    magnitudes = (0, 1, 7, 10**6, 123_456_789, 10**12, 10**15 + 1, 2**63 + 5, 10**21)

    def label(prefix: str, n: int) -> str:
        return rng.choice(HOSTILE) if rng.random() < 0.1 else f"{prefix}{rng.randrange(n)}"

    totals = []
    for _ in range(rows):
        tokens = tuple(rng.choice(magnitudes) if rng.random() < 0.4 else 0 for _ in TOKEN_TYPES)
        costs = tuple(rng.choice(magnitudes) if t else 0 for t in tokens)
        totals.append(
            TotalRow(
                rng.choice(("openai", "anthropic")),
                label("acct", 3),
                label("proj_", 40),
                label("model-", 12),
                rng.choice(("", "standard", "batch", "priority")),
                label("key_", 60),
                tokens,
                costs,
                rng.randrange(10**9),
                rng.choice((0, 0, 5)),
            )
        )
    return LedgerView(
        totals=totals,
        spend=[
            SpendRow(
                "openai", label("acct", 3), label("proj_", 40), label("model-", 12), p, rng.choice(magnitudes)
            )
            for p in ("day", "month")
            for _ in range(rows // 4)
        ],
        billed=[BilledRow("openai", "prod", h, "month", -(10**13) + i) for i, h in enumerate(HOSTILE)],
        drift=[DriftRow("openai", "prod", Decimal("-0.5")), DriftRow("anthropic", 'a"b', Decimal("1e-7"))],
        unpriced=[UnpricedRow("openai", "prod", h, 2**64 + i) for i, h in enumerate(HOSTILE)],
        cache_savings=[SavingsRow("anthropic", "x", h, 10**12 // (i + 1)) for i, h in enumerate(HOSTILE)],
        prices=[
            PriceRow("openai", h, "standard", t, Decimal("0.075") * (i + 1))
            for i, h in enumerate(HOSTILE)
            for t in ("input", "output")
        ],
        budgets=[
            BudgetRow('b"\\\n', 10**12, 3 * 10**12, 0, 1_700_000_000, alert_states=[("80", "actual", 1)])
        ],
        outbox_pending=3,
        ledger_rows=10**7,
    )


def snapshot_of(ledger: LedgerView, *, include_api_key: bool = True, series_limit: int = 10**6) -> Snapshot:
    stats = PollStats([AccountRef("openai", 'pr"od', ("completions",))], channels=["slack"], jobs=["outbox"])
    stats.record_poll("openai", 'pr"od', duration=2.5, ok=True, finished_at=1_700_000_000.0, data_lag=120.0)
    options = MetricsOptions(include_api_key, series_limit)
    return Snapshot(ledger, stats.view(), BuildInfo("1.2.3", 'prices "v2"'), 1_700_000_100.25, options)


def encoded(snapshot: Snapshot, dropped_before: int = 0) -> tuple[bytes, bytes]:
    plain: list[bytes] = []
    om: list[bytes] = []
    text.encode(prepare(snapshot, dropped_before=dropped_before), plain.append, om.append)
    return b"".join(plain), b"".join(om)


@pytest.mark.parametrize(
    ("include_api_key", "series_limit"),
    [(True, 10**6), (False, 10**6), (True, 1_500), (False, 120)],
    ids=["api-keys", "summed-over-keys", "folded", "truncated"],
)
def test_encode_is_byte_identical_to_prometheus_client(include_api_key: bool, series_limit: int) -> None:
    snapshot = snapshot_of(varied_ledger(3_000), include_api_key=include_api_key, series_limit=series_limit)
    plain, om = encoded(snapshot, dropped_before=11)
    collector = SnapshotCollector(snapshot, dropped_before=11)
    assert collector.series > 100
    assert plain == text_format.generate_latest(collector)
    assert om == openmetrics.generate_latest(collector)  # type: ignore[no-untyped-call]
    for value in ('we\\"ird', "back\\\\slash\\\\", "new\\nline", "m\r\u2028\x1c{é} ✓"):
        assert f'"{value}"'.encode() in plain  # the hostile values are in there, escaped


def test_encode_handles_an_empty_snapshot() -> None:
    snapshot = snapshot_of(LedgerView())
    plain, om = encoded(snapshot)
    collector = SnapshotCollector(snapshot)
    assert plain == text_format.generate_latest(collector)
    assert om == openmetrics.generate_latest(collector)  # type: ignore[no-untyped-call]


def test_chunks_split_on_line_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text, "CHUNK_LINES", 7)
    snapshot = snapshot_of(varied_ledger(200))
    chunks: list[bytes] = []
    text.encode(prepare(snapshot), chunks.append, lambda _: None)
    assert all(chunk.endswith(b"\n") for chunk in chunks)
    assert b"".join(chunks) == text_format.generate_latest(SnapshotCollector(snapshot))


def test_the_exposition_serves_the_encoded_bytes_gzipped_and_plain() -> None:
    snapshot = snapshot_of(varied_ledger(500))
    exposition = Exposition()
    exposition.publish(snapshot)
    collector = SnapshotCollector(snapshot)
    body, _, encoding = exposition.render(None, "gzip")
    assert encoding == "gzip"
    assert gzip.decompress(body) == text_format.generate_latest(collector)
    body, _, encoding = exposition.render("application/openmetrics-text; version=1.0.0", None)
    assert encoding is None
    assert body == openmetrics.generate_latest(collector)  # type: ignore[no-untyped-call]
