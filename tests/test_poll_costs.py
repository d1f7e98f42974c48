"""AccountPoller.poll_costs on a real ledger file: the billed cost pages are written as they arrive (a
fetch never holds all of its lines), each day replaced whole, and the covered days no line came for
emptied once the fetch ended. The OpenAI adapter answers through httpx.MockTransport."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.poller import AccountPoller
from monitor.pricing import Pricer, PriceTable
from monitor.providers.openai import OpenAIProvider
from monitor.records import BilledCost
from monitor.store import Ledger
from monitor.store.billed import BilledStore

DAY = 86400
D1 = 1795132800  # 2026-11-20T00:00:00Z
D2, D3 = D1 + DAY, D1 + 2 * DAY
NOW = D3 + 3600  # the fetch covers D1, D2 and the open day D3
ITEM = "gpt-4.1-2025-04-14, input"
EARLIER = (NOW - 900) * 1000


def cost_bucket(day: int, dollars: str) -> dict[str, Any]:
    result = {
        "object": "organization.costs.result",
        "amount": {"value": float(dollars), "currency": "usd"},
        "line_item": ITEM,
        "project_id": "proj_a",
    }
    return {"object": "bucket", "start_time": day, "end_time": day + DAY, "results": [result]}


def answers(*pages: list[dict[str, Any]] | None) -> httpx.MockTransport:
    """The cost pages in order, chained by cursors; a None page answers 400 (not retried)."""

    def handler(request: httpx.Request) -> httpx.Response:
        index = int(request.url.params.get("page", "c0")[1:])
        data = pages[index]
        if data is None:
            return httpx.Response(400, json={"error": {"message": "bad request"}})
        more = index + 1 < len(pages)
        body = {
            "object": "page",
            "data": data,
            "has_more": more,
            "next_page": f"c{index + 1}" if more else None,
        }
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handler)


def poller(transport: httpx.MockTransport) -> AccountPoller:
    adapter = OpenAIProvider(
        account="openai-prod",
        api_key="sk-admin-test",
        base_url="https://api.openai.test/v1",
        endpoints=("completions",),
        max_attempts=1,
        sleep=lambda _s: None,
        transport=transport,
    )
    return AccountPoller(adapter, Pricer(PriceTable.bundled()), revision_window=0, initial_start=lambda n: n)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "spend.db") as opened:
        BilledStore(opened).write_billed(
            "openai-prod",
            [BilledCost("openai", "openai-prod", day, "proj_a", ITEM, 1_000_000_000_000) for day in (D1, D2)],
            observed_at=EARLIER,
            days=[D1, D2],
        )
        yield opened


def stored(ledger: Ledger) -> dict[int, tuple[int, int]]:
    """day -> (picodollars, observed at) of the stored lines."""
    store = BilledStore(ledger)
    observed = store.observed_days(D1, D3 + DAY)
    return {
        c.day_start: (c.amount_pico, observed[("openai-prod", c.day_start)])
        for c in store.lines(D1, D3 + DAY)
    }


def test_each_page_of_costs_replaces_its_days_as_it_arrives(ledger: Ledger) -> None:
    outcome = poller(answers([cost_bucket(D1, "2.5")], [cost_bucket(D2, "3")])).poll_costs(ledger, NOW, D1)
    assert (outcome.ok, outcome.rows, outcome.cost_pico) == (True, 2, 5_500_000_000_000)
    assert stored(ledger) == {D1: (2_500_000_000_000, NOW * 1000), D2: (3_000_000_000_000, NOW * 1000)}


def test_a_fetch_that_fails_keeps_the_days_written_before_and_leaves_the_rest_as_stored(
    ledger: Ledger,
) -> None:
    outcome = poller(answers([cost_bucket(D1, "2.5")], None)).poll_costs(ledger, NOW, D1)
    assert (outcome.ok, outcome.reason) == (False, "client_error")
    assert stored(ledger) == {D1: (2_500_000_000_000, NOW * 1000), D2: (1_000_000_000_000, EARLIER)}
    assert BilledStore(ledger).observed_days(D3, D3 + DAY) == {}  # not emptied: the fetch did not end


def test_a_covered_day_no_line_came_for_is_emptied_once_the_fetch_ended(ledger: Ledger) -> None:
    outcome = poller(answers([cost_bucket(D2, "3")], [])).poll_costs(ledger, NOW, D1)
    assert (outcome.ok, outcome.rows) == (True, 1)
    assert stored(ledger) == {D2: (3_000_000_000_000, NOW * 1000)}
    assert BilledStore(ledger).observed_days(D1, D3 + DAY) == {
        ("openai-prod", day): NOW * 1000 for day in (D1, D2, D3)
    }
