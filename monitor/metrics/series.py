"""Ledger series before rendering, and the series-limit policy that folds detail to fit a budget.

A `Family` maps label tuples to exact values (integers or Decimals), so folding a label adds
values exactly. `limit()` applies the documented deterministic policy (docs/metrics.md):

1. fold `user`, then `api_key`, then `project`, then `model`: rank the (provider, account, value) units of the
   dimension by cost (then tokens, then name) and keep the largest number of top units that fits;
   the rest become `OTHER`. A dimension is only touched while the series are still over the budget,
   and when no number fits, the fewest units giving the smallest count are folded;
2. if still over, truncate families in TRUNCATE_ORDER, keeping the series with the largest values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

OTHER = "__other__"
"""The label value of folded detail: everything outside the kept top values."""

FOLD_ORDER: tuple[str, ...] = ("user", "api_key", "project", "model")

TRUNCATE_ORDER: tuple[str, ...] = (
    "llm_price_observed_usd_per_million_tokens",
    "llm_price_usd_per_million_tokens",
    "llm_cache_savings_usd_total",
    "llm_unpriced_tokens_total",
    "llm_unpriced_tokens_now",
    "llm_cost_repriced_usd_total",
    "llm_tokens_total",
    "llm_requests_total",
    "llm_billed_cost_usd",
    "llm_claude_code_cost_usd",
    "llm_non_token_cost_usd_total",
    "llm_cost_usd_total",
    "llm_spend_usd",
)
"""Families truncated last-resort, first to last; series with the largest |value| survive longest."""

Key = tuple[str, ...]
Number = int | Decimal


@dataclass
class Family:
    """One metric family's series. `scale` is the power of ten the stored integers are divided by
    when rendered (12 for picodollars -> USD); `weight` marks the family ranking units ("cost"/"tokens")."""

    name: str
    kind: str
    doc: str
    labels: tuple[str, ...]
    scale: int = 0
    weight: str = ""
    values: dict[Key, Number] = field(default_factory=dict)
    foldable: bool = True
    """False for values that cannot be added together (rates): folding never touches the family."""

    def add(self, key: Key, value: Number) -> None:
        self.values[key] = self.values.get(key, 0) + value


def count(families: Iterable[Family]) -> int:
    return sum(len(f.values) for f in families)


def limit(families: Sequence[Family], budget: int, fold: Sequence[str] = FOLD_ORDER) -> list[str]:
    """Fold and truncate `families` in place until they hold at most `budget` series.

    Returns the steps taken, e.g. ["project: kept 12 of 80"], for the log.
    """
    steps: list[str] = []
    for dim in fold:
        if count(families) <= budget:
            return steps
        step = _fold(families, dim, budget)
        if step:
            steps.append(step)
    excess = count(families) - budget
    by_name = {f.name: f for f in families}
    for name in TRUNCATE_ORDER:
        family = by_name.get(name)
        if excess <= 0 or family is None or not family.values:
            continue
        keep = max(0, len(family.values) - excess)
        ranked = sorted(family.values.items(), key=lambda kv: (-abs(Decimal(kv[1])), kv[0]))
        excess -= len(family.values) - keep
        steps.append(f"{name}: kept {keep} of {len(family.values)}")
        family.values = dict(ranked[:keep])
    return steps


def _fold(families: Sequence[Family], dim: str, budget: int) -> str:
    """Fold the lowest-ranked units of `dim` into OTHER, as few as needed to fit `budget`."""
    members: dict[Key, list[tuple[int, Key]]] = defaultdict(list)
    weight: dict[Key, list[Number]] = defaultdict(lambda: [0, 0])
    positions: dict[int, tuple[int, int, int]] = {}
    for index, family in enumerate(families):
        if not family.foldable or dim not in family.labels or "account" not in family.labels:
            continue  # prices are per model but not per account: only truncation touches them
        p, a, d = (family.labels.index(n) for n in ("provider", "account", dim))
        positions[index] = (p, a, d)
        for key, value in family.values.items():
            unit: Key = (key[p], key[a], key[d])
            members[unit].append((index, key))
            if family.weight == "cost":
                weight[unit][0] += value
            elif family.weight == "tokens":
                weight[unit][1] += value
    if not members:
        return ""
    ranked = sorted(members, key=lambda u: (-weight[u][0], -weight[u][1], u))
    # Fold from the bottom of the ranking until the series fit; if they never fit, fold the
    # fewest units that reach the smallest count (folding that saves nothing is not done).
    total = count(families)
    best = (total, 0)
    folded_keys: set[tuple[int, Key]] = set()
    for n, unit in enumerate(reversed(ranked), start=1):
        total -= len(members[unit])
        for index, key in members[unit]:
            d = positions[index][2]
            new = (index, (*key[:d], OTHER, *key[d + 1 :]))
            if new not in folded_keys:
                folded_keys.add(new)
                total += 1
        if total < best[0]:
            best = (total, n)
        if total <= budget:
            break
    if best[1] == 0:
        return ""
    folded = set(ranked[len(ranked) - best[1] :])
    for index, (p, a, d) in positions.items():
        family = families[index]
        merged: dict[Key, Number] = {}
        for key, value in family.values.items():
            out = (*key[:d], OTHER, *key[d + 1 :]) if (key[p], key[a], key[d]) in folded else key
            merged[out] = merged.get(out, 0) + value
        family.values = merged
    return f"{dim}: kept {len(ranked) - len(folded)} of {len(ranked)}"
