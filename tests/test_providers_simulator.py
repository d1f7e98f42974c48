"""Both adapters against the provider simulator over real loopback HTTP: days of usage summed from
the fetched rows equal the simulator's ground truth to the token, billed costs equal its bills to the
picodollar, and faults injected in the middle of pagination are retried without changing a number."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from monitor.errors import ProviderAuthError
from monitor.providers.anthropic import AnthropicProvider
from monitor.providers.openai import OpenAIProvider
from monitor.providers.openai_usage import ENDPOINTS
from monitor.records import TOKEN_TYPES, BilledCost, UsagePage
from monitor.simulator import FAULTS, Simulator

DAY = 86400
NOW = 1795132800 + 10 * DAY + 5 * 3600 + 1234  # 2026-11-30T05:20:34Z, inside an open hour
START = NOW // DAY * DAY - 8 * DAY  # eight days and a bit of hourly buckets: two pages of 168
OPENAI_KEY = "sk-admin-simulated-openai-0123456789"
ANTHROPIC_KEY = "sk-ant-admin01-simulated-anthropic-0123456789"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    simulator = Simulator(
        seed=11, clock=lambda: NOW, openai_key=OPENAI_KEY, anthropic_key=ANTHROPIC_KEY, extra_token_types=True
    )
    simulator.timeout_hold = 1.0
    with simulator:
        yield simulator


OPEN: list[OpenAIProvider | AnthropicProvider] = []


@pytest.fixture(autouse=True)
def fresh(sim: Simulator) -> Iterator[None]:
    """A clean fault queue and request log; every provider a test opened is closed after it."""
    sim.clear_faults()
    sim.reset_log()
    yield
    while OPEN:
        OPEN.pop().close()


def openai(sim: Simulator, waits: list[float] | None = None, **kwargs: Any) -> OpenAIProvider:
    sleep = waits.append if waits is not None else (lambda _s: None)
    provider = OpenAIProvider(
        account="openai-sim",
        api_key=OPENAI_KEY,
        base_url=sim.openai_base_url,
        bucket_width="1h",
        sleep=sleep,
        timeout=kwargs.pop("timeout", 5.0),
        **kwargs,
    )
    OPEN.append(provider)
    return provider


def anthropic(sim: Simulator, waits: list[float] | None = None, **kwargs: Any) -> AnthropicProvider:
    sleep = waits.append if waits is not None else (lambda _s: None)
    provider = AnthropicProvider(
        account="anthropic-sim",
        api_key=kwargs.pop("api_key", ANTHROPIC_KEY),
        base_url=sim.anthropic_base_url,
        bucket_width="1h",
        sleep=sleep,
        timeout=kwargs.pop("timeout", 5.0),
        **kwargs,
    )
    OPEN.append(provider)
    return provider


def totals(pages: list[UsagePage]) -> tuple[dict[str, int], int, dict[str, int]]:
    """Tokens by type, requests and units summed over every row of every page."""
    tokens: Counter[str] = Counter(dict.fromkeys(TOKEN_TYPES, 0))
    units: Counter[str] = Counter()
    requests = 0
    for page in pages:
        for row in page.rows:
            tokens.update(dict(zip(TOKEN_TYPES, row.tokens, strict=True)))
            units.update(dict(row.units))
            requests += row.requests
    return dict(tokens), requests, dict(units)


def usage(provider: OpenAIProvider | AnthropicProvider, endpoint: str) -> list[UsagePage]:
    return list(provider.fetch_usage(endpoint, START, NOW, observed_at=NOW * 1000, now=NOW))


def costs(provider: OpenAIProvider | AnthropicProvider) -> list[BilledCost]:
    return [line for page in provider.fetch_costs(START, NOW, now=NOW) for line in page]


@pytest.mark.parametrize("endpoint", ["completions", "embeddings"])
def test_openai_usage_equals_the_ground_truth(sim: Simulator, endpoint: str) -> None:
    provider = openai(sim)
    pages = usage(provider, endpoint)
    truth = sim.ground_truth("openai", START, NOW, endpoint=endpoint)
    tokens, requests, _ = totals(pages)
    assert provider.stats.requests == 2  # two pages, handed on in parts of whole buckets
    assert truth.total.total_tokens > 0
    assert tokens == dict(truth.tokens)
    assert requests == truth.requests


def test_every_openai_usage_endpoint_is_accepted_by_the_simulated_api(sim: Simulator) -> None:
    provider = openai(sim)
    for endpoint in ENDPOINTS:
        pages = usage(provider, endpoint)
        assert sum(len(p.buckets) for p in pages) == (NOW - START) // 3600 + 1
    assert {r.status for r in sim.requests_log} == {200}
    assert all("group_by[]" in r.query for r in sim.requests_log)


def test_anthropic_usage_equals_the_ground_truth(sim: Simulator) -> None:
    provider = anthropic(sim)
    pages = usage(provider, "messages")
    truth = sim.ground_truth("anthropic", START, NOW)
    tokens, requests, units = totals(pages)
    assert provider.stats.requests == 2  # two pages, handed on in parts of whole buckets
    assert truth.total.total_tokens > 0
    assert tokens == dict(truth.tokens)
    assert units == dict(truth.total.units)
    assert requests == 0


def test_pages_cover_every_hour_once_and_close_up_to_the_last_full_hour(sim: Simulator) -> None:
    pages = usage(openai(sim), "completions")
    buckets = [b for page in pages for b in page.buckets]
    assert buckets == list(range(START, NOW // 3600 * 3600 + 1, 3600))
    assert pages[-1].closed_until == NOW // 3600 * 3600


def test_openai_costs_equal_the_billed_picodollars(sim: Simulator) -> None:
    lines = costs(openai(sim))
    bill = sim.billed("openai", START, NOW)
    by_project: Counter[str] = Counter()
    for line in lines:
        by_project[line.project] += line.amount_pico
    assert bill.total_pico > 0
    assert sum(line.amount_pico for line in lines) == bill.total_pico
    assert dict(by_project) == dict(bill.by_project)


def test_anthropic_costs_in_cents_equal_the_billed_picodollars(sim: Simulator) -> None:
    lines = costs(anthropic(sim))
    bill = sim.billed("anthropic", START, NOW)
    by_item: Counter[str] = Counter()
    for line in lines:
        by_item[line.line_item] += line.amount_pico
    assert bill.total_pico > 0
    assert sum(line.amount_pico for line in lines) == bill.total_pico
    assert dict(by_item) == dict(bill.by_line_item)


RETRIED = ["429", "429-no-retry-after", "500", "502", "503", "reset", "truncated", "timeout"]


@pytest.mark.parametrize("fault", RETRIED)
def test_openai_faults_mid_pagination_are_retried_and_the_totals_stay_exact(
    sim: Simulator, fault: str
) -> None:
    waits: list[float] = []
    provider = openai(sim, waits, timeout=0.3 if fault == "timeout" else 5.0)
    pages = provider.fetch_usage("completions", START, NOW, observed_at=1, now=NOW)
    fetched = [next(pages)]
    sim.inject(fault, path="*/usage/completions", count=2)
    fetched.extend(pages)
    tokens, requests, _ = totals(fetched)
    truth = sim.ground_truth("openai", START, NOW, endpoint="completions")
    assert (tokens, requests) == (dict(truth.tokens), truth.requests)
    faulted = [r for r in sim.requests_log if r.fault == fault]
    assert len(faulted) == 2
    assert all("page" in r.query for r in faulted)
    assert provider.stats.retries == 2
    assert len(waits) == 2


@pytest.mark.parametrize("fault", ["503", "truncated"])
def test_anthropic_faults_mid_pagination_are_retried_and_the_totals_stay_exact(
    sim: Simulator, fault: str
) -> None:
    provider = anthropic(sim)
    pages = provider.fetch_usage("messages", START, NOW, observed_at=1, now=NOW)
    fetched = [next(pages)]
    sim.inject(fault, path="*/usage_report/messages", count=2)
    fetched.extend(pages)
    tokens, _, units = totals(fetched)
    truth = sim.ground_truth("anthropic", START, NOW)
    assert (tokens, units) == (dict(truth.tokens), dict(truth.total.units))
    assert provider.stats.retries == 2


def test_the_simulated_retry_after_is_the_wait(sim: Simulator) -> None:
    waits: list[float] = []
    sim.inject("429", path="*/organization/costs", count=1, retry_after=3)
    lines = costs(openai(sim, waits))
    assert waits == [3.0]
    assert sum(line.amount_pico for line in lines) == sim.billed("openai", START, NOW).total_pico


@pytest.mark.parametrize("drift", [f for f in FAULTS if f.startswith("schema-drift")])
def test_schema_drift_reads_to_the_same_totals(sim: Simulator, drift: str) -> None:
    sim.inject(drift, path="*/usage/completions", count=10)
    tokens, requests, _ = totals(usage(openai(sim), "completions"))
    truth = sim.ground_truth("openai", START, NOW, endpoint="completions")
    assert (tokens, requests) == (dict(truth.tokens), truth.requests)
    assert any(r.fault == drift for r in sim.requests_log)


@pytest.mark.parametrize("drift", [f for f in FAULTS if f.startswith("schema-drift")])
def test_schema_drift_in_the_cost_report_reads_to_the_same_bill(sim: Simulator, drift: str) -> None:
    sim.inject(drift, path="*/cost_report", count=10)
    lines = costs(anthropic(sim))
    assert sum(line.amount_pico for line in lines) == sim.billed("anthropic", START, NOW).total_pico


@pytest.mark.parametrize("fault", ["401", "403"])
def test_an_auth_fault_is_not_retried(sim: Simulator, fault: str) -> None:
    sim.inject(fault, path="*/usage/completions", count=1)
    with pytest.raises(ProviderAuthError) as caught:
        usage(openai(sim), "completions")
    assert len(sim.requests_log) == 1
    assert OPENAI_KEY not in str(caught.value)


def test_a_wrong_key_is_an_auth_error_naming_the_account(sim: Simulator) -> None:
    provider = anthropic(sim, api_key="sk-ant-admin01-wrong-key")
    with pytest.raises(ProviderAuthError, match=r"^anthropic-sim: the admin key was rejected \(HTTP 401"):
        usage(provider, "messages")
