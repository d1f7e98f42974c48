"""Hostile provider payloads, served over real loopback HTTP to the real adapters.

A provider answer is untrusted input. Each malformed page must end in a ProviderResponseError that
names the account, the endpoint and the field path (counted as a `bad_response`), and never in a
crash, a loop or a number written to the ledger. What does parse (unknown models, odd label values)
must be priced as unknown rather than free and rendered into an exposition that still parses,
whatever the label text.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from monitor.errors import ProviderResponseError
from monitor.ledger_view import total_rows
from monitor.metrics import AccountRef, Exposition, LedgerView, PollStats, UnpricedRow
from monitor.poller import AccountPoller
from monitor.pricing import Pricer, PriceTable
from monitor.providers.anthropic import AnthropicProvider
from monitor.providers.openai import OpenAIProvider
from monitor.records import TOKEN_INDEX, PricedRow, UsagePage, UsageRow, tokens_of
from monitor.store import Ledger

OPENAI_KEY = "sk-admin-payloadtest-OPENAI-7f3a9c"
ANTHROPIC_KEY = "sk-ant-admin01-payloadtest-ANTHROPIC-2b8d"
HOUR = 3600
DAY = 86400
T0 = 1_780_272_000  # 2026-06-01T00:00:00Z
NOW = T0 + 3 * DAY
OPENAI_USAGE = "/v1/organization/usage/completions"
OPENAI_COSTS = "/v1/organization/costs"
ANTHROPIC_USAGE = "/v1/organizations/usage_report/messages"
ANTHROPIC_COSTS = "/v1/organizations/cost_report"

Respond = Callable[[str, dict[str, list[str]]], tuple[int, bytes]]


class PayloadServer:
    """A loopback HTTP server whose every GET is answered by `respond(path, query)`."""

    def __init__(self) -> None:
        self.respond: Respond = lambda _path, _query: (404, b"{}")
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                server.hits += 1
                status, body = server.respond(parts.path, parse_qs(parts.query))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02})
        self._thread.start()

    def serve_pages(self, path: str, pages: list[bytes]) -> None:
        """Answer `path` with pages[i] for the cursor `c<i>` (no cursor: page 0)."""

        def respond(got: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
            if got != path:
                return 404, b'{"error": {"message": "not here"}}'
            index = int(query.get("page", ["c0"])[0][1:])
            return 200, pages[index]

        self.respond = respond

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def server() -> Iterator[PayloadServer]:
    srv = PayloadServer()
    yield srv
    srv.close()


def openai(server: PayloadServer) -> OpenAIProvider:
    return OpenAIProvider(
        account="openai-prod",
        api_key=OPENAI_KEY,
        base_url=f"{server.base_url}/v1",
        bucket_width="1h",
        max_attempts=2,
        sleep=lambda _s: None,
    )


def anthropic(server: PayloadServer) -> AnthropicProvider:
    return AnthropicProvider(
        account="anthropic",
        api_key=ANTHROPIC_KEY,
        base_url=server.base_url,
        bucket_width="1h",
        max_attempts=2,
        sleep=lambda _s: None,
    )


def iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def openai_page(*buckets: Any, has_more: Any = False, next_page: Any = None) -> dict[str, Any]:
    return {"object": "page", "data": list(buckets), "has_more": has_more, "next_page": next_page}


def openai_bucket(*results: Any, start: int = T0, width: int = HOUR) -> dict[str, Any]:
    return {"object": "bucket", "start_time": start, "end_time": start + width, "results": list(results)}


def completion(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "object": "organization.usage.completions.result",
        "input_tokens": 100,
        "output_tokens": 20,
        "num_model_requests": 2,
        "project_id": "proj_a",
        "model": "gpt-4.1-2025-04-14",
    }
    row.update(fields)
    return row


def anthropic_page(*buckets: Any, has_more: bool = False, next_page: Any = None) -> dict[str, Any]:
    return {"data": list(buckets), "has_more": has_more, "next_page": next_page}


def anthropic_bucket(*results: Any, start: int = T0, width: int = HOUR) -> dict[str, Any]:
    return {"starting_at": iso(start), "ending_at": iso(start + width), "results": list(results)}


def message(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "uncached_input_tokens": 100,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "cache_read_input_tokens": 0,
        "output_tokens": 20,
        "server_tool_use": {"web_search_requests": 0},
        "workspace_id": "wrkspc_a",
        "api_key_id": "apikey_a",
        "model": "claude-sonnet-4-5-20250929",
        "service_tier": "standard",
        "context_window": "0-200k",
    }
    row.update(fields)
    return row


def encode(body: Any) -> bytes:
    return json.dumps(body).encode()


def fetch_openai(server: PayloadServer) -> list[UsagePage]:
    return list(openai(server).fetch_usage("completions", T0, T0 + HOUR, observed_at=NOW * 1000, now=NOW))


def fetch_anthropic(server: PayloadServer) -> list[UsagePage]:
    return list(anthropic(server).fetch_usage("messages", T0, T0 + HOUR, observed_at=NOW * 1000, now=NOW))


# -- hostile values: each rejects the page, naming the field -------------------------------------

# fmt: off
OPENAI_CASES: list[Any] = [
    pytest.param(completion(input_tokens=2**70), "results[0].input_tokens", "between 0 and 10^15", id="tokens-2**70"),
    pytest.param(completion(output_tokens=-1), "results[0].output_tokens", "between 0 and 10^15", id="negative-tokens"),
    pytest.param(completion(input_tokens=12.0), "results[0].input_tokens", "expected a whole number", id="float-tokens"),
    pytest.param(completion(input_tokens="100"), "results[0].input_tokens", "expected a whole number", id="string-tokens"),
    pytest.param(completion(output_tokens=True), "results[0].output_tokens", "expected a whole number", id="bool-tokens"),
    pytest.param(completion(num_model_requests=None), "results[0].num_model_requests", "missing or null", id="null-requests"),
    pytest.param(completion(input_tokens=None), "results[0].input_tokens", "missing or null", id="null-input-tokens"),
    pytest.param(completion(model=42), "results[0].model", "expected a string or null", id="numeric-model"),
    pytest.param(completion(project_id={"id": "p"}), "results[0].project_id", "expected a string or null", id="object-project"),
    pytest.param(completion(batch="yes"), "results[0].batch", "expected true, false or null", id="string-batch"),
    pytest.param(completion(input_tokens=10, input_cached_tokens=11), "results[0]", "negative", id="cached-above-input"),
    pytest.param("a string result", "results[0]", "expected an object", id="result-not-object"),
]
# fmt: on


@pytest.mark.parametrize(("result", "field", "problem"), OPENAI_CASES)
def test_openai_hostile_result_is_rejected_naming_the_field(
    server: PayloadServer, result: Any, field: str, problem: str
) -> None:
    server.serve_pages(OPENAI_USAGE, [encode(openai_page(openai_bucket(result)))])
    with pytest.raises(ProviderResponseError) as caught:
        fetch_openai(server)
    message = str(caught.value)
    assert message.startswith(f"openai-prod: completions: page 1.data[0].{field}")
    assert problem in message
    assert OPENAI_KEY not in message
    assert caught.value.reason == "bad_response"


# fmt: off
ANTHROPIC_CASES: list[Any] = [
    pytest.param(message(uncached_input_tokens=2**70), "results[0].uncached_input_tokens", "between 0 and 10^15", id="tokens-2**70"),
    pytest.param(message(output_tokens=-20), "results[0].output_tokens", "between 0 and 10^15", id="negative-tokens"),
    pytest.param(message(output_tokens=3.5), "results[0].output_tokens", "expected a whole number", id="float-tokens"),
    pytest.param(message(cache_read_input_tokens=None), "results[0].cache_read_input_tokens", "missing or null", id="null-required"),
    pytest.param(message(cache_creation={"ephemeral_5m_input_tokens": "5"}), "results[0].cache_creation.ephemeral_5m_input_tokens", "expected a whole number", id="string-nested-tokens"),
    pytest.param(message(server_tool_use=[1]), "results[0].server_tool_use", "expected an object", id="list-tool-use"),
    pytest.param(message(context_window=200000), "results[0].context_window", "expected a string or null", id="numeric-context-window"),
    pytest.param(message(workspace_id=["w"]), "results[0].workspace_id", "expected a string or null", id="list-workspace"),
]
# fmt: on


@pytest.mark.parametrize(("result", "field", "problem"), ANTHROPIC_CASES)
def test_anthropic_hostile_result_is_rejected_naming_the_field(
    server: PayloadServer, result: Any, field: str, problem: str
) -> None:
    server.serve_pages(ANTHROPIC_USAGE, [encode(anthropic_page(anthropic_bucket(result)))])
    with pytest.raises(ProviderResponseError) as caught:
        fetch_anthropic(server)
    message = str(caught.value)
    assert message.startswith(f"anthropic: messages: page 1.data[0].{field}")
    assert problem in message
    assert ANTHROPIC_KEY not in message


# fmt: off
BUCKET_CASES: list[Any] = [
    pytest.param({"object": "bucket", "start_time": str(T0), "end_time": T0 + HOUR, "results": []}, "data[0].start_time", "expected unix seconds", id="string-start"),
    pytest.param({"object": "bucket", "start_time": 2**40, "end_time": 2**40 + HOUR, "results": []}, "data[0].start_time", "expected unix seconds", id="start-beyond-range"),
    pytest.param({"object": "bucket", "start_time": -HOUR, "end_time": 0, "results": []}, "data[0].start_time", "expected unix seconds", id="negative-start"),
    pytest.param({"object": "bucket", "start_time": T0, "end_time": None, "results": []}, "data[0].end_time", "expected unix seconds", id="null-end"),
    pytest.param({"object": "bucket", "start_time": T0, "end_time": T0 + HOUR, "results": None}, "data[0].results", "expected a list", id="null-results"),
    pytest.param({"object": "bucket", "start_time": T0, "end_time": T0 + HOUR}, "data[0].results", "expected a list", id="missing-results"),
    pytest.param(["not", "a", "bucket"], "data[0]", "expected an object", id="bucket-is-a-list"),
]
# fmt: on


@pytest.mark.parametrize(("bucket", "field", "problem"), BUCKET_CASES)
def test_openai_hostile_bucket_is_rejected_naming_the_field(
    server: PayloadServer, bucket: Any, field: str, problem: str
) -> None:
    server.serve_pages(OPENAI_USAGE, [encode(openai_page(bucket))])
    with pytest.raises(ProviderResponseError) as caught:
        fetch_openai(server)
    assert str(caught.value).startswith(f"openai-prod: completions: page 1.{field}")
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    ("starting_at", "problem"),
    [
        pytest.param("not a time", "expected an RFC 3339 time with a zone", id="words"),
        pytest.param("2026-06-01T00:00:00", "expected an RFC 3339 time with a zone", id="no-zone"),
        pytest.param(None, "expected an RFC 3339 time with a zone", id="null"),
        pytest.param(1780272000, "expected a string or null", id="unix-number"),
    ],
)
def test_anthropic_hostile_bucket_time_is_rejected(
    server: PayloadServer, starting_at: Any, problem: str
) -> None:
    bucket = {"starting_at": starting_at, "ending_at": iso(T0 + HOUR), "results": []}
    server.serve_pages(ANTHROPIC_USAGE, [encode(anthropic_page(bucket))])
    with pytest.raises(ProviderResponseError) as caught:
        fetch_anthropic(server)
    assert str(caught.value).startswith("anthropic: messages: page 1.data[0].starting_at")
    assert problem in str(caught.value)


# -- hostile envelopes and pagination ------------------------------------------------------------

# fmt: off
ENVELOPE_CASES: list[Any] = [
    pytest.param({"object": "page", "has_more": False, "next_page": None}, "page 1.data", "expected a list", id="missing-data"),
    pytest.param({"object": "page", "data": {"0": {}}, "has_more": False}, "page 1.data", "expected a list", id="data-is-an-object"),
    pytest.param({"object": "page", "data": None, "has_more": False}, "page 1.data", "expected a list", id="null-data"),
    pytest.param({"object": "page", "data": [], "has_more": "false"}, "page 1.has_more", "expected true or false", id="string-has-more"),
    pytest.param({"object": "page", "data": []}, "page 1.has_more", "expected true or false", id="missing-has-more"),
    pytest.param({"object": "page", "data": [], "has_more": True, "next_page": None}, "page 1.next_page", "has_more is true but next_page is empty", id="has-more-null-next-page"),
    pytest.param({"object": "page", "data": [], "has_more": True, "next_page": ""}, "page 1.next_page", "has_more is true but next_page is empty", id="has-more-empty-next-page"),
    pytest.param({"object": "page", "data": [], "has_more": True, "next_page": 7}, "page 1.next_page", "expected a string or null", id="numeric-next-page"),
    pytest.param({"object": "list", "data": [], "has_more": False}, "page 1", "expected a page object", id="not-a-page-object"),
]
# fmt: on


@pytest.mark.parametrize(("body", "field", "problem"), ENVELOPE_CASES)
def test_hostile_envelope_is_rejected_naming_the_field(
    server: PayloadServer, body: dict[str, Any], field: str, problem: str
) -> None:
    server.serve_pages(OPENAI_USAGE, [encode(body)])
    with pytest.raises(ProviderResponseError) as caught:
        fetch_openai(server)
    assert str(caught.value).startswith(f"openai-prod: completions: {field}")
    assert problem in str(caught.value)


def test_a_cursor_that_repeats_forever_stops_with_an_error(server: PayloadServer) -> None:
    looping = encode(openai_page(openai_bucket(completion()), has_more=True, next_page="c1"))
    server.serve_pages(OPENAI_USAGE, [looping, looping])
    pages: list[UsagePage] = []
    with pytest.raises(ProviderResponseError, match="the cursor repeats an earlier one; stopped a loop"):
        pages.extend(openai(server).fetch_usage("completions", T0, T0 + HOUR, observed_at=1, now=NOW))
    assert len(pages) == 2  # both answers were read; the repeated cursor was never requested
    assert server.hits == 2


def test_a_cursor_cycle_between_two_pages_stops_with_an_error(server: PayloadServer) -> None:
    first = encode(anthropic_page(anthropic_bucket(message()), has_more=True, next_page="c1"))
    second = encode(
        anthropic_page(anthropic_bucket(message(), start=T0 + HOUR), has_more=True, next_page="c0")
    )
    server.serve_pages(ANTHROPIC_USAGE, [first, second])
    with pytest.raises(ProviderResponseError, match="stopped a loop"):
        fetch_anthropic(server)
    assert server.hits == 3  # c0 (no cursor), c1, then c0 again whose next_page c1 was seen


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        pytest.param(b"<html><body>502 Bad Gateway</body></html>", "not valid JSON", id="html"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "not valid JSON", id="nested-100k-deep"),
        pytest.param(
            b'{"object": "page", "data": [], "has_more": ' + b"9" * 5000 + b"}",
            "not valid JSON",
            id="5000-digit-number",
        ),
        pytest.param(b'{"object": "page", "data": [], "has_more": NaN}', "not valid JSON", id="nan"),
        pytest.param(b"null", "not an object", id="null-body"),
    ],
)
def test_an_unparseable_body_is_a_response_error_after_the_retries(
    server: PayloadServer, body: bytes, problem: str
) -> None:
    server.respond = lambda _path, _query: (200, body)
    with pytest.raises(ProviderResponseError) as caught:
        fetch_openai(server)
    assert problem in str(caught.value)
    assert "gave up after 2 attempt(s)" in str(caught.value)
    assert server.hits == 2


# -- hostile cost lines --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "field", "problem"),
    [
        pytest.param(
            {"value": "12.5", "currency": "usd"},
            "amount.value",
            "expected a number of dollars",
            id="string-dollars",
        ),
        pytest.param(
            {"value": None, "currency": "usd"},
            "amount.value",
            "expected a number of dollars",
            id="null-dollars",
        ),
        pytest.param(
            {"value": 1, "currency": ""}, "amount.currency", "expected a currency code", id="no-currency"
        ),
        pytest.param("12.5", "amount", "expected an object", id="amount-not-object"),
    ],
)
def test_openai_hostile_cost_line_is_rejected(
    server: PayloadServer, amount: Any, field: str, problem: str
) -> None:
    line = {"object": "organization.costs.result", "amount": amount, "line_item": "x", "project_id": "p"}
    server.serve_pages(OPENAI_COSTS, [encode(openai_page(openai_bucket(line, width=DAY)))])
    with pytest.raises(ProviderResponseError) as caught:
        list(openai(server).fetch_costs(T0, T0 + DAY, now=NOW))
    assert str(caught.value).startswith(f"openai-prod: costs: page 1.data[0].results[0].{field}")
    assert problem in str(caught.value)


def test_openai_cost_too_large_for_the_ledger_is_rejected(server: PayloadServer) -> None:
    body = encode(openai_page(openai_bucket({"amount": {"value": 0, "currency": "usd"}}, width=DAY)))
    server.serve_pages(OPENAI_COSTS, [body.replace(b'"value": 0', b'"value": 1e400')])
    with pytest.raises(
        ProviderResponseError, match=r"results\[0\]\.amount\.value: the amount .* is not a usable number"
    ):
        list(openai(server).fetch_costs(T0, T0 + DAY, now=NOW))


@pytest.mark.parametrize(
    "cents",
    [
        pytest.param("NaN", id="nan"),
        pytest.param("Infinity", id="infinity"),
        pytest.param("1e30", id="beyond-sqlite-integers"),
        pytest.param("twelve", id="words"),
        pytest.param(12.5, id="number-not-string"),
    ],
)
def test_anthropic_hostile_cost_amount_is_rejected(server: PayloadServer, cents: Any) -> None:
    line = {"currency": "USD", "amount": cents, "workspace_id": None, "description": "x"}
    server.serve_pages(ANTHROPIC_COSTS, [encode(anthropic_page(anthropic_bucket(line, width=DAY)))])
    with pytest.raises(ProviderResponseError) as caught:
        list(anthropic(server).fetch_costs(T0, T0 + DAY, now=NOW))
    assert str(caught.value).startswith("anthropic: cost_report: page 1.data[0].results[0].amount")


def test_anthropic_cost_amount_with_a_huge_exponent_is_rejected(server: PayloadServer) -> None:
    line = {"currency": "USD", "amount": "1e9999999", "workspace_id": None, "description": "x"}
    server.serve_pages(ANTHROPIC_COSTS, [encode(anthropic_page(anthropic_bucket(line, width=DAY)))])
    with pytest.raises(ProviderResponseError, match=r"results\[0\]\.amount"):
        list(anthropic(server).fetch_costs(T0, T0 + DAY, now=NOW))


# -- what parses: unknown models, odd labels -> ledger -> exposition ------------------------------


def write_pages(ledger_path: Path, pages: list[UsagePage]) -> None:
    """Price the pages with the bundled table and write them to the ledger, as the poller does."""
    pricer = Pricer(PriceTable.bundled())
    with Ledger.open(ledger_path) as ledger:
        for page in pages:
            ledger.write_page(page, pricer.price_rows(page.rows))


def exposition_of(ledger_path: Path) -> Exposition:
    """The exposition the daemon would publish from this ledger's totals and unpriced tokens."""
    with Ledger.open(ledger_path) as ledger:
        view = LedgerView(
            totals=total_rows(ledger),
            unpriced=[
                UnpricedRow(u["provider"], u["account"], u["model"], int(u["tokens"]))
                for u in ledger.unpriced()
            ],
        )
    exposition = Exposition()
    accounts = [
        AccountRef("openai", "openai-prod", ("completions",)),
        AccountRef("anthropic", "anthropic", ("messages",)),
    ]
    exposition.update(view, PollStats(accounts), version="test", now=float(NOW))
    return exposition


def test_an_unknown_model_is_counted_unpriced_never_priced_at_zero(server: PayloadServer) -> None:
    rows = [completion(model="gpt-imaginary-9", input_tokens=700, output_tokens=77), completion()]
    server.serve_pages(OPENAI_USAGE, [encode(openai_page(openai_bucket(*rows)))])
    pages = fetch_openai(server)
    priced = {p.usage.model: p for p in Pricer(PriceTable.bundled()).price_rows(pages[0].rows)}

    unknown = priced["gpt-imaginary-9"]
    assert unknown.price_id is None
    assert unknown.unpriced_tokens == 700 + 77
    assert priced["gpt-4.1-2025-04-14"].price_id is not None
    assert priced["gpt-4.1-2025-04-14"].total > 0


def test_an_unknown_model_reaches_the_unpriced_metric(server: PayloadServer, tmp_path: Path) -> None:
    server.serve_pages(
        OPENAI_USAGE, [encode(openai_page(openai_bucket(completion(model="gpt-imaginary-9"))))]
    )
    write_pages(tmp_path / "ledger.db", fetch_openai(server))
    body, _, _ = exposition_of(tmp_path / "ledger.db").render()
    samples = {(s.name, s.labels.get("model")): s.value for f in parse_text(body.decode()) for s in f.samples}
    assert samples[("llm_unpriced_tokens_total", "gpt-imaginary-9")] == 100 + 20


def test_an_unknown_model_has_no_zero_cost_series(server: PayloadServer, tmp_path: Path) -> None:
    server.serve_pages(
        OPENAI_USAGE, [encode(openai_page(openai_bucket(completion(model="gpt-imaginary-9"))))]
    )
    write_pages(tmp_path / "ledger.db", fetch_openai(server))
    body, _, _ = exposition_of(tmp_path / "ledger.db").render()
    costs = [
        s for f in parse_text(body.decode()) for s in f.samples
        if s.name == "llm_cost_usd_total" and s.labels["model"] == "gpt-imaginary-9"
    ]  # fmt: skip
    assert costs == []


def test_a_partly_unpriced_model_exports_only_its_priced_cost(server: PayloadServer, tmp_path: Path) -> None:
    # gpt-4.1 has text prices but none for audio input: the audio tokens are unpriced.
    row = completion(input_tokens=100, input_audio_tokens=30, output_tokens=20)
    server.serve_pages(OPENAI_USAGE, [encode(openai_page(openai_bucket(row)))])
    pages = fetch_openai(server)
    write_pages(tmp_path / "ledger.db", pages)
    (priced,) = Pricer(PriceTable.bundled()).price_rows(pages[0].rows)
    body, _, _ = exposition_of(tmp_path / "ledger.db").render()
    samples = [s for f in parse_text(body.decode()) for s in f.samples]
    costs = {s.labels["token_type"]: s.value for s in samples if s.name == "llm_cost_usd_total"}
    tokens = {s.labels["token_type"]: s.value for s in samples if s.name == "llm_tokens_total"}
    assert tokens == {"input": 100, "input_audio": 30, "output": 20}
    assert costs == {
        "input": priced.costs[TOKEN_INDEX["input"]] / 1e12,
        "output": priced.costs[TOKEN_INDEX["output"]] / 1e12,
    }
    assert costs["input"] > 0


HOSTILE_LABELS: list[Any] = [
    pytest.param("proj_🚀💸", id="emoji"),
    pytest.param("\u202eproj_evil\u202c", id="rtl-override"),
    pytest.param("מִשְׁלָחַת-פרויקט", id="hebrew"),
    pytest.param("proj\u200b_a\u200d", id="zero-width"),
    pytest.param('p"} 1\nfake_metric 2', id="exposition-injection"),
    pytest.param('a\\"b\\\\c\\n', id="backslashes-and-quotes"),
    pytest.param("line1\r\nline2\n# HELP fake_metric x\n# TYPE fake_metric counter", id="comment-injection"),
    pytest.param("x" * 5000, id="5000-chars"),
]


def _usage_samples(text: str, parse: Callable[[str], Any]) -> tuple[set[str], list[Any]]:
    families = list(parse(text))
    names = {f.name for f in families}
    samples = [s for f in families for s in f.samples if s.name.startswith("llm_tokens")]
    return names, samples


@pytest.mark.parametrize("label", HOSTILE_LABELS)
def test_hostile_label_values_round_trip_through_ledger_and_exposition(
    server: PayloadServer, tmp_path: Path, label: str
) -> None:
    server.serve_pages(OPENAI_USAGE, [encode(openai_page(openai_bucket(completion(project_id=label))))])
    server_pages = fetch_openai(server)
    assert server_pages[0].rows[0].project == label
    write_pages(tmp_path / "ledger.db", server_pages)
    exposition = exposition_of(tmp_path / "ledger.db")

    text, _, _ = exposition.render()
    names, samples = _usage_samples(text.decode(), parse_text)
    assert "fake_metric" not in names
    assert {s.labels["project"] for s in samples} == {label}

    openmetrics, _, _ = exposition.render("application/openmetrics-text; version=1.0.0")
    names, samples = _usage_samples(openmetrics.decode(), parse_openmetrics)
    assert "fake_metric" not in names
    assert {s.labels["project"] for s in samples} == {label}


@pytest.mark.parametrize("label", HOSTILE_LABELS)
def test_hostile_anthropic_model_names_round_trip_unpriced(
    server: PayloadServer, tmp_path: Path, label: str
) -> None:
    server.serve_pages(ANTHROPIC_USAGE, [encode(anthropic_page(anthropic_bucket(message(model=label))))])
    write_pages(tmp_path / "ledger.db", fetch_anthropic(server))
    text, _, _ = exposition_of(tmp_path / "ledger.db").render()
    families = {f.name: f for f in parse_text(text.decode())}
    assert "fake_metric" not in families
    unpriced = families["llm_unpriced_tokens"].samples
    assert [(s.labels["model"], s.value) for s in unpriced] == [(label, 120.0)]


@pytest.mark.parametrize(
    "context_window",
    [
        pytest.param("²k-1M", id="superscript-digit"),
        pytest.param("9" * 5000 + "k-1M", id="5000-digit-bound"),
    ],
)
def test_a_hostile_context_window_is_priced_without_crashing(
    server: PayloadServer, context_window: str
) -> None:
    server.serve_pages(
        ANTHROPIC_USAGE, [encode(anthropic_page(anthropic_bucket(message(context_window=context_window))))]
    )
    (page,) = fetch_anthropic(server)
    (priced,) = Pricer(PriceTable.bundled()).price_rows(page.rows)
    assert priced.usage.context_window == context_window


def test_a_hostile_context_window_is_priced_at_the_base_context_and_warned_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def row(context_window: str) -> UsageRow:
        return UsageRow(
            provider="anthropic",
            account="anthropic",
            endpoint="messages",
            bucket_start=T0,
            bucket_width=HOUR,
            model="claude-sonnet-4-5-20250929",
            context_window=context_window,
            tokens=tokens_of(input=1000, output=100),
        )

    pricer = Pricer(PriceTable.bundled())
    with caplog.at_level(logging.WARNING, logger="monitor.pricing"):
        garbage = pricer.price_rows([row("²k-1M"), row("9" * 5000 + "k-1M"), row("huge")])
    base = Pricer(PriceTable.bundled()).price(row("0-200k"))
    assert [p.costs for p in garbage] == [base.costs] * 3
    assert [p.price_id for p in garbage] == [base.price_id] * 3
    assert len([r for r in caplog.records if "not a token range" in r.getMessage()]) == 1


# -- pagination that never ends ------------------------------------------------------------------


def test_endless_new_cursors_stop_at_the_page_cap(server: PayloadServer) -> None:
    def respond(_path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
        number = int(query.get("page", ["c0"])[0][1:])
        return 200, encode(openai_page(openai_bucket(), has_more=True, next_page=f"c{number + 1}"))

    server.respond = respond
    adapter = OpenAIProvider(
        account="openai-prod",
        api_key=OPENAI_KEY,
        base_url=f"{server.base_url}/v1",
        max_attempts=1,
        max_pages=5,
        sleep=lambda _s: None,
    )
    with pytest.raises(ProviderResponseError, match=r"page 5\.next_page: still more pages after 5") as caught:
        list(adapter.fetch_usage("completions", T0, T0 + HOUR, observed_at=1, now=NOW))
    adapter.close()
    assert caught.value.reason == "bad_response"
    assert server.hits == 5


# -- the poller: one bad page fails its endpoint, never the daemon --------------------------------


class PricerWithABug(Pricer):
    """The real pricer, except that rows of one model raise as an unforeseen bug would."""

    def price_rows(self, rows: Iterable[UsageRow]) -> list[PricedRow]:
        rows = list(rows)
        if any(row.model == "gpt-bug" for row in rows):
            raise ZeroDivisionError("a bug in pricing")
        return super().price_rows(rows)


def two_endpoint_server(server: PayloadServer, completions_model: str) -> None:
    """completions answers one row of `completions_model`, embeddings one row of a priced model."""
    bodies = {
        OPENAI_USAGE: encode(openai_page(openai_bucket(completion(model=completions_model)))),
        "/v1/organization/usage/embeddings": encode(
            openai_page(
                openai_bucket(
                    {"input_tokens": 50, "num_model_requests": 1, "model": "text-embedding-3-small"}
                )
            )
        ),
    }
    server.respond = lambda path, _query: (200, bodies[path]) if path in bodies else (404, b"{}")


def poller(server: PayloadServer, pricer: Pricer) -> AccountPoller:
    adapter = OpenAIProvider(
        account="openai-prod",
        api_key=OPENAI_KEY,
        base_url=f"{server.base_url}/v1",
        endpoints=("completions", "embeddings"),
        max_attempts=1,
        sleep=lambda _s: None,
    )
    return AccountPoller(adapter, pricer, revision_window=0, initial_start=lambda _now: T0, fetch_costs=False)


def test_an_unexpected_pricing_error_fails_only_its_endpoint(
    server: PayloadServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    two_endpoint_server(server, "gpt-bug")
    with Ledger.open(tmp_path / "ledger.db") as ledger, caplog.at_level(logging.WARNING, "monitor.poller"):
        result = poller(server, PricerWithABug(PriceTable.bundled())).poll(ledger, T0 + 2 * HOUR)
        written = {row.endpoint for row, _ in ledger.iter_usage()}
    outcomes = {e.endpoint: (e.ok, e.reason, e.rows) for e in result.endpoints}
    assert outcomes == {"completions": (False, "internal", 0), "embeddings": (True, "", 1)}
    assert written == {"embeddings"}  # nothing of the page that failed
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage().startswith("openai-prod/completions: poll failed (internal)")


def test_a_failed_store_write_is_logged_as_an_error_of_the_store(
    server: PayloadServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    two_endpoint_server(server, "gpt-4.1-2025-04-14")
    path = tmp_path / "ledger.db"
    Ledger.open(path).close()
    with sqlite3.connect(path) as conn:  # the disk refuses every usage row
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON usage BEGIN SELECT RAISE(ABORT, 'refused'); END")
    conn.close()
    with Ledger.open(path) as ledger, caplog.at_level(logging.WARNING, "monitor.poller"):
        result = poller(server, Pricer(PriceTable.bundled())).poll(ledger, T0 + 2 * HOUR)
    assert [(e.endpoint, e.ok, e.reason) for e in result.endpoints] == [
        ("completions", False, "store"),
        ("embeddings", False, "store"),
    ]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert [m.split(":")[0] for m in errors] == ["openai-prod/completions", "openai-prod/embeddings"]
    assert all("poll failed (store)" in m and "refused" in m for m in errors)


def test_a_rejected_key_is_logged_naming_the_account_once(
    server: PayloadServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server.respond = lambda _path, _query: (401, b'{"error": {"message": "invalid admin key"}}')
    with Ledger.open(tmp_path / "ledger.db") as ledger, caplog.at_level(logging.ERROR, "monitor.poller"):
        result = poller(server, Pricer(PriceTable.bundled())).poll(ledger, T0 + 2 * HOUR)
    assert not result.healthy
    (record,) = caplog.records
    assert record.getMessage().startswith("openai-prod: the admin key was rejected")
    assert record.getMessage().count("openai-prod") == 1
