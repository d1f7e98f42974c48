"""Anomaly alerts: hourly spend spikes per account, and spend from an api key or model never seen before.

- spike: an account's spend in one of the last complete hours is above `spike_factor` times the
  mean of the same hour on each of the previous `spike_baseline_days` days (24 h apart; days before
  the account's data begins are left out) and above `spike_min_usd`. Keyed by the hour: fires once.
- new_api_key / new_model: a value that the `alert_seen` table does not hold. The first evaluation
  that finds usage in the ledger seeds the table silently (the initial backfill is not "new"), and
  later values whose first bucket ended before that moment (backfilled history) are added silently.

Both are one-off events: their payload carries `expires_at`, they never resolve or re-post.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from monitor.budgets import days
from monitor.budgets.payload import AlertChange, event_payload, usd
from monitor.budgets.spend import Combo, DailySpend
from monitor.config import AnomalyConfig
from monitor.directory import NO_NAMES, Names
from monitor.periods import to_unix
from monitor.records import usd_text, usd_to_pico
from monitor.store import Ledger
from monitor.store.alerts import ALARM, AlertKey, AlertStore

HOUR = 3600
SPIKE_HOURS = 3
"""The last complete hours checked each cycle (late data for an hour still fires, once)."""
EVENT_TTL = timedelta(hours=1)
SEEDED_AT = "anomalies.seeded_at"
_FIRST_SEEN = (("api_key", 4, "new_api_key", "API key"), ("model", 3, "new_model", "model"))


def _iso(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat()


class AnomalyDetector:
    """Finds spikes and first-seen keys/models; returns the alert changes for the engine to record."""

    def __init__(self, config: AnomalyConfig, tz: ZoneInfo) -> None:
        self.config = config
        self.tz = tz
        self._spike_checked: tuple[int, int] | None = None
        self.names: Names = NO_NAMES
        """The directory's names (set by the engine each cycle), for alert texts."""

    def changes(
        self, ledger: Ledger, store: AlertStore, daily: DailySpend, now: datetime
    ) -> list[AlertChange]:
        found = self._first_seen(ledger, store, daily, now)
        if self.config.spike_factor > 0 and self.config.spike_baseline_days > 0:
            found.extend(self._spikes(ledger, daily, now))
        return found

    # -- first seen --------------------------------------------------------------------------

    def _first_seen(
        self, ledger: Ledger, store: AlertStore, daily: DailySpend, now: datetime
    ) -> list[AlertChange]:
        now_s = to_unix(now)
        combos: Iterable[Combo] = daily.fingerprints.keys()
        seeded = store.meta(SEEDED_AT)
        if seeded is None:
            if not daily.fingerprints:
                return []
            for column, index, _, _ in _FIRST_SEEN:
                store.add_seen(column, {c[index] for c in combos if c[index]}, now_s)
            store.set_meta(SEEDED_AT, str(now_s))
            return []
        seeded_at = int(seeded)
        changes = []
        for column, index, kind, noun in _FIRST_SEEN:
            owners: dict[str, Combo] = {}
            for combo in combos:
                if combo[index]:
                    owners.setdefault(combo[index], combo)
            new = set(owners) - store.seen(column)
            if not new:
                continue
            ends = ledger.first_bucket_ends(column, sorted(new))
            store.add_seen(column, new, now_s)
            enabled = self.config.new_api_key if column == "api_key" else self.config.new_model
            for value in sorted(new):
                first_end = ends.get(value)
                if not enabled or first_end is None or first_end <= seeded_at:
                    continue
                provider, account = owners[value][0], owners[value][1]
                payload = event_payload(
                    kind=kind,
                    subject=account,
                    summary=f"New {noun} {self._named(column, account, value)} is spending on {account} ({provider})",
                    starts_at=now,
                    expires_at=now + EVENT_TTL,
                    labels={"provider": provider, "account": account, column: value},
                    first_bucket_end=_iso(first_end),
                )
                changes.append(AlertChange(AlertKey(account, 0, value, kind), ALARM, now_s + 86400, payload))
        return changes

    def _named(self, column: str, account: str, value: str) -> str:
        """ "laptop-alice (key_abc, owner alice@acme.example)" for a named key; the value otherwise."""
        if column != "api_key":
            return value
        name, owner = self.names.name(account, "api_key", value), self.names.owner(account, value)
        if not name:
            return value
        return f"{name} ({value}{f', owner {owner}' if owner else ''})"

    # -- spikes ------------------------------------------------------------------------------

    def _spikes(self, ledger: Ledger, daily: DailySpend, now: datetime) -> list[AlertChange]:
        current_hour = to_unix(now) // HOUR * HOUR
        checked = (current_hour, daily.generation)
        if checked == self._spike_checked:
            return []  # nothing changed since these hours were judged (transitions are recorded)
        self._spike_checked = checked
        n_days = self.config.spike_baseline_days
        spend = _hourly_spend(ledger, current_hour, n_days)
        first_full = self._first_full_day(daily)
        factor = Fraction(self.config.spike_factor)
        minimum = usd_to_pico(self.config.spike_min_usd)
        changes = []
        for hour in range(current_hour - SPIKE_HOURS * HOUR, current_hour, HOUR):
            for (provider, account), amount in sorted(spend.get(hour, {}).items()):
                if amount <= minimum:
                    continue
                start = first_full.get((provider, account))
                base_hours = [hour - d * 86400 for d in range(1, n_days + 1)]
                base = [
                    spend.get(h, {}).get((provider, account), 0)
                    for h in base_hours
                    if start is not None and h >= start
                ]
                if not base:
                    continue
                baseline = Fraction(sum(base), len(base))
                if amount <= factor * baseline:
                    continue
                changes.append(
                    self._spike(
                        provider=provider,
                        account=account,
                        hour=hour,
                        amount=amount,
                        baseline=baseline,
                        n_days=len(base),
                        now=now,
                    )
                )
        return changes

    def _spike(
        self,
        *,
        provider: str,
        account: str,
        hour: int,
        amount: int,
        baseline: Fraction,
        n_days: int,
        now: datetime,
    ) -> AlertChange:
        factor_text = format(Decimal(self.config.spike_factor).normalize(), "f") + "x"
        local_hour = datetime.fromtimestamp(hour, self.tz).isoformat()
        summary = (
            f"Spend spike on {account}: {usd_text(amount)} in the hour from {local_hour}, over {factor_text} "
            f"the {n_days}-day same-hour baseline of {usd_text(round(baseline))}"
        )
        payload: dict[str, Any] = event_payload(
            kind="spike",
            subject=account,
            summary=summary,
            starts_at=now,
            expires_at=now + EVENT_TTL,
            labels={"provider": provider, "account": account},
            spend_usd=usd(amount),
            baseline_usd=usd(round(baseline)),
            hour=local_hour,
        )
        payload["threshold"] = factor_text
        return AlertChange(AlertKey(account, hour, factor_text, "spike"), ALARM, hour + 2 * HOUR, payload)

    def _first_full_day(self, daily: DailySpend) -> Mapping[tuple[str, str], int]:
        """Per (provider, account): the start of the first whole local day after its data begins."""
        first: dict[tuple[str, str], int] = {}
        for combo, rows in daily.rows.items():
            index = next((i for i, n in enumerate(rows) if n), None)
            if index is None:
                continue
            owner = (combo[0], combo[1])
            first[owner] = min(first.get(owner, index), index)
        return {
            owner: days.day_start(days.from_epoch_day(daily.first_day + i + 1), self.tz)
            for owner, i in first.items()
        }


def _hourly_spend(ledger: Ledger, current_hour: int, n_days: int) -> dict[int, dict[tuple[str, str], int]]:
    """Spend per hour and (provider, account) in the last SPIKE_HOURS hours and the same hours n_days back."""
    ranges = [
        (current_hour - d * 86400 - SPIKE_HOURS * HOUR, current_hour - d * 86400) for d in range(n_days + 1)
    ]
    result: dict[int, dict[tuple[str, str], int]] = {}
    for hour, (provider, account), cost in ledger.spend_per_hour(ranges, ("provider", "account")):
        result.setdefault(hour, {})[(provider, account)] = cost
    return result
