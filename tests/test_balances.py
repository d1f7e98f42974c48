"""Prepaid balance alerts on a real SQLite ledger: below an amount, running out within N days at the
recent daily spend; once per crossing, resolved by a top-up, again at the next crossing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from monitor.budgets.balances import KIND_LOW, KIND_RUNWAY, evaluate_balances, money
from monitor.config import BalanceConfig
from monitor.records import Balance, BilledCost
from monitor.store import Ledger
from monitor.store.alerts import AlertStore
from monitor.store.billed import BilledStore
from monitor.store.channels import ChannelStore

DAY = 86_400
NOW = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)
TODAY = int(NOW.timestamp()) // DAY * DAY
USD = 10**12


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger.open(tmp_path / "spend.db")


def balance(ledger: Ledger, usd: str, *, account: str = "relay", at: int = TODAY) -> None:
    pico = int(Decimal(usd) * USD)
    ChannelStore(ledger).write_balances(
        account, [Balance("newapi", account, "", pico, 500 * USD, at)], observed_at=at
    )


def spent(ledger: Ledger, per_day_usd: int, days: int = 7, account: str = "relay") -> None:
    lines = [
        BilledCost("newapi", account, TODAY - d * DAY, "default", "k", per_day_usd * USD)
        for d in range(1, days + 1)
    ]
    BilledStore(ledger).write_billed(
        account, lines, observed_at=1, days=[TODAY - d * DAY for d in range(1, days + 1)]
    )


def evaluate(ledger: Ledger, *configs: BalanceConfig, now: datetime = NOW) -> list[tuple[str, str, str]]:
    store = AlertStore(ledger)
    before = len(store.entries())
    evaluate_balances(ledger, store, ["hook"], configs, now)
    return [(e.key.kind, e.event, e.payload["summary"]) for e in store.entries()[before:]]


def test_a_balance_below_the_amount_fires_once(ledger: Ledger) -> None:
    balance(ledger, "38.2")
    config = BalanceConfig("relay", below_usd=Decimal(50))
    assert evaluate(ledger, config) == [
        (KIND_LOW, "firing", "relay (newapi): prepaid balance $38.20 is below $50.00 (no recent spend)")
    ]
    assert evaluate(ledger, config) == []  # still below: nothing new


def test_a_top_up_resolves_and_the_next_crossing_fires_again(ledger: Ledger) -> None:
    config = BalanceConfig("relay", below_usd=Decimal(50))
    balance(ledger, "10", at=TODAY)
    evaluate(ledger, config)
    balance(ledger, "1010", at=TODAY + 60)
    assert [(k, e) for k, e, _ in evaluate(ledger, config)] == [(KIND_LOW, "resolved")]
    balance(ledger, "49.99", at=TODAY + 120)
    assert [(k, e) for k, e, _ in evaluate(ledger, config)] == [(KIND_LOW, "firing")]
    keys = [e.idempotency_key for e in AlertStore(ledger).entries()]
    assert len(set(keys)) == 3


def test_runway_is_the_balance_over_the_recent_daily_spend(ledger: Ledger) -> None:
    balance(ledger, "100")
    spent(ledger, 25)  # $25 a day: 4 days left
    assert [k for k, _, _ in evaluate(ledger, BalanceConfig("relay", runway_days=5))] == [KIND_RUNWAY]
    assert [e for _, e, _ in evaluate(ledger, BalanceConfig("relay", runway_days=3))] == ["resolved"]  # 4 > 3
    (summary,) = [e.payload["summary"] for e in AlertStore(ledger).entries() if e.event == "firing"]
    assert (
        summary
        == "relay (newapi): prepaid balance $100.00 runs out within 5 days (4.0 days at the recent daily spend)"
    )


def test_a_young_account_averages_over_the_days_it_has(ledger: Ledger) -> None:
    balance(ledger, "100")
    spent(ledger, 30, days=2)  # two days of $30: $30 a day, not $60 / 7
    store = AlertStore(ledger)
    (status,) = evaluate_balances(ledger, store, [], [], NOW)
    assert (status.daily_spend_pico, status.runway_days) == (30 * USD, Decimal("3.3"))


def test_no_spend_means_no_runway_alert(ledger: Ledger) -> None:
    balance(ledger, "1")
    assert evaluate(ledger, BalanceConfig("relay", runway_days=30)) == []


def test_an_account_without_a_balance_yet_is_left_alone(ledger: Ledger) -> None:
    assert evaluate(ledger, BalanceConfig("relay", below_usd=Decimal(50))) == []


def test_a_threshold_taken_out_of_the_config_resolves_its_alarm(ledger: Ledger) -> None:
    balance(ledger, "10")
    evaluate(ledger, BalanceConfig("relay", below_usd=Decimal(50)))
    assert [(k, e) for k, e, _ in evaluate(ledger, BalanceConfig("relay", below_usd=Decimal(5)))] == [
        (KIND_LOW, "resolved")
    ]


def test_an_older_balance_observation_does_not_replace_a_newer_one(ledger: Ledger) -> None:
    balance(ledger, "10", at=TODAY + 60)
    balance(ledger, "900", at=TODAY)
    (stored,) = ChannelStore(ledger).balances()
    assert stored.balance_pico == 10 * USD


@pytest.mark.parametrize(
    ("pico", "text"), [(1_234_567 * 10**9, "$1,234.57"), (-3 * USD, "-$3.00"), (0, "$0.00")]
)
def test_money_for_people_is_cents_with_thousands_separators(pico: int, text: str) -> None:
    assert money(pico) == text
