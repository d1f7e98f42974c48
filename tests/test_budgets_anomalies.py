"""Spike and first-seen key/model alerts, through the same state table and outbox as budgets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from test_budgets_support import open_stores, write

from monitor.budgets import BudgetEngine
from monitor.config import AnomalyConfig
from monitor.directory import DirectoryEntry
from monitor.store import Ledger
from monitor.store.alerts import AlertStore
from monitor.store.directory import DirectoryStore

NOW = datetime(2025, 6, 18, 11, 5, tzinfo=UTC)
SPIKE_HOUR = datetime(2025, 6, 18, 10, 0, tzinfo=UTC)


def engine(**config: object) -> BudgetEngine:
    return BudgetEngine([], ["hook"], ZoneInfo("UTC"), anomalies=AnomalyConfig(**config))  # type: ignore[arg-type]


def kinds(store: AlertStore) -> list[tuple[str, str, str]]:
    return [(e.key.kind, e.key.budget, e.key.threshold) for e in store.entries()]


def history(ledger: Ledger, usd: str = "2", days: int = 8) -> None:
    """`usd` at 10:00 on each of the previous `days` days (the same-hour baseline)."""
    for d in range(1, days + 1):
        write(ledger, SPIKE_HOUR - timedelta(days=d), usd)


def test_spend_over_three_times_the_same_hour_baseline_fires_once(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    history(ledger)
    eng = engine()
    eng.evaluate(ledger, store, NOW - timedelta(hours=1))  # seeds the seen keys
    write(ledger, SPIKE_HOUR + timedelta(minutes=10), "10")
    eng.evaluate(ledger, store, NOW)
    eng.evaluate(ledger, store, NOW + timedelta(minutes=5))
    assert kinds(store) == [("spike", "openai-prod", "3x")]
    payload = store.entries()[0].payload
    assert (payload["spend_usd"], payload["baseline_usd"], payload["alertname"]) == (
        "10",
        "2",
        "LLMSpendSpike",
    )
    assert payload["expires_at"]


def test_spend_under_the_factor_is_no_spike(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    history(ledger)
    write(ledger, SPIKE_HOUR, "6")  # exactly 3x is not above 3x
    engine().evaluate(ledger, store, NOW)
    assert kinds(store) == []


def test_spend_under_the_minimum_is_no_spike(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    history(ledger, "0.1")
    write(ledger, SPIKE_HOUR, "0.9")  # 9x the baseline but under spike_min_usd ($1)
    engine().evaluate(ledger, store, NOW)
    assert kinds(store) == []


def test_an_account_without_history_has_no_baseline_and_no_spike(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, SPIKE_HOUR, "50")
    engine().evaluate(ledger, store, NOW)
    assert kinds(store) == []


def test_spike_settings_are_honoured(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    history(ledger)
    write(ledger, SPIKE_HOUR, "5")  # 2.5x
    engine(spike_factor=Decimal(2), spike_min_usd=Decimal(4)).evaluate(ledger, store, NOW)
    assert kinds(store) == [("spike", "openai-prod", "2x")]


def test_first_backfill_seeds_keys_and_models_silently(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    eng = engine()
    eng.evaluate(ledger, store, NOW - timedelta(days=3))  # empty ledger: nothing to seed yet
    for i, key in enumerate(["key_a", "key_b", "key_c"]):
        write(ledger, NOW - timedelta(days=10 - i), "1", api_key=key, model=f"model-{i}")
    eng.evaluate(ledger, store, NOW - timedelta(days=2))
    assert kinds(store) == []
    assert store.seen("api_key") == {"key_a", "key_b", "key_c"}


def test_a_new_api_key_and_model_fire_once(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(days=3), "1")
    eng = engine()
    eng.evaluate(ledger, store, NOW - timedelta(days=2))
    write(ledger, NOW - timedelta(minutes=30), "1", api_key="key_new", model="gpt-9")
    eng.evaluate(ledger, store, NOW)
    eng.evaluate(ledger, store, NOW + timedelta(minutes=5))
    assert kinds(store) == [("new_api_key", "openai-prod", "key_new"), ("new_model", "openai-prod", "gpt-9")]
    summary = store.entries()[0].payload["summary"]
    assert summary == "New API key key_new is spending on openai-prod (openai)"


def test_a_new_api_key_is_named_with_its_owner(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(days=3), "1")
    eng = engine()
    eng.evaluate(ledger, store, NOW - timedelta(days=2))
    DirectoryStore(ledger).write(
        "openai-prod",
        "api_key",
        [DirectoryEntry("openai", "openai-prod", "api_key", "key_new", name="ci-deploy", owner="user-1")],
        seen_at=1,
        complete=False,
    )
    DirectoryStore(ledger).write(
        "openai-prod",
        "user",
        [DirectoryEntry("openai", "openai-prod", "user", "user-1", email="alice@acme.example")],
        seen_at=1,
        complete=False,
    )
    write(ledger, NOW - timedelta(minutes=30), "1", api_key="key_new")
    eng.evaluate(ledger, store, NOW)
    summary = store.entries()[0].payload["summary"]
    assert (
        summary
        == "New API key ci-deploy (key_new, owner alice@acme.example) is spending on openai-prod (openai)"
    )


def test_a_backfilled_key_older_than_seeding_stays_silent(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(days=1), "1")
    eng = engine()
    eng.evaluate(ledger, store, NOW)
    write(ledger, NOW - timedelta(days=20), "1", api_key="key_old")  # a later backfill of older usage
    eng.evaluate(ledger, store, NOW + timedelta(minutes=5))
    assert kinds(store) == [] and "key_old" in store.seen("api_key")


def test_disabled_first_seen_alerts_still_record_the_key(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(days=1), "1")
    eng = engine(new_api_key=False, new_model=False)
    eng.evaluate(ledger, store, NOW - timedelta(hours=2))
    write(ledger, NOW - timedelta(minutes=20), "1", api_key="key_x", model="o9")
    eng.evaluate(ledger, store, NOW)
    assert kinds(store) == [] and "key_x" in store.seen("api_key")


def test_seen_table_survives_a_restart(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(days=1), "1")
    engine().evaluate(ledger, store, NOW - timedelta(hours=3))
    write(ledger, NOW - timedelta(hours=2), "1", api_key="key_new")
    engine().evaluate(ledger, store, NOW - timedelta(hours=1))
    ledger.close()
    ledger2, store2 = open_stores(tmp_path / "l.db")
    engine().evaluate(ledger2, store2, NOW)
    assert kinds(store2) == [("new_api_key", "openai-prod", "key_new")]


def test_anomaly_alert_times_are_aware(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(days=1), "1")
    engine().evaluate(ledger, store, NOW - timedelta(hours=2))
    write(ledger, NOW - timedelta(minutes=20), "1", api_key="key_x")
    engine().evaluate(ledger, store, NOW)
    payload = store.entries()[0].payload
    assert datetime.fromisoformat(payload["starts_at"]) == NOW
    assert datetime.fromisoformat(payload["expires_at"]) == NOW + timedelta(hours=1)
