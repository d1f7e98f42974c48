"""Pruning the alert outbox: rows that left it (delivered or failed for good) are kept for a retention
period, for reports and for investigating a delivery, and then deleted, so the ledger file does not
grow by every notification ever sent.

One row is kept whatever its age: the newest row of each alert on each channel while the alert is
in ALARM, because the outbox worker re-posts that row to Alertmanager for as long as the alarm lasts
(a yearly budget's alarm may last months).
"""

from __future__ import annotations

from monitor.store.alerts import ALARM
from monitor.store.base import LedgerLike

_PRUNE = """
DELETE FROM alert_outbox
WHERE COALESCE(delivered_at, failed_at) < ?
  AND id NOT IN (
    SELECT MAX(o.id) FROM alert_outbox AS o
    JOIN alert_state AS s USING (budget, period_start, threshold, kind)
    WHERE s.state = ?
    GROUP BY o.budget, o.period_start, o.threshold, o.kind, o.channel
  )
"""


def prune_outbox(ledger: LedgerLike, before: int) -> int:
    """Delete outbox rows delivered or failed before `before` (unix seconds); returns how many."""
    with ledger.transaction():
        return int(ledger.db.execute(_PRUNE, [before, ALARM]).rowcount)
