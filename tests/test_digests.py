"""Digests: the text for people, when it is due, once per period (also across a SIGKILL of the daemon
process), the CLI printing the same text, and its config errors."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_alerts_support import Receiver
from test_budgets_support import open_stores, write

from monitor.attribution import Attributor
from monitor.budgets import BudgetStatus
from monitor.cli import main
from monitor.config.model import AttributionRule, BudgetScope, DigestConfig
from monitor.digests import DigestInputs, DigestScheduler, build_digest
from monitor.digests.scheduler import send_time, summarised_bounds
from monitor.directory import DirectoryEntry
from monitor.pricing import PriceTable
from monitor.records import usd_text
from monitor.simulator import Simulator
from monitor.store import Ledger
from monitor.store.directory import DirectoryStore
from tests.daemon_support import free_port, key_env, spawn, wait_ready, write_config

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=BERLIN)  # a Monday, after the weekly digest's 09:00
TABLE = PriceTable.bundled()


def test_money_is_in_cents_with_separators() -> None:
    assert usd_text(1_234_567_891_234_567) == "$1,234.57"
    assert usd_text(-3_104_000_000_000) == "-$3.10"
    assert usd_text(0) == "$0.00"


def test_the_last_complete_week_is_summarised_against_the_one_before() -> None:
    previous, start, end = summarised_bounds("week", NOW, BERLIN)
    assert (previous.date().isoformat(), start.date().isoformat(), end.date().isoformat()) == (
        "2026-11-09",
        "2026-11-16",
        "2026-11-23",
    )
    digest = DigestConfig("week", time=9 * 60)
    assert send_time(digest, end, BERLIN) == datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN)


def seeded(tmp_path: Path) -> Ledger:
    ledger, _ = open_stores(tmp_path / "l.db")
    last_week, week_before = NOW - timedelta(days=3), NOW - timedelta(days=10)
    write(ledger, week_before, "1000", project="proj_alpha")
    write(ledger, last_week, "1150.5", project="proj_alpha")
    write(ledger, last_week, "84", project="proj_beta", model="gpt-4.1-mini")
    DirectoryStore(ledger).write(
        "openai-prod",
        "project",
        [DirectoryEntry("openai", "openai-prod", "project", "proj_alpha", name="search-backend")],
        seen_at=1,
        complete=False,
    )
    return ledger


def inputs(budgets: tuple[BudgetStatus, ...] = ()) -> DigestInputs:
    rules = (AttributionRule(BudgetScope(project=("proj_alpha",)), "search"),)
    return DigestInputs(BERLIN, Attributor(rules), TABLE, budgets)


def status(spend: int, limit: int) -> BudgetStatus:
    start, end = datetime(2026, 11, 1, tzinfo=BERLIN), datetime(2026, 12, 1, tzinfo=BERLIN)
    return BudgetStatus("openai-monthly", "month", start, end, limit * 10**12, spend * 10**12,
                        Decimal(spend) / limit, 2 * spend * 10**12, None)  # fmt: skip


def test_the_digest_reads_like_text_for_people(tmp_path: Path) -> None:
    ledger = seeded(tmp_path)
    text = build_digest(
        ledger, "week", summarised_bounds("week", NOW, BERLIN), inputs((status(450, 500),))
    ).text
    assert text.startswith("LLM spend in the week of 2026-11-16 to 2026-11-22 (Europe/Berlin)\n")
    assert "Total: $1,234.50, +$234.50 (+23.4%) against $1,000.00 the week before" in text
    assert "search-backend (openai-prod): $1,150.50, +$150.50 (+15.0%)" in text, "names, not ids"
    assert "proj_beta (openai-prod): $84.00, +$84.00 (new)" in text
    assert "By team:\n  search: $1,150.50, +$150.50 (+15.0%)\n  unassigned: $84.00" in text
    assert "openai-monthly: $450.00 of $500.00 (90.0%) this month, forecast $900.00" in text
    assert "proj_alpha" not in text


def test_a_budget_near_its_limit_says_what_its_spend_does_not_show(tmp_path: Path) -> None:
    blind = replace(
        status(450, 500),
        billed_excess_pico=12 * 10**12,
        unpriced_tokens=12_400_000,
        unpriced_models=(("gpt-7-preview", 12_400_000),),
    )
    text = build_digest(
        seeded(tmp_path), "week", summarised_bounds("week", NOW, BERLIN), inputs((blind,))
    ).text
    assert (
        "openai-monthly: $450.00 of $500.00 (90.0%) this month, forecast $900.00; $12.00 of it billed above "
        "the computed cost; plus 12.4M unpriced tokens of gpt-7-preview\n"
    ) in text


def scheduler(channels: tuple[str, ...] = ("hook",)) -> DigestScheduler:
    return DigestScheduler([DigestConfig("week", time=9 * 60, channels=channels)], ["hook", "am"], inputs())


def test_a_digest_is_queued_once_per_period_even_by_a_new_process(tmp_path: Path) -> None:
    ledger = seeded(tmp_path)
    store = open_stores(tmp_path / "l.db")[1]
    assert scheduler().run(ledger, store, NOW - timedelta(hours=1)) == 0, "not before 09:00 on Monday"
    assert scheduler().run(ledger, store, NOW) == 1
    assert scheduler().run(ledger, store, NOW + timedelta(hours=3)) == 0
    ledger.close()
    ledger2, store2 = open_stores(tmp_path / "l.db")
    assert scheduler().run(ledger2, store2, NOW + timedelta(days=1)) == 0, "a restart sends nothing again"
    assert scheduler().run(ledger2, store2, NOW + timedelta(days=7)) == 1, "the next week's digest"
    rows = store2.entries()
    assert [(e.channel, e.key.period_start) for e in rows] == [
        ("hook", int(datetime(2026, 11, 16, tzinfo=BERLIN).timestamp())),
        ("hook", int(datetime(2026, 11, 23, tzinfo=BERLIN).timestamp())),
    ]
    assert rows[0].payload["text"].startswith("LLM spend in the week of 2026-11-16")
    assert rows[0].payload["expires_at"], "an event: never re-posted to Alertmanager"


CONFIG = """
timezone: UTC
storage:
  path: {db}
providers:
  - {{name: openai-prod, type: openai, api_key: sk-admin-not-used}}
alerts:
  - {{type: webhook, name: hook, url: "{url}", secret: s3cret}}
{digests}
"""


def write_cli_config(tmp_path: Path, db: Path, url: str, digests: str) -> Path:
    path = tmp_path / "digest.yaml"
    path.write_text(CONFIG.format(db=db, url=url, digests=digests), encoding="utf-8")
    return path


def test_the_cli_prints_the_text_and_sends_it_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded(tmp_path).close()
    receiver = Receiver().start()
    try:
        config = write_cli_config(
            tmp_path, tmp_path / "l.db", receiver.url, "digests:\n  - {period: day, time: '00:00'}\n"
        )
        assert main(["digest", "--config", str(config), "--period", "day", "--dry-run"]) == 0
        printed = capsys.readouterr().out
        assert receiver.requests == []
        assert main(["digest", "--config", str(config), "--period", "day"]) == 0
        out, err = capsys.readouterr()
        assert out == printed and "sent the daily digest to hook" in err
        assert main(["digest", "--config", str(config), "--period", "day"]) == 0
        assert "not sent again" in capsys.readouterr().err
        assert [r.json["alert"]["text"] for r in receiver.accepted] == [printed]
    finally:
        receiver.stop()


@pytest.mark.parametrize(
    ("digests", "problem"),
    [
        (
            "digests:\n  - {period: week, time: '9am'}\n",
            "digests[0].time: '9am' is not a time of day (expected HH:MM",
        ),
        ("digests:\n  - {period: week, time: '25:00'}\n", "digests[0].time: '25:00' is not a time of day"),
        ("digests:\n  - {period: fortnight}\n", "digests[0].period: unknown digest period 'fortnight'"),
        (
            "digests:\n  - {period: week, channels: [slak]}\n",
            "digests[0].channels[0]: no alert channel is named 'slak'",
        ),
    ],
)
def test_a_bad_digest_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], digests: str, problem: str
) -> None:
    config = write_cli_config(tmp_path, tmp_path / "l.db", "http://127.0.0.1:9/", digests)
    assert main(["check-config", "--config", str(config)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and problem in lines[0], lines


def test_digest_for_an_unconfigured_period_needs_dry_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded(tmp_path).close()
    config = write_cli_config(tmp_path, tmp_path / "l.db", "http://127.0.0.1:9/", "")
    assert main(["digest", "--config", str(config), "--period", "month"]) == 2
    assert "no digests entry has period month" in capsys.readouterr().err
    assert main(["digest", "--config", str(config), "--period", "month", "--dry-run"]) == 0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def test_the_daemon_sends_a_digest_once_across_a_sigkill(tmp_path: Path, receiver: Receiver) -> None:
    """Killed after queueing the digest and before its delivery succeeded: the restarted daemon
    delivers that same digest (one idempotency key) and queues no second one."""
    receiver.default = 503  # the first daemon queues the digest but cannot deliver it
    with Simulator(seed=2) as sim:
        port = free_port()
        extra = (
            f"alerts:\n  - {{type: webhook, name: hook, url: '{receiver.url}', secret: s3cret}}\n"
            "digests:\n  - {period: day, time: '00:00'}\n"
        )
        config = write_config(
            tmp_path / "c.yaml",
            sim,
            tmp_path / "spend.db",
            listen=f"127.0.0.1:{port}",
            lookback="2d",
            extra=extra,
        )

        def attempts(accepted: bool = False) -> list[str]:
            seen = receiver.accepted if accepted else receiver.requests
            return [r.json["idempotency_key"] for r in seen if r.json["alert"].get("kind") == "digest"]

        def wait(predicate: Callable[[], bool], log: Path) -> None:
            deadline = time.monotonic() + 90
            while not predicate() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert predicate(), log.read_text()[-2000:]

        first = spawn(["run", "--config", str(config)], key_env(sim), tmp_path / "first.log")
        try:
            wait(lambda: bool(attempts()), tmp_path / "first.log")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=15)
        receiver.default = 204
        second = spawn(["run", "--config", str(config)], key_env(sim), tmp_path / "second.log")
        try:
            wait_ready(f"http://127.0.0.1:{port}", timeout=90)
            wait(lambda: bool(attempts(accepted=True)), tmp_path / "second.log")
            time.sleep(3)  # the digest job has run again since: it must not queue another
        finally:
            second.terminate()
            second.wait(timeout=15)
    assert len(attempts(accepted=True)) == 1
    assert len(set(attempts())) == 1, "every attempt is the same digest, with one idempotency key"
    day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    text = next(r.json["alert"]["text"] for r in receiver.accepted if r.json["alert"].get("kind") == "digest")
    assert text.startswith(f"LLM spend on {day} (UTC)")
