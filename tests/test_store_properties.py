"""Property: any sequence of overlapping pages, written in any order, leaves the ledger that writing
only the final observation of each bucket once leaves (usage rows and totals)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_store_support import HOUR, page_of, price, recomputed_totals, usage, usage_dump

from monitor.records import UsagePage, UsageRow
from monitor.store import Ledger

ENDPOINTS = ("completions", "embeddings")
STARTS = (0, HOUR, 2 * HOUR)
BUCKETS = tuple((e, s) for e in ENDPOINTS for s in STARTS)
PROJECTS = ("a", "b", "c")
MODELS = ("gpt-x", "mystery-model")

# What the provider says about one bucket at one moment: (project, model) -> (input, output) tokens.
bucket_states = st.dictionaries(
    st.tuples(st.sampled_from(PROJECTS), st.sampled_from(MODELS)),
    st.tuples(st.integers(0, 10**6), st.integers(0, 10**5)),
    max_size=4,
)


@dataclass(frozen=True)
class History:
    pages: list[UsagePage]
    final: dict[tuple[str, int], tuple[int, dict[tuple[str, str], tuple[int, int]]]]
    """bucket -> (observed_at of its newest observation, what that observation said)."""


def _rows(endpoint: str, start: int, state: dict[tuple[str, str], tuple[int, int]]) -> list[UsageRow]:
    return [
        usage(start, p, m, input=i, output=o, endpoint=endpoint) for (p, m), (i, o) in sorted(state.items())
    ]


@st.composite
def histories(draw: st.DrawFn) -> History:
    """Fetches at distinct times, each covering some buckets split over 1-3 pages per endpoint
    (a bucket's rows may straddle pages); the pages come back shuffled, some of them twice."""
    times = draw(st.lists(st.integers(1, 100), min_size=1, max_size=4, unique=True))
    pages: list[UsagePage] = []
    final: dict[tuple[str, int], tuple[int, dict[tuple[str, str], tuple[int, int]]]] = {}
    for t in times:
        covered = draw(st.lists(st.sampled_from(BUCKETS), min_size=1, unique=True))
        n_pages = draw(st.integers(1, 3))
        parts: dict[tuple[str, int], tuple[set[int], list[UsageRow]]] = {}
        for endpoint, start in covered:
            state = draw(bucket_states)
            if (endpoint, start) not in final or final[(endpoint, start)][0] < t:
                final[(endpoint, start)] = (t, state)
            rows = _rows(endpoint, start, state)
            homes = [draw(st.integers(0, n_pages - 1)) for _ in rows] or [draw(st.integers(0, n_pages - 1))]
            for home in set(homes):
                parts.setdefault((endpoint, home), (set(), []))[0].add(start)
            for home, row in zip(homes, rows, strict=False):
                parts[(endpoint, home)][1].append(row)
        for (endpoint, _), (starts, rows) in sorted(parts.items()):
            pages.append(page_of(rows, observed_at=t, buckets=sorted(starts), endpoint=endpoint))
    repeats = draw(st.lists(st.sampled_from(pages), max_size=3))
    return History(pages=draw(st.permutations(pages + repeats)), final=final)


def _write(ledger: Ledger, page: UsagePage) -> None:
    ledger.write_page(page, [price(r) for r in page.rows])


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Ledger, Ledger]]:
    """Two ledger files opened once (opening and closing a file costs more than an example)."""
    tmp = tmp_path_factory.mktemp("properties")
    with Ledger.open(tmp / "replayed.db") as replayed, Ledger.open(tmp / "final.db") as final:
        yield replayed, final


def _emptied(ledger: Ledger) -> Ledger:
    with ledger.transaction():
        for table in ("usage", "observations", "cursors", "totals"):
            ledger.db.execute(f"DELETE FROM {table}")
    return ledger


@settings(max_examples=100, deadline=None)
@given(history=histories())
def test_any_order_of_overlapping_pages_equals_writing_the_final_versions_once(
    ledgers: tuple[Ledger, Ledger], history: History
) -> None:
    replayed, final = (_emptied(ledger) for ledger in ledgers)
    for page in history.pages:
        _write(replayed, page)
    for (endpoint, start), (t, state) in history.final.items():
        _write(final, page_of(_rows(endpoint, start, state), t, [start], endpoint=endpoint))

    assert usage_dump(replayed) == usage_dump(final)
    assert replayed.totals() == final.totals()
    assert replayed.totals() == recomputed_totals(replayed)
