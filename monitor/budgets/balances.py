"""Alerts on channels' prepaid balances (config `balances`): below an amount, or running out within a
number of days at the recent daily spend.

Each (account, kind, threshold) is an `AlertStore` state machine in the same durable outbox as budget
alerts (budget = the account, period_start 0, kind `balance_low` or `balance_runway`): it fires once
when the balance crosses, stays in ALARM while it stays there (across restarts and SIGKILLs, since the
state is in the ledger file), resolves when a top-up lifts it, and fires again at the next crossing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from monitor.config import BalanceConfig
from monitor.periods import to_unix
from monitor.records import Balance, pico_to_usd, usd_to_pico
from monitor.store import Ledger, Scope
from monitor.store.alerts import ALARM, OK, AlertKey, AlertStore
from monitor.store.billed import DAY, BilledStore
from monitor.store.channels import ChannelStore

KIND_LOW = "balance_low"
KIND_RUNWAY = "balance_runway"
KINDS = (KIND_LOW, KIND_RUNWAY)
SPEND_DAYS = 7
"""Complete UTC days whose average daily spend forecasts the runway."""
UTC_ZONE = ZoneInfo("UTC")
NEVER = 2**62
"""`period_end` of a balance alert: it belongs to no period."""


@dataclass(frozen=True, slots=True)
class BalanceStatus:
    """An account's balance now, the daily spend it is forecast with, and its alerts' states.

    `runway_days` is None when nothing was spent (the balance does not run out at this rate).
    `states` holds (kind, threshold, "OK" | "ALARM").
    """

    balance: Balance
    daily_spend_pico: int
    runway_days: Decimal | None
    states: tuple[tuple[str, str, str], ...] = ()


def money(pico: int) -> str:
    """Dollars for people: cents with thousands separators ("$1,234.57", "-$3.00")."""
    cents = pico_to_usd(pico).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return f"-${-cents:,}" if cents < 0 else f"${cents:,}"


def daily_spend(ledger: Ledger, account: str, today: int) -> int:
    """Average daily spend of the last `SPEND_DAYS` complete UTC days (fewer when the account is younger):
    the channel's bill, or the computed cost where no bill is stored. Picodollars, rounded down."""
    start = today - SPEND_DAYS * DAY
    billed = [
        r
        for r in BilledStore(ledger).billed_by(["day_start"], start, today, accounts=[account])
        if r["amount_pico"]
    ]
    if billed:
        first, total = min(int(r["day_start"]) for r in billed), sum(int(r["amount_pico"]) for r in billed)
    else:
        rows = ledger.spend_by(["day"], start, today, Scope(account=(account,)), tz=UTC_ZONE)
        spent = [r for r in rows if int(r["cost_total"])]
        if not spent:
            return 0
        first, total = min(_day_start(r) for r in spent), sum(int(r["cost_total"]) for r in spent)
    return total // max(1, (today - first) // DAY)


def _day_start(row: dict[str, Any]) -> int:
    return to_unix(datetime.fromisoformat(f"{row['day']}T00:00:00+00:00"))


def runway(balance_pico: int, per_day_pico: int) -> Decimal | None:
    """Days the balance lasts at `per_day_pico` a day; None when nothing is spent."""
    if per_day_pico <= 0:
        return None
    return (Decimal(max(balance_pico, 0)) / Decimal(per_day_pico)).quantize(Decimal("0.1"))


def _days_text(days: Decimal | None) -> str:
    return "no recent spend" if days is None else f"{days} days at the recent daily spend"


def _payload(
    kind: str, threshold: str, status: BalanceStatus, firing: bool, now: datetime, *, dropped: bool = False
) -> dict[str, Any]:
    b = status.balance
    left = money(b.balance_pico)
    if dropped:
        what = "is no longer watched for this threshold (it left the config)"
    elif kind == KIND_LOW:
        what = (
            f"is below {money(usd_to_pico(threshold))}"
            if firing
            else f"is back above {money(usd_to_pico(threshold))}"
        )
    else:
        what = f"runs out within {threshold} days" if firing else f"lasts more than {threshold} days again"
    summary = f"{b.account} ({b.provider}): prepaid balance {left} {what} ({_days_text(status.runway_days)})"
    return {
        "alertname": "LLMBalanceLow" if kind == KIND_LOW else "LLMBalanceRunway",
        "budget": b.account,
        "kind": kind,
        "threshold": threshold,
        "severity": "critical" if firing and b.balance_pico <= 0 else "warning",
        "summary": summary,
        "labels": {"provider": b.provider, "account": b.account},
        "provider": b.provider,
        "account": b.account,
        "balance_usd": format(pico_to_usd(b.balance_pico).normalize(), "f"),
        "daily_spend_usd": format(pico_to_usd(status.daily_spend_pico).normalize(), "f"),
        "runway_days": None if status.runway_days is None else str(status.runway_days),
        "starts_at": now.isoformat(),
        "ends_at": None if firing else now.isoformat(),
    }


def _checks(config: BalanceConfig) -> list[tuple[str, str]]:
    checks = []
    if config.below_usd is not None:
        checks.append((KIND_LOW, format(config.below_usd.normalize(), "f")))
    if config.runway_days is not None:
        checks.append((KIND_RUNWAY, str(config.runway_days)))
    return checks


def _alarm(kind: str, threshold: str, status: BalanceStatus) -> bool:
    if kind == KIND_LOW:
        return status.balance.balance_pico < usd_to_pico(threshold)
    return status.runway_days is not None and status.runway_days < Decimal(threshold)


def evaluate_balances(
    ledger: Ledger,
    alert_store: AlertStore,
    channels: Iterable[str],
    configs: Sequence[BalanceConfig],
    now: datetime,
) -> list[BalanceStatus]:
    """Every stored account balance (key "") with its runway, and the configured alerts moved: each
    transition and its outbox rows in one transaction. An account without a stored balance yet is left
    alone; an alarm whose threshold is no longer configured is resolved."""
    names = list(channels)
    now_s = to_unix(now)
    today = now_s - now_s % DAY
    by_account = {b.account: b for b in ChannelStore(ledger).balances() if b.key == ""}
    statuses: dict[str, BalanceStatus] = {}
    for account, balance in by_account.items():
        spend = daily_spend(ledger, account, today)
        statuses[account] = BalanceStatus(balance, spend, runway(balance.balance_pico, spend))
    wanted: set[AlertKey] = set()
    with alert_store.transaction():
        for config in configs:
            status = statuses.get(config.account)
            if status is None:
                continue
            states = []
            for kind, threshold in _checks(config):
                key = AlertKey(config.account, 0, threshold, kind)
                wanted.add(key)
                firing = _alarm(kind, threshold, status)
                state = ALARM if firing else OK
                alert_store.transition(
                    key,
                    state,
                    period_end=NEVER,
                    now=now_s,
                    payload=_payload(kind, threshold, status, firing, now),
                    channels=names,
                )
                states.append((kind, threshold, state))
            statuses[config.account] = BalanceStatus(
                status.balance, status.daily_spend_pico, status.runway_days, tuple(states)
            )
        for key, stored in alert_store.states(current_at=now_s).items():
            if key.kind in KINDS and stored.state == ALARM and key not in wanted and key.budget in statuses:
                payload = _payload(key.kind, key.threshold, statuses[key.budget], False, now, dropped=True)
                alert_store.transition(key, OK, period_end=NEVER, now=now_s, payload=payload, channels=names)
    return list(statuses.values())
