"""Per-account gauges of fixed size: channels' prepaid balances and credit limits (never dropped by the
series limit; the collector adds them after the ledger's families)."""

from __future__ import annotations

from decimal import Decimal

from prometheus_client.metrics_core import Metric

from monitor.metrics.self_metrics import family as _family
from monitor.metrics.snapshot import LedgerView

PICO = 12  # picodollars: money families are divided by 10**12 when rendered


def usd(pico: int) -> float:
    """Picodollars to a float USD value for the exposition, rounded once from the exact value."""
    return float(Decimal(pico).scaleb(-PICO))


def balance_metrics(ledger: LedgerView) -> list[Metric]:
    """Channels' prepaid balances and credit limits: few, never dropped by the series limit."""
    labels = ("provider", "account", "key")
    rows = sorted(ledger.balances, key=lambda b: (b.provider, b.account, b.key))
    balance = [((b.provider, b.account, b.key), usd(b.balance_pico)) for b in rows]
    limits = [((b.provider, b.account, b.key), usd(b.limit_pico)) for b in rows if b.limit_pico is not None]
    return [
        _family(
            "gauge",
            "llm_account_balance_usd",
            'Prepaid balance left, USD (key "": the account\'s).',
            labels,
            balance,
        ),
        _family(
            "gauge",
            "llm_account_credit_limit_usd",
            "Credit granted in all (the balance's limit), USD.",
            labels,
            limits,
        ),
    ]
