"""Billed costs end to end: the simulator's cost APIs over loopback HTTP, the real adapters, the store.

OpenAI's costs are JSON numbers in dollars and Anthropic's cost report decimal strings in cents: a
100x slip in either would make the stored amounts differ from the simulator's bill and from the
ledger's own computed cost, which both checks below compare to the picodollar.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_drift_support import ANTHROPIC, NOW, OPENAI, START, TODAY, populated_ledger, simulator

from monitor.store import Ledger
from monitor.store.billed import BilledStore

DAY = 86400


@pytest.mark.parametrize(("provider", "account"), [("openai", OPENAI), ("anthropic", ANTHROPIC)])
def test_stored_billed_cost_per_day_equals_the_providers_bill(
    tmp_path: Path, provider: str, account: str
) -> None:
    bill = simulator().billed(provider, START, NOW)
    with Ledger.open(populated_ledger(tmp_path)) as ledger:
        stored = BilledStore(ledger).billed_by(("account", "day_start"), START, NOW)
    by_day = {r["day_start"]: r["amount_pico"] for r in stored if r["account"] == account}
    assert bill.total_pico > 0
    assert by_day == dict(bill.by_day)


@pytest.mark.parametrize("account", [OPENAI, ANTHROPIC])
def test_stored_billed_cost_equals_the_computed_cost_of_each_complete_day(
    tmp_path: Path, account: str
) -> None:
    with Ledger.open(populated_ledger(tmp_path)) as ledger:
        billed = BilledStore(ledger)
        for day in range(START, TODAY, DAY):
            [computed] = [
                r["cost_total"]
                for r in ledger.spend_by(("account",), day, day + DAY)
                if r["account"] == account
            ]
            [amount] = [
                r["amount_pico"]
                for r in billed.billed_by(("account",), day, day + DAY)
                if r["account"] == account
            ]
            assert computed > 10**12  # more than a dollar a day, so a 100x slip cannot hide in rounding
            assert amount == computed


def test_anthropic_lines_keep_model_token_type_tier_and_context(tmp_path: Path) -> None:
    with Ledger.open(populated_ledger(tmp_path)) as ledger:
        lines = [c for c in BilledStore(ledger).lines(START, NOW) if c.account == ANTHROPIC]
    token_lines = [c for c in lines if c.token_type and c.token_type != "web_search_requests"]
    assert token_lines
    searches = [c for c in lines if c.token_type == "web_search_requests"]
    assert searches and all(c.model.startswith("claude-") and not c.context_window for c in searches)
    assert all(c.model.startswith("claude-") for c in token_lines)
    assert {c.token_type for c in token_lines} <= {
        "input",
        "output",
        "cached_input",
        "cache_write",
        "cache_write_1h",
    }
    assert {c.context_window for c in token_lines} <= {"0-200k", "200k-1M"}
