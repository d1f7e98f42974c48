"""Scripted faults, authentication and the request log of the provider simulator, over real HTTP."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_simulator_support import (
    ALL_ANTHROPIC_GROUPS,
    ALL_OPENAI_GROUPS,
    ANTHROPIC_AUTH,
    ANTHROPIC_KEY,
    COMPLETIONS,
    COST_REPORT,
    COSTS,
    DAY,
    MESSAGES,
    OPENAI_AUTH,
    OPENAI_KEY,
    TODAY,
    Clock,
    iso,
)

from monitor.simulator import FAULTS, Simulator

START = TODAY - DAY
OPENAI_PARAMS = {"start_time": START, "bucket_width": "1h", "group_by[]": ALL_OPENAI_GROUPS}
ANTHROPIC_PARAMS = {"starting_at": iso(START), "bucket_width": "1h", "group_by[]": ALL_ANTHROPIC_GROUPS}


@pytest.fixture(scope="module")
def shared() -> Iterator[Simulator]:
    simulator = Simulator(seed=11, clock=Clock())
    simulator.timeout_hold = 1.0
    with simulator:
        yield simulator


@pytest.fixture
def sim(shared: Simulator) -> Iterator[Simulator]:
    shared.clear_faults()
    shared.reset_log()
    yield shared
    shared.clear_faults()


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c


def openai_get(client: httpx.Client, sim: Simulator, path: str = COMPLETIONS) -> httpx.Response:
    params = OPENAI_PARAMS if path == COMPLETIONS else {"start_time": START}
    return client.get(sim.openai_base_url + path, params=params, headers=OPENAI_AUTH)


def anthropic_get(client: httpx.Client, sim: Simulator, path: str = MESSAGES) -> httpx.Response:
    params = ANTHROPIC_PARAMS if path == MESSAGES else {"starting_at": iso(START)}
    return client.get(sim.anthropic_base_url + path, params=params, headers=ANTHROPIC_AUTH)


# ---- status faults --------------------------------------------------------------------------------------


def test_429_carries_the_given_retry_after_then_the_next_request_succeeds(
    client: httpx.Client, sim: Simulator
) -> None:
    sim.inject("429", retry_after=7)
    limited = openai_get(client, sim)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert openai_get(client, sim).status_code == 200


def test_429_retry_after_defaults_to_one_second(client: httpx.Client, sim: Simulator) -> None:
    sim.inject("429")
    limited = anthropic_get(client, sim)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert limited.json()["error"]["type"] == "rate_limit_error"


def test_429_without_retry_after_has_no_header(client: httpx.Client, sim: Simulator) -> None:
    sim.inject("429-no-retry-after")
    limited = openai_get(client, sim)
    assert limited.status_code == 429 and "retry-after" not in limited.headers


@pytest.mark.parametrize(("fault", "openai_type", "anthropic_type"), [
    ("500", "server_error", "api_error"),
    ("503", "server_error", "overloaded_error"),
    ("401", "invalid_request_error", "authentication_error"),
    ("403", "invalid_request_error", "permission_error"),
])  # fmt: skip
def test_status_faults_answer_in_each_providers_error_shape(
    client: httpx.Client, sim: Simulator, fault: str, openai_type: str, anthropic_type: str
) -> None:
    sim.inject(fault, count=2)
    from_openai, from_anthropic = openai_get(client, sim), anthropic_get(client, sim)
    assert from_openai.status_code == from_anthropic.status_code == int(fault)
    assert from_openai.json()["error"]["type"] == openai_type
    assert (
        from_anthropic.json()["type"] == "error" and from_anthropic.json()["error"]["type"] == anthropic_type
    )


def test_502_is_an_html_page_like_a_proxy_sends(client: httpx.Client, sim: Simulator) -> None:
    sim.inject("502")
    response = openai_get(client, sim)
    assert response.status_code == 502 and response.headers["content-type"].startswith("text/html")
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_a_fault_hits_only_the_next_count_requests_on_matching_paths(
    client: httpx.Client, sim: Simulator
) -> None:
    sim.inject("500", path="*/organization/costs", count=2)
    assert openai_get(client, sim).status_code == 200
    assert anthropic_get(client, sim, COST_REPORT).status_code == 200
    assert [openai_get(client, sim, COSTS).status_code for _ in range(3)] == [500, 500, 200]
    assert [r.fault for r in sim.requests_log] == [None, None, "500", "500", None]


def test_an_unknown_fault_name_is_refused(sim: Simulator) -> None:
    with pytest.raises(ValueError, match="unknown fault 'teapot'"):
        sim.inject("teapot")


# ---- connection faults ----------------------------------------------------------------------------------


def test_timeout_holds_the_connection_past_the_client_timeout(sim: Simulator) -> None:
    sim.inject("timeout")
    with httpx.Client(timeout=0.2) as impatient, pytest.raises(httpx.ReadTimeout):
        openai_get(impatient, sim)
    with httpx.Client(timeout=5) as patient:
        assert openai_get(patient, sim).status_code == 200
    assert [(r.fault, r.status) for r in sim.requests_log] == [("timeout", None), (None, 200)]


def test_stop_releases_a_held_connection_at_once() -> None:
    own = Simulator(seed=1, clock=Clock())
    own.timeout_hold = 60
    own.start()
    own.inject("timeout")
    errors: list[BaseException] = []

    def call() -> None:
        with httpx.Client(timeout=30) as c:
            try:
                openai_get(c, own)
            except httpx.TransportError as exc:
                errors.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    while not own.requests_log:
        time.sleep(0.01)
    began = time.monotonic()
    own.stop()
    worker.join(timeout=10)
    assert not worker.is_alive() and time.monotonic() - began < 5
    assert len(errors) == 1


def test_reset_closes_the_socket_without_a_response(client: httpx.Client, sim: Simulator) -> None:
    sim.inject("reset")
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        anthropic_get(client, sim)
    assert anthropic_get(client, sim).status_code == 200


def test_truncated_is_a_complete_200_whose_json_is_cut(client: httpx.Client, sim: Simulator) -> None:
    whole = openai_get(client, sim)
    sim.inject("truncated")
    cut = openai_get(client, sim)
    assert cut.status_code == 200 and 0 < len(cut.content) < len(whole.content)
    assert whole.content.startswith(cut.content)
    with pytest.raises(json.JSONDecodeError):
        cut.json()


# ---- schema drift ---------------------------------------------------------------------------------------


def test_unknown_fields_appear_in_results_buckets_and_envelope(client: httpx.Client, sim: Simulator) -> None:
    plain = openai_get(client, sim).json()
    sim.inject("schema-drift-unknown-fields")
    drifted = openai_get(client, sim).json()
    assert set(drifted) > set(plain)
    assert set(drifted["data"][0]) > set(plain["data"][0])
    row = next(r for b in drifted["data"] for r in b["results"])
    known = set(next(r for b in plain["data"] for r in b["results"]))
    assert set(row) > known
    assert {k: v for k, v in row.items() if k in known} == next(
        r for b in plain["data"] for r in b["results"]
    )


def _numbers(row: dict[str, Any], prefix: str = "") -> dict[str, int]:
    """Every numeric leaf of a row, missing or null read as 0 by the caller."""
    found: dict[str, int] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            found.update(_numbers(value, f"{prefix}{key}."))
        elif type(value) is int:
            found[prefix + key] = value
    return found


@pytest.mark.parametrize("drift", ["schema-drift-missing-optional", "schema-drift-nulls"])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_drift_changes_the_shape_but_not_the_values(
    client: httpx.Client, sim: Simulator, drift: str, provider: str
) -> None:
    fetch = (
        (lambda: openai_get(client, sim)) if provider == "openai" else (lambda: anthropic_get(client, sim))
    )
    plain = fetch().json()
    sim.inject(drift)
    drifted = fetch().json()
    plain_rows = [r for b in plain["data"] for r in b["results"]]
    drifted_rows = [r for b in drifted["data"] for r in b["results"]]
    assert drifted_rows != plain_rows and len(drifted_rows) == len(plain_rows)
    for before, after in zip(plain_rows, drifted_rows, strict=True):
        expected = {k: v for k, v in _numbers(before).items() if v}
        assert {k: v for k, v in _numbers(after).items() if v} == expected
    if drift == "schema-drift-nulls":  # some present value became null
        assert any(
            b[k] is not None and a.get(k) is None
            for b, a in zip(plain_rows, drifted_rows, strict=True)
            for k in b
        )
    else:  # some field is gone
        assert any(set(a) < set(b) for b, a in zip(plain_rows, drifted_rows, strict=True))


def test_missing_optional_keeps_the_required_openai_fields(client: httpx.Client, sim: Simulator) -> None:
    sim.inject("schema-drift-missing-optional")
    rows = [r for b in openai_get(client, sim).json()["data"] for r in b["results"]]
    assert rows and all(
        {"object", "input_tokens", "output_tokens", "num_model_requests"} <= set(r) for r in rows
    )
    assert any("input_audio_tokens" not in r for r in rows)


def test_drifted_costs_keep_the_exact_amounts(client: httpx.Client, sim: Simulator) -> None:
    params = {"start_time": START, "group_by[]": ["line_item"]}
    plain = client.get(sim.openai_base_url + COSTS, params=params, headers=OPENAI_AUTH).json(
        parse_float=Decimal
    )
    sim.inject("schema-drift-unknown-fields")
    drifted = client.get(sim.openai_base_url + COSTS, params=params, headers=OPENAI_AUTH).json(
        parse_float=Decimal
    )
    amounts = [[r["amount"]["value"] for r in b["results"]] for b in plain["data"]]
    assert amounts == [[r["amount"]["value"] for r in b["results"]] for b in drifted["data"]]


def test_every_fault_name_is_documented() -> None:
    text = (Path(__file__).parents[1] / "docs" / "simulator.md").read_text(encoding="utf-8")
    assert all(f"`{fault}`" in text for fault in FAULTS)


# ---- authentication and the log -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer sk-admin-wrong"}, {"Authorization": OPENAI_KEY}]
)
def test_openai_refuses_a_missing_or_wrong_key_without_echoing_it(
    client: httpx.Client, sim: Simulator, headers: dict[str, str]
) -> None:
    response = client.get(sim.openai_base_url + COMPLETIONS, params=OPENAI_PARAMS, headers=headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"
    assert "wrong" not in response.text and OPENAI_KEY not in response.text


def test_anthropic_refuses_a_wrong_key(client: httpx.Client, sim: Simulator) -> None:
    headers = {**ANTHROPIC_AUTH, "x-api-key": "sk-ant-admin-wrong"}
    response = client.get(sim.anthropic_base_url + MESSAGES, params=ANTHROPIC_PARAMS, headers=headers)
    assert response.status_code == 401 and response.json()["error"]["type"] == "authentication_error"
    assert "wrong" not in response.text


def test_anthropic_requires_the_version_header(client: httpx.Client, sim: Simulator) -> None:
    headers = {"x-api-key": ANTHROPIC_KEY}
    response = client.get(sim.anthropic_base_url + MESSAGES, params=ANTHROPIC_PARAMS, headers=headers)
    assert response.status_code == 400 and "anthropic-version" in response.json()["error"]["message"]


def test_an_unknown_path_is_404(client: httpx.Client, sim: Simulator) -> None:
    assert (
        client.get(sim.openai_base_url + "/organization/usage/teleport", headers=OPENAI_AUTH).status_code
        == 404
    )
    assert client.get(sim.url + "/elsewhere").status_code == 404


def test_the_log_keeps_multi_valued_queries_and_redacts_credentials(
    client: httpx.Client, sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="monitor.simulator")
    openai_get(client, sim)
    anthropic_get(client, sim)
    client.get(
        sim.openai_base_url + COMPLETIONS,
        params={"start_time": START, "note": OPENAI_KEY},
        headers=OPENAI_AUTH,
    )
    first, second, third = sim.requests_log
    assert first.query["group_by[]"] == tuple(ALL_OPENAI_GROUPS) and first.status == 200
    assert first.headers["authorization"] == "[redacted]" and second.headers["x-api-key"] == "[redacted]"
    assert second.headers["anthropic-version"] == "2023-06-01" and third.query["note"] == ("[redacted]",)
    everything = repr(sim.requests_log) + caplog.text
    assert OPENAI_KEY not in everything and ANTHROPIC_KEY not in everything
    sim.reset_log()
    assert sim.requests_log == []


def test_concurrent_clients_get_identical_answers(sim: Simulator) -> None:
    bodies: list[bytes] = []

    def fetch() -> None:
        with httpx.Client(timeout=10) as c:
            bodies.append(openai_get(c, sim).content)

    workers = [threading.Thread(target=fetch) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(bodies) == 8 and len(set(bodies)) == 1 and len(sim.requests_log) == 8


@pytest.mark.parametrize(
    "error", [ConnectionResetError(104, "reset"), BrokenPipeError(32, "pipe"), TimeoutError()]
)
def test_a_client_hanging_up_prints_no_traceback(
    sim: Simulator, error: OSError, capfd: pytest.CaptureFixture[str]
) -> None:
    server = sim._server  # the stdlib calls handle_error inside its except block
    assert server is not None
    try:
        raise error
    except OSError:
        server.handle_error(None, ("127.0.0.1", 1))
    assert capfd.readouterr().err == ""


def test_a_simulator_bug_still_prints_its_traceback(
    sim: Simulator, capfd: pytest.CaptureFixture[str]
) -> None:
    server = sim._server
    assert server is not None
    try:
        raise KeyError("bug")
    except KeyError:
        server.handle_error(None, ("127.0.0.1", 1))
    assert "KeyError: 'bug'" in capfd.readouterr().err
