"""The budget engine: each budget's spend, forecast and threshold states now, and the alert transitions.

One cycle (`BudgetEngine.evaluate`) runs in one ledger transaction: sync the shared daily spend
table (monitor.budgets.spend), sum it per budget scope, forecast, compare with the thresholds and
record every OK <-> ALARM change with its outbox rows (monitor.store.alerts). Time is a parameter.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from zoneinfo import ZoneInfo

from monitor.attribution import Attributor
from monitor.budgets import days
from monitor.budgets.aggregate import Aggregator
from monitor.budgets.anomalies import AnomalyDetector
from monitor.budgets.blind import BlindSpots
from monitor.budgets.claude_code import claude_code_sums, scope_matcher
from monitor.budgets.describe import scope_text
from monitor.budgets.forecast import DailySeries, Forecast, forecast
from monitor.budgets.grouping import grouped, without_superseded_forecasts
from monitor.budgets.payload import AlertChange, budget_payload, threshold_text
from monitor.budgets.scopes import scope_key
from monitor.budgets.spend import DailySpend
from monitor.budgets.status import BudgetStatus, at_or_over, utilization
from monitor.config import AnomalyConfig, BudgetConfig, BudgetScope
from monitor.config.model import AttributionRule
from monitor.directory import NO_NAMES, Names
from monitor.periods import period_bounds, to_unix
from monitor.records import usd_to_pico
from monitor.store import Ledger
from monitor.store.alerts import ALARM, OK, AlertKey, AlertStore, StoredState
from monitor.store.directory import read_names

log = logging.getLogger(__name__)

HISTORY_DAYS = 28
"""Complete days of history kept for forecasts (four weeks: the weekday-aware rate's look-back)."""
FORECAST_RESOLVE_RATIO = Decimal("0.9")
"""A forecast alarm resolves only once the projection is below 90% of its threshold (no flapping)."""
KINDS = ("actual", "forecast")


class BudgetEngine:
    """Evaluates the configured budgets (and anomaly rules) against a ledger, one cycle at a time.

    Keeps the shared daily spend table between cycles, so a long-lived engine (the daemon's)
    reads only the recent days of the ledger each cycle.
    """

    def __init__(
        self,
        budgets: Sequence[BudgetConfig],
        channels: Sequence[str],
        tz: ZoneInfo,
        *,
        month_start_day: int = 1,
        week_start: int = 0,
        anomalies: AnomalyConfig | None = None,
        per_rung_channels: Sequence[str] = (),
        attribution: Sequence[AttributionRule] = (),
    ) -> None:
        """`channels` are notified of alert changes; those also in `per_rung_channels` (Alertmanager)
        get each rung of a budget on its own, the others one notification per budget and
        evaluation (monitor.budgets.grouping)."""
        self.budgets = tuple(budgets)
        self.channels = tuple(channels)
        self.per_rung_channels = tuple(per_rung_channels)
        self.tz = tz
        self.month_start_day = month_start_day
        self.week_start = week_start
        self.limits = {b.name: usd_to_pico(b.amount_usd) for b in self.budgets}
        self.daily = DailySpend(tz)
        self.attributor = Attributor(attribution)
        self.aggregator = Aggregator(self.daily, self._attribute)
        self.blind = BlindSpots(self._attribute)
        self.anomalies = AnomalyDetector(anomalies, tz) if anomalies is not None else None
        self.claude_code = [scope_matcher(b.scope, self.attributor) for b in self.budgets]
        """Per budget: which Claude Code rows it counts (None: none; see budgets.claude_code)."""
        self.names: Names = NO_NAMES
        """The directory's names as of the last cycle, for alert texts."""

    def evaluate(self, ledger: Ledger, alert_store: AlertStore, now: datetime) -> list[BudgetStatus]:
        """Compute every budget's status and record the alert transitions (with outbox rows) in one transaction."""
        now_s = to_unix(now)
        self.names = read_names(ledger)
        if self.anomalies is not None:
            self.anomalies.names = self.names
        with alert_store.transaction():
            statuses = self._compute(ledger, now)
            stored = alert_store.states(current_at=now_s)
            changes = without_superseded_forecasts(self._threshold_changes(statuses, stored, now), stored)
            if self.anomalies is not None:
                changes.extend(self.anomalies.changes(ledger, alert_store, self.daily, now))
            queued = moved = 0
            for change, channels in grouped(changes, self.channels, self.per_rung_channels):
                # Spike and new-key detectors re-propose their current state each poll: only a
                # change of the stored state is a transition worth a log line.
                was = stored.get(change.key)
                moved += (was.state if was is not None else OK) != change.state
                queued += alert_store.transition(
                    change.key,
                    change.state,
                    period_end=change.period_end,
                    now=now_s,
                    payload=change.payload,
                    channels=channels,
                )
            if moved:
                log.info("budgets: %d alert transition(s), %d notification(s) queued", moved, queued)
                stored = alert_store.states(current_at=now_s)
        return self._with_states(statuses, stored)

    def statuses(self, ledger: Ledger, alert_store: AlertStore, now: datetime) -> list[BudgetStatus]:
        """Every budget's status with its stored alert states, recording nothing (the CLI's view)."""
        statuses = self._compute(ledger, now)
        stored = alert_store.states(current_at=to_unix(now))
        return self._with_states(statuses, stored)

    # -- computing ----------------------------------------------------------------------------

    def _compute(self, ledger: Ledger, now: datetime) -> list[BudgetStatus]:
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        today_date = now.astimezone(self.tz).date()
        today = days.epoch_day(today_date)
        bounds = [
            period_bounds(
                b.period, now, self.tz, month_start_day=self.month_start_day, week_start=self.week_start
            )
            for b in self.budgets
        ]
        month, _ = period_bounds("month", now, self.tz, month_start_day=self.month_start_day)
        # The window holds every budget's period, the forecasts' history and this month (which the
        # refresh's day and month spend gauges and status page read from the table too).
        first_day = min(
            [
                today - HISTORY_DAYS,
                days.epoch_day(month.date()),
                *(days.epoch_day(s.date()) for s, _ in bounds),
            ]
        )
        self.daily.sync(ledger, first_day, today, source=str(ledger.path))
        first_data = ledger.first_bucket_start()
        history_from = today if first_data is None else days.epoch_day(days.local_date(first_data, self.tz))
        history_from = max(history_from, today - HISTORY_DAYS, first_day)
        ranges = [(days.epoch_day(s.date()), days.epoch_day(e.date())) for s, e in bounds]
        keys = [scope_key(b.scope) for b in self.budgets]
        sums = self.aggregator.run(keys, ranges, history_from=history_from, today=today)
        if any(self.claude_code):
            code = claude_code_sums(
                ledger, self.claude_code, ranges, history_from=history_from, today=today, tz=self.tz
            )
            sums = [
                (spend + more, [a + b for a, b in zip(history, more_history, strict=True)], now_ + more_now)
                for (spend, history, now_), (more, more_history, more_now) in zip(sums, code, strict=True)
            ]
        extras = self.blind.run(ledger, self.daily, keys, ranges, history_from=history_from, today=today)
        start_of_today = days.day_start(today_date, self.tz)
        day_length = days.day_start(today_date + timedelta(days=1), self.tz) - start_of_today
        elapsed = Fraction(min(max(to_unix(now) - start_of_today, 0), day_length), day_length)
        statuses = []
        for budget, (start, end), (computed, past, today_computed), extra in zip(
            self.budgets, bounds, sums, extras, strict=True
        ):  # spend the bills show above the computed cost counts like any (budgets/blind.py)
            spend, today_spend = computed + extra.excess_period, today_computed + extra.excess_today
            history = tuple(a + b for a, b in zip(past, extra.excess_history, strict=True))
            limit = self.limits[budget.name]
            series = DailySeries(history, today_spend, today_date.weekday(), elapsed)
            projection: Forecast = forecast(
                series,
                spend_pico=spend,
                limit_pico=limit,
                today=today_date,
                period_end_day=end.date(),
                tz=self.tz,
            )
            statuses.append(
                BudgetStatus(
                    name=budget.name,
                    period=budget.period,
                    period_start=start,
                    period_end=end,
                    limit_pico=limit,
                    spend_pico=spend,
                    utilization=utilization(spend, limit),
                    forecast_pico=projection.projected_pico,
                    runout_at=projection.runout_at,
                    daily_rate_pico=projection.daily_rate_pico,
                    forecast_method=projection.method,
                    billed_excess_pico=extra.excess_period,
                    unpriced_tokens=extra.unpriced_tokens,
                    unpriced_models=extra.unpriced_models,
                )
            )
        return statuses

    def _threshold_changes(
        self, statuses: Sequence[BudgetStatus], stored: Mapping[AlertKey, StoredState], now: datetime
    ) -> list[AlertChange]:
        changes = []
        for budget, status in zip(self.budgets, statuses, strict=True):
            for kind, thresholds, value in (
                ("actual", budget.thresholds, status.spend_pico),
                ("forecast", budget.forecast_thresholds, status.forecast_pico),
            ):
                for threshold in thresholds:
                    key = AlertKey(budget.name, to_unix(status.period_start), threshold_text(threshold), kind)
                    previous = stored.get(key)
                    was = previous.state if previous is not None else OK
                    if was == OK and at_or_over(value, status.limit_pico, threshold):
                        changes.append(self._change(key, ALARM, status, threshold, starts_at=now, now=now))
                    elif was == ALARM:
                        level = threshold * FORECAST_RESOLVE_RATIO if kind == "forecast" else threshold
                        if not at_or_over(value, status.limit_pico, level):
                            assert previous is not None
                            began = datetime.fromtimestamp(previous.changed_at, UTC)
                            changes.append(self._change(key, OK, status, threshold, starts_at=began, now=now))
        return changes

    def _change(
        self,
        key: AlertKey,
        state: str,
        status: BudgetStatus,
        threshold: Decimal,
        *,
        starts_at: datetime,
        now: datetime,
    ) -> AlertChange:
        payload = budget_payload(
            budget=status.name,
            kind=key.kind,
            threshold=threshold,
            period=status.period,
            period_start=status.period_start,
            period_end=status.period_end,
            spend_pico=status.spend_pico,
            limit_pico=status.limit_pico,
            forecast_pico=status.forecast_pico,
            utilization=status.utilization,
            starts_at=starts_at,
            ends_at=now if state == OK else None,
            scope=self._scope_text(key.budget),
            billed_excess_pico=status.billed_excess_pico,
            unpriced_tokens=status.unpriced_tokens,
            unpriced_models=status.unpriced_models,
        )
        return AlertChange(key, state, to_unix(status.period_end), payload)

    def _attribute(self, combo: tuple[str, ...]) -> tuple[str, str]:
        found = self.attributor.of(combo)
        return found.team, found.cost_center

    def _scope_text(self, budget: str) -> str:
        """What a scoped budget counts, with names ("" for a budget of all usage: nothing to add)."""
        scope = next((b.scope for b in self.budgets if b.name == budget), None)
        return "" if scope is None or scope == BudgetScope() else scope_text(scope, self.names)

    def _with_states(
        self, statuses: Sequence[BudgetStatus], stored: Mapping[AlertKey, StoredState]
    ) -> list[BudgetStatus]:
        result = []
        for budget, status in zip(self.budgets, statuses, strict=True):
            start = to_unix(status.period_start)
            states: dict[tuple[Decimal, str], str] = {}
            for kind, thresholds in (("actual", budget.thresholds), ("forecast", budget.forecast_thresholds)):
                for threshold in thresholds:
                    found = stored.get(AlertKey(status.name, start, threshold_text(threshold), kind))
                    states[(threshold, kind)] = found.state if found is not None else OK
            result.append(replace(status, states=MappingProxyType(states)))
        return result
