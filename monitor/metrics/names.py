"""Names for ids as info metrics: `llm_project_info`, `llm_api_key_info` and `llm_user_info`.

The usage series keep ids as labels (stable series across renames); these gauges (value 1) carry the
names, and dashboards join them on (account, id) with `group_left`. Bounded by the directory, never
dropped by the series limit.
"""

from __future__ import annotations

from prometheus_client.metrics_core import Metric

from monitor.metrics.self_metrics import family
from monitor.metrics.series import OTHER
from monitor.metrics.snapshot import LedgerView, MetricsOptions

INFO_FAMILIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "project",
        "llm_project_info",
        "The name of a project (OpenAI) or workspace (Anthropic).",
        ("project_name",),
    ),
    (
        "api_key",
        "llm_api_key_info",
        "The name and owner of an API key (never its secret).",
        ("api_key_name", "owner"),
    ),
    ("user", "llm_user_info", "The email of a user.", ("user_email",)),
)
"""(kind, metric, help, name labels): info metrics with labels (account, <kind>, *name labels), value 1."""


def info_metrics(ledger: LedgerView, options: MetricsOptions) -> list[Metric]:
    """Names for ids, joined by dashboards with `group_left`: projects always, API keys with
    `include_api_key` and users with `include_user` (the usage series carry those labels only then)."""
    wanted = {"project": True, "api_key": options.include_api_key, "user": options.include_user}
    accounts = {r.account for r in ledger.names}
    metrics = []
    for kind, name, doc, extra in INFO_FAMILIES:
        if not wanted[kind]:
            continue
        # Detail folded by the series limit is named too, so a join keeps its spend.
        folded = [(a, OTHER, f"(other {kind.replace('_', ' ')}s)", "") for a in accounts]
        named = [(r.account, r.id, r.name, r.owner) for r in ledger.names if r.kind == kind]
        rows = sorted({(row if kind == "api_key" else row[:3], 1.0) for row in (*named, *folded)})
        metrics.append(family("gauge", name, doc, ("account", kind, *extra), rows))
    return metrics
